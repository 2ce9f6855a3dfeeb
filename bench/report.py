"""Print the benchmark table and check the targets (authz >= 0.8x ping, p99 <= 10 ms, no errors).

Exits 1 if any answer was not 200 (a correctness failure); missed speed targets are
reported but depend on the machine, so they do not fail the run.
"""

import json
import sys

TARGET_RATIO = 0.8
TARGET_P99_MS = 10.0


def main(path: str, connections: str, workers: str, worker_class: str) -> int:
    with open(path, encoding="utf-8") as handle:
        results = {row["name"]: row for row in map(json.loads, handle) if row}
    ping = results["ping"]["rps"]
    print(f"\n{connections} connections, gunicorn {workers} {worker_class} workers\n")
    print(
        f"{'scenario':<8} {'req/s':>9} {'vs ping':>8} {'p50 ms':>8} {'p90 ms':>8} "
        f"{'p99 ms':>8} {'max ms':>8} {'non-200':>8} {'sock err':>8} "
        f"{'app cpu ms/req':>15} {'redis cpu ms/req':>17}"
    )
    failed = False
    for name, row in results.items():
        ratio = row["rps"] / ping if ping else 0.0
        print(
            f"{name:<8} {row['rps']:>9.1f} {ratio:>8.2f} {row['p50_ms']:>8.2f} "
            f"{row['p90_ms']:>8.2f} {row['p99_ms']:>8.2f} {row['max_ms']:>8.2f} "
            f"{row['non_200']:>8d} {row['socket_errors']:>8d} "
            f"{row['app_cpu_ms_per_req']:>15.3f} {row['redis_cpu_ms_per_req']:>17.3f}"
        )
        failed = failed or row["non_200"] > 0
    print()
    for name in ("cookie", "apikey"):
        row = results.get(name)
        if row is None:
            continue
        ratio = row["rps"] / ping if ping else 0.0
        verdict = "met" if ratio >= TARGET_RATIO and row["p99_ms"] <= TARGET_P99_MS else "MISSED"
        print(
            f"target {name}: {ratio:.2f}x ping (>= {TARGET_RATIO}), "
            f"p99 {row['p99_ms']:.2f} ms (<= {TARGET_P99_MS}) -> {verdict}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
