"""CPU per authz call in one process: ``barong.wsgi.application`` called as gunicorn calls it.

Needs the benchmark's services and users (``bench/run`` with ``BENCH_KEEP=1``, or your
own PostgreSQL + Redis with ``bench/prepare.py``'s output)::

    python bench/authz_cpu.py users.json [calls]

Logs the cookie member in over WSGI, then times ``calls`` (default 3000) requests of each
kind with ``time.process_time()``, in ``AUTHZ_CPU_ROUNDS`` (5) slices, printing the best
and the median slice: the session cookie, signed API-key requests (a fresh
nonce each, signed before the clock starts), ``identity/ping`` and the bare WSGI app of
``bench/bare_wsgi.py`` called the same way. Prints microseconds of CPU per call; with
``AUTHZ_CPU_PROFILE=1`` also the cProfile of the cookie and API-key loops. Only the app's
own cost: gunicorn's (parsing, the socket, ~0.18 ms per request here) comes on top.

The cookie calls are all the same request, so after the first of each second the fast
path answers them again without deciding (permissions/lean.py); ``cookie-decided`` sends
each with a header of its own (``X-Bench-Call``, read by nothing), so every one is decided.
Both are warm figures: back to back, caches stay hot; a gunicorn worker runs the same code
cold, at about three times the cost (docs/BENCHMARKS.md, "Round 8").
"""

import cProfile
import hashlib
import hmac
import io
import json
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "barong.settings")

from bare_wsgi import application as bare_application  # noqa: E402

from barong.wsgi import application  # noqa: E402

UA = "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0 Safari/537.36 barong-bench"
AUTHZ = "/api/v2/auth/api/v2/barong/resource/users/me"


def environ(method: str, path: str, headers: dict[str, str], body: bytes = b"") -> dict:
    """The environ gunicorn's sync worker builds (the keys Django or the front read)."""
    env = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "RAW_URI": path,
        "QUERY_STRING": "",
        "SCRIPT_NAME": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "50000",
        "HTTP_HOST": "127.0.0.1:8000",
        "HTTP_USER_AGENT": UA,
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if body:
        env["CONTENT_TYPE"] = "application/json"
        env["CONTENT_LENGTH"] = str(len(body))
    for name, value in headers.items():
        env["HTTP_" + name.upper().replace("-", "_")] = value
    return env


def call(app, env: dict) -> tuple[str, list, bytes]:
    """One request as a WSGI server makes it: start_response, the body, close()."""
    sent = []

    def start_response(status, headers, exc_info=None):
        sent.append((status, headers))

    result = app(env, start_response)
    try:
        body = b"".join(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    return sent[0][0], sent[0][1], body


def login(email: str, password: str) -> str:
    body = json.dumps({"email": email, "password": password}).encode()
    status, headers, content = call(
        application, environ("POST", "/api/v2/identity/sessions", {}, body)
    )
    assert status.startswith("200"), (status, content)
    for name, value in headers:
        if name == "Set-Cookie" and "_barong_session=" in value:
            return value.split("_barong_session=", 1)[1].split(";", 1)[0]
    raise SystemExit("no session cookie")


def timed(name: str, app, envs: list, rounds: int, profile: bool = False) -> float:
    """Best and median of ``rounds`` timed slices of ``envs`` (after 200 warm-up calls):
    on a shared machine the best slice is the least disturbed one."""
    for env in envs[:200]:  # warm-up: compiled tables, snapshots, tokens
        status, _, content = call(app, env)
        assert status.startswith("200"), (name, status, content)
    envs = envs[200:]
    size = len(envs) // rounds
    profiler = cProfile.Profile(time.process_time) if profile else None
    per_call, bad = [], 0
    for start in range(0, size * rounds, size):
        chunk = envs[start : start + size]
        started = time.process_time()
        if profiler:
            profiler.enable()
        for env in chunk:
            status, _, _ = call(app, env)
            bad += not status.startswith("200")
        if profiler:
            profiler.disable()
        per_call.append((time.process_time() - started) / size * 1e6)
    per_call.sort()
    print(
        f"{name:14s} {per_call[0]:8.1f} µs CPU per call (best of {rounds} x {size} calls; "
        f"median {per_call[len(per_call) // 2]:.1f}; {bad} not 200)"
    )
    if profiler:
        order = os.environ.get("AUTHZ_CPU_SORT", "tottime")
        lines = int(os.environ.get("AUTHZ_CPU_LINES", "30"))
        pstats.Stats(profiler).sort_stats(order).print_stats(lines)
    return per_call[0]


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as handle:
        users = json.load(handle)
    calls = int(sys.argv[2]) if len(sys.argv) > 2 else 3000
    rounds = int(os.environ.get("AUTHZ_CPU_ROUNDS", "5"))
    profile = bool(os.environ.get("AUTHZ_CPU_PROFILE"))
    session = login(users["email"], users["password"])
    n = calls + 200
    cookie = [environ("GET", AUTHZ, {"Cookie": f"_barong_session={session}"}) for _ in range(n)]
    decided = [
        environ("GET", AUTHZ, {"Cookie": f"_barong_session={session}", "X-Bench-Call": str(i)})
        for i in range(n)
    ]
    kid, secret = users["kid"], users["secret"]
    start = int(time.time() * 1000) + int.from_bytes(os.urandom(3), "big")
    signed = []
    for i in range(n):
        nonce = str(start + i)
        signature = hmac.new(secret.encode(), (nonce + kid).encode(), hashlib.sha256).hexdigest()
        headers = {"X-Auth-Apikey": kid, "X-Auth-Nonce": nonce, "X-Auth-Signature": signature}
        signed.append(environ("GET", AUTHZ, headers))
    accept = {"Accept": "application/json"}
    ping = [environ("GET", "/api/v2/identity/ping", accept) for _ in range(n)]
    bare = [environ("GET", "/", {}) for _ in range(n)]
    timed("bare", bare_application, bare, rounds)
    timed("ping", application, ping, rounds)
    timed("cookie", application, cookie, rounds, profile)
    timed("cookie-decided", application, decided, rounds, profile)
    timed("apikey", application, signed, rounds, profile)


if __name__ == "__main__":
    main()
