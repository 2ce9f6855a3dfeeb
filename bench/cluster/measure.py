"""What HAProxy and PgBouncer cost: authz and logins through the cluster and direct.

``make bench-cluster`` (bench/cluster/run) starts the ``make cluster`` topology, then one
more gunicorn node ("direct": same code, settings and worker count as a cluster node) that
talks to the PostgreSQL primary and the Redis primary directly. Each scenario runs through
HAProxy (two nodes, PgBouncer, Redis behind HAProxy) and against the direct node, back to
back, twice in the order cluster, direct, direct, cluster; the table shows both runs' sum
of requests over their time, the ratio, the p99, and the CPU each piece spent per request
(read from /proc), Redis's included: the one-Redis ceiling in docs/operations.md comes
from it. Results go into docs/BENCHMARKS.md between the markers of its section.
"""

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))

from ops.cluster.layout import create  # noqa: E402
from ops.cluster.probes import free_ports, pid_alive, wait_for  # noqa: E402
from ops.cluster.topology import Cluster, stop  # noqa: E402

DURATION = int(os.environ.get("BENCH_DURATION", "15"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
POST_CONNECTIONS = int(os.environ.get("BENCH_POST_CONNECTIONS", "4"))
UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"
TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")
DOC = ROOT / "docs" / "BENCHMARKS.md"
BEGIN, END = "<!-- bench-cluster:begin -->", "<!-- bench-cluster:end -->"


def log(text: str) -> None:
    print(f"bench-cluster: {text}", file=sys.stderr, flush=True)


def cpu_ms(pids: list[int]) -> float:
    """CPU time of these processes, their reaped children included."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(value) for value in fields[11:15])
    return total * TICK_MS


def children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False)
    return [int(x) for x in found.stdout.split()]


def wrk(url: str, connections: int, script: str, *args: str, headers=(), seconds=DURATION) -> dict:
    command = [
        "wrk",
        "-t",
        "2",
        "-c",
        str(connections),
        "-d",
        f"{seconds}s",
        "-H",
        f"User-Agent: {UA}",
    ]
    for header in headers:
        command += ["-H", header]
    command += ["-s", str(ROOT / "bench" / script), url, "--", *args]
    done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 60)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    log("starting the cluster (make cluster's topology)")
    cluster = create(extra_env={"BARONG_RATE_LIMITS": "off", "LOG_LEVEL": "WARNING"})
    direct = None
    try:
        env = {**os.environ, **cluster.env()}
        primary = cluster.redis_primary()
        (direct_port,) = free_ports(1)
        direct_env = {
            **env,
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:{cluster.ports['pg-primary']}/barong",
            "DATABASE_PGBOUNCER": "false",
            "DATABASE_REPLICA_URL": "",
            "REDIS_URL": f"redis://127.0.0.1:{cluster.ports[primary]}/0",
        }
        argv = list(cluster.services["app-1"].argv)
        argv[argv.index("-b") + 1] = f"127.0.0.1:{direct_port}"
        with open(cluster.root / "log" / "direct.log", "ab") as out:
            direct = subprocess.Popen(
                argv, cwd=ROOT, env=direct_env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        wait_for(lambda: Cluster._http_ok(direct_port, "/api/v2/health/alive"), 60, "direct node")
        users = json.loads(
            subprocess.run(
                [sys.executable, "bench/prepare.py"],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        import requests

        login = requests.post(
            cluster.url("/api/v2/identity/sessions"),
            json={"email": users["email"], "password": users["password"]},
            headers={"User-Agent": UA},
            timeout=30,
        )
        assert login.status_code == 200, login.text
        cookie = f"Cookie: _barong_session={login.cookies['_barong_session']}"
        targets = {
            "cluster": cluster.url(),
            "direct": f"http://127.0.0.1:{direct_port}",
        }
        pieces = {
            "cluster": {
                "app": lambda: [
                    p for n in ("app-1", "app-2") for p in children(cluster.services[n].pid)
                ],
                "haproxy": lambda: [cluster.services["haproxy"].pid],
                "pgbouncer": lambda: [cluster.services["pgbouncer-primary"].pid],
            },
            "direct": {"app": lambda: children(direct.pid)},
        }
        shared = {
            "postgres": lambda: [
                cluster.services["pg-primary"].pid,
                *children(cluster.services["pg-primary"].pid),
            ],
            "redis": lambda: [cluster.services[primary].pid],
        }
        scenarios = [
            ("authz (cookie)", "/api/v2/auth/api/v2/barong/resource/users/me", CONNECTIONS,
             "wrk.lua", (), (cookie,)),
            ("login", "/api/v2/identity/sessions", POST_CONNECTIONS, "post.lua",
             ("login", users["email"], users["password"]), ()),
        ]  # fmt: skip
        rows = []
        for name, path, connections, script, args, headers in scenarios:
            for target in targets.values():  # warm-up: every worker's caches filled
                wrk(target + path, connections, script, *args, headers=headers, seconds=3)
            runs: dict[str, list[dict]] = {"cluster": [], "direct": []}
            for which in ("cluster", "direct", "direct", "cluster"):
                meters = {**pieces[which], **shared}
                before = {piece: cpu_ms(get()) for piece, get in meters.items()}
                log(f"{name}, {which}: {DURATION}s, {connections} connections")
                result = wrk(targets[which] + path, connections, script, *args, headers=headers)
                result["cpu"] = {
                    piece: (cpu_ms(get()) - before[piece]) / max(result["requests"], 1)
                    for piece, get in meters.items()
                }
                runs[which].append(result)
            rows.append((name, connections, runs))
        load = os.getloadavg()
        table = report(rows, load)
        print(table)
        if not os.environ.get("BENCH_NO_WRITE"):
            write(table)
        return 0
    finally:
        if direct is not None and pid_alive(direct.pid):
            os.killpg(direct.pid, 15)
            direct.wait(30)
        stop(cluster.root)


def report(rows, load) -> str:
    lines = [
        f"`make bench-cluster`, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average "
        f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1 / 5 / 15 min), {DURATION} s per run, "
        "two runs each in the order cluster, direct, direct, cluster:",
        "",
        "| scenario | path | connections | req/s | vs direct | p99 ms (runs) | non-2xx "
        "| app CPU ms/req | HAProxy | PgBouncer | PostgreSQL | Redis |",
        "|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, connections, runs in rows:
        rps = {}
        for which in ("cluster", "direct"):
            done = runs[which]
            rps[which] = sum(r["requests"] for r in done) / sum(r["duration_s"] for r in done)
        for which in ("cluster", "direct"):
            done = runs[which]
            cpu = {
                piece: sum(r["cpu"].get(piece, 0) for r in done) / len(done)
                for piece in ("app", "haproxy", "pgbouncer", "postgres", "redis")
            }
            path = "HAProxy → 2 nodes → PgBouncer" if which == "cluster" else "1 node, direct"
            ratio = f"{rps[which] / rps['direct']:.2f}"
            p99 = " / ".join(f"{r['p99_ms']:.1f}" for r in done)
            errors = sum(r["non_200"] + r["socket_errors"] for r in done)
            hops = [
                f"{cpu[piece]:.3f}" if which == "cluster" else "—"
                for piece in ("haproxy", "pgbouncer")
            ]
            lines.append(
                f"| {name} | {path} | {connections} | {rps[which]:.0f} | {ratio} | {p99} "
                f"| {errors} | {cpu['app']:.3f} | {hops[0]} | {hops[1]} "
                f"| {cpu['postgres']:.3f} | {cpu['redis']:.4f} |"
            )
    return "\n".join(lines)


def write(table: str) -> None:
    text = DOC.read_text()
    block = f"{BEGIN}\n{table}\n{END}"
    if BEGIN in text:
        text = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    DOC.write_text(text)
    log(f"written into {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
