"""The curve: one table of every figure from several `make bench-scale` results files.

    python bench/scale/curve.py var/100k.md var/1m.md var/10m.md

Each file is what ``BENCH_SCALE_RESULTS`` wrote for one size. Prints a Markdown table, one
column a size, and names each figure's growth from the smallest to the largest size
(the figures' ratio against the users' ratio): flat, logarithmic or linear.
"""

import math
import re
import sys
from pathlib import Path


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def figures(text: str) -> dict[str, tuple[float, str]]:
    """Figure name → (value, shown text) of one results file."""
    found: dict[str, tuple[float, str]] = {}

    def put(name: str, value: float, shown: str | None = None) -> None:
        found[name] = (value, shown if shown is not None else f"{value:g}")

    if m := re.search(r"USERS=(\d+) \(([^,]+), load average ([0-9. ]+)\)", text):
        put("users", int(m.group(1)), f"{int(m.group(1)):,}")
        put("measured", 0, f"{m.group(2)}, load {m.group(3).split()[0]}")
    if m := re.search(r"built in (\d+) s .*upgrade \(migrate\) (\d+) s", text):
        put("data set built, s", _number(m.group(1)))
        put("upgrade (migrate), s", _number(m.group(2)))
    if m := re.search(r"first call, (\d+) s after the upgrade: (\d+) ms", text):
        put("/admin/metrics first call after the upgrade, ms", _number(m.group(2)))
    if m := re.search(r"largest error ([0-9.]+)%", text):
        put("estimated totals, largest error %", _number(m.group(1)))
    rows: dict[str, list[tuple[float, float]]] = {}
    for kind, _name, p95, sql in re.findall(
        r"^\| (admin API|back-office|user API) \| ([^|]+) \| [0-9.]+ \| ([0-9.]+) \| \d+ \| "
        r"([0-9.]+) \|",
        text,
        re.M,
    ):
        rows.setdefault(kind, []).append((_number(p95), _number(sql)))
    for kind, values in rows.items():
        put(f"{kind}: worst p95, ms", max(p for p, _ in values))
        put(f"{kind}: worst SQL of one call, ms", max(s for _, s in values))
    if m := re.search(
        r"^\| resync \| .*?(\d+) users re-evaluated .*?(\d+) changed \| ([0-9.]+) s", text, re.M
    ):
        put("level edit: users re-evaluated", _number(m.group(1)), f"{int(m.group(1)):,}")
        put("level edit: resync, s", _number(m.group(3)))
    if "none lifted" in text:
        put("bans, locks, deletions lifted", 0, "0")
    elif "some lifted" in text:
        put("bans, locks, deletions lifted", 1, "**some**")
    for name in ("login", "signup"):
        if m := re.search(
            rf"^\| {name} \| ([0-9.]+) \| ([0-9.]+) \| ([0-9.]+) \| ([0-9.]+) \| "
            r"([0-9.]+) \| ([0-9.]+) \|",
            text,
            re.M,
        ):
            put(f"{name}s/s (gunicorn, 2 workers)", _number(m.group(1)))
            put(f"{name} p95, ms", _number(m.group(2)))
            cpu = sum(_number(m.group(i)) for i in (3, 4, 5))
            put(f"{name} CPU (app + PostgreSQL + Redis), ms", round(cpu, 1))
            put(f"{name} PostgreSQL CPU, ms", _number(m.group(4)))
            put(f"{name} WAL, bytes", _number(m.group(6)), f"{_number(m.group(6)):,.0f}")
    if m := re.search(
        r"one process each: ([0-9.]+) ms against the floor's ([0-9.]+) ms: ([0-9.]+)\u00d7", text
    ):
        put(
            "login CPU against the floor (one process each)",
            _number(m.group(3)),
            f"{m.group(3)}\u00d7",
        )
    if m := re.search(r"^database: ([0-9.]+) (MB|GB)", text, re.M):
        size = _number(m.group(1)) * (1024 if m.group(2) == "GB" else 1)
        put("database, MB", size, f"{size:,.0f}")
    for table in ("activities", "users", "labels"):
        if m := re.search(rf"^ {table}\s+\|[^|]+\|[^|]+\|[^|]+\|\s+(\d+)", text, re.M):
            put(f"{table}, MB per million users", _number(m.group(1)))
    if m := re.search(r"([0-9.]+) MiB per 1,000 live sessions", text):
        put("Redis, MiB per 1,000 live sessions", _number(m.group(1)))
    if m := re.search(r"retention: (\d+) activity rows deleted .*? in (\d+) s", text):
        rate = _number(m.group(1)) / max(_number(m.group(2)), 1)
        put("retention: rows deleted", _number(m.group(1)), f"{int(m.group(1)):,}")
        put("retention: rows/s", round(rate), f"{rate:,.0f}")
    if m := re.search(r"login p95 without the deletion: (\d+) ms", text):
        put("retention: login p95 without, ms", _number(m.group(1)))
    if m := re.search(r"login p95 during it: (\d+) ms .*?: ([0-9.]+)\u00d7", text):
        put("retention: login p95 during, ms", _number(m.group(1)))
        put("retention: during / without", _number(m.group(2)), f"{m.group(2)}\u00d7")
    return found


def growth(first: float, last: float, users_ratio: float) -> str:
    if first <= 0 or last <= 0 or users_ratio <= 1:
        return ""
    exponent = math.log(last / first) / math.log(users_ratio)
    if exponent < 0.15:
        return "flat"
    if exponent < 0.6:
        return "logarithmic"
    return "linear"


def main(paths: list[str]) -> None:
    runs = [figures(Path(path).read_text(encoding="utf-8")) for path in paths]
    names: list[str] = []
    for run in runs:
        names.extend(name for name in run if name not in names and name != "users")
    sizes = [run.get("users", (0, "?"))[1] for run in runs]
    print("| figure | " + " | ".join(sizes) + " | growth |")
    print("|---|" + "---:|" * len(runs) + "---|")
    users = [run.get("users", (0, ""))[0] for run in runs]
    for name in names:
        cells = [run[name][1] if name in run else "—" for run in runs]
        present = [(u, run[name][0]) for u, run in zip(users, runs, strict=True) if name in run]
        shape = ""
        if len(present) >= 2 and name != "measured" and present[0][0]:
            shape = growth(present[0][1], present[-1][1], present[-1][0] / present[0][0])
        print(f"| {name} | " + " | ".join(cells) + f" | {shape} |")


if __name__ == "__main__":
    main(sys.argv[1:])
