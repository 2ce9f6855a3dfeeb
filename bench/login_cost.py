"""CPU per login, in one process, against one argon2id verify measured the same way.

    DATABASE_URL=postgres://… REDIS_URL=redis://… python bench/login_cost.py [N] [--profile]

Runs N logins (``POST /api/v2/identity/sessions``) through the real WSGI application
(``barong.wsgi.application``: the front, every middleware, DRF, the view) with a built
environ, against the PostgreSQL and Redis of the URLs (throwaway ones: it creates a
member). It reports per login:

- the CPU of this process (``time.process_time``): the app, the hash included;
- the CPU of this connection's PostgreSQL backend (``pg_backend_pid()``, utime + stime
  of ``/proc/<pid>/stat``; the script runs as root or as the server's user);
- Redis's CPU (``INFO cpu``: used_cpu_user + used_cpu_sys of the server);

and verifies with the app's hasher in the same process (``check_password``), in
``--rounds`` alternating blocks (the ratio is the median of the rounds': on a shared
machine a verify's CPU moves with the load, so neighbours are compared); then verifies
with ``--concurrency`` processes verifying at the same time (bench/run's gunicorn runs two
workers logging in at once on two cores; argon2id is memory-bound, so one verify's CPU
depends on what the other core does). ``--profile`` prints a cProfile of the logins with
the hash taken out (the hasher's ``verify`` returns the real answer computed once), that
is the work a login adds to the hash. Rate limits are on (the production path), with
limits high enough that N logins from one address pass.
"""

import argparse
import cProfile
import io
import json
import multiprocessing
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "barong.settings")
os.environ.setdefault("BARONG_RATE_LIMITS", "on")
os.environ.setdefault("BARONG_RATE_LOGIN_IP", "1000000/300")
os.environ.setdefault("BARONG_RATE_LOGIN_ACCOUNT_IP", "1000000/900")
os.environ.setdefault("BARONG_RATE_LOGIN_ACCOUNT", "1000000/3600")
os.environ.setdefault("BARONG_RATE_SIGNUP_IP", "1000000/3600")
os.environ.setdefault("BARONG_COOKIE_SECURE", "false")
os.environ.setdefault("DB_CONN_MAX_AGE", "600")
os.environ.setdefault("LOG_LEVEL", "WARNING")

PASSWORD = "Bench-Correct-Horse-9"  # noqa: S105 -- a throwaway benchmark account
EMAIL = "bench-login-cost@example.com"
UA = "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0 Safari/537.36 barong-bench"
TICKS = os.sysconf("SC_CLK_TCK")


def _proc_cpu_ms(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / TICKS


def _redis_cpu_ms(client) -> float:
    info = client.info("cpu")
    return (info["used_cpu_user"] + info["used_cpu_sys"]) * 1000


def _member():
    from accounts.models import User
    from accounts.services import label_set, user_create

    user = User.objects.filter(email=EMAIL).first()
    if user is None:
        user = user_create(email=EMAIL, password=PASSWORD)
        label_set(user=user, key="email", value="verified", scope="private")
    return user


AGENTS = iter(range(10**9))
NEW_DEVICE = False
SIGNUP = False
SIGNUPS = iter(range(10**9))
STAMP = f"{time.time():.0f}-{os.getpid()}"


def _body() -> bytes:
    """The login's body, or with ``--signup`` a sign-up of an address never used before."""
    email = f"bench-{STAMP}-{next(SIGNUPS)}@example.com" if SIGNUP else EMAIL
    return json.dumps({"email": email, "password": PASSWORD}).encode()


def _environ(body: bytes) -> dict:
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/api/v2/identity/users" if SIGNUP else "/api/v2/identity/sessions",
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "HTTP_USER_AGENT": f"{UA} {next(AGENTS)}" if NEW_DEVICE else UA,
        "HTTP_ACCEPT": "application/json",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def _login(application, body: bytes | None = None) -> bytes:
    status: list[str] = []
    body = _body() if SIGNUP or body is None else body
    chunks = application(_environ(body), lambda s, headers, exc_info=None: status.append(s))
    try:
        content = b"".join(chunks)
    finally:
        if hasattr(chunks, "close"):
            chunks.close()
    if not status[0].startswith("201" if SIGNUP else "200"):
        raise SystemExit(f"the request answered {status[0]}: {content[:300]!r}")
    return content


def _verify_loop(encoded: str, rounds: int) -> float:
    from django.contrib.auth.hashers import check_password

    check_password(PASSWORD, encoded)
    start = time.process_time()
    for _ in range(rounds):
        check_password(PASSWORD, encoded)
    return (time.process_time() - start) / rounds * 1000


def _verify_in_child(args: tuple[str, int]) -> float:
    return _verify_loop(*args)


def verify_ms(encoded: str, rounds: int, concurrency: int) -> float:
    """CPU ms of one verify, each of ``concurrency`` processes verifying at the same time."""
    if concurrency <= 1:
        return _verify_loop(encoded, rounds)
    with multiprocessing.get_context("fork").Pool(concurrency) as pool:
        results = pool.map(_verify_in_child, [(encoded, rounds)] * concurrency)
    return sum(results) / len(results)


def measured_rounds(
    call, *, redis_client, encoded: str, per_round: int, rounds: int, verifies: int
) -> list[tuple[float, float, float, float]]:
    """(app, PostgreSQL, Redis, verify) ms per call, for each round of ``per_round`` calls.

    Rounds of calls and of verifies in turn: on a shared machine the CPU a verify costs
    moves with what the other core does, so each ratio compares neighbours.
    """
    from django.db import connection

    def backend() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            return cursor.fetchone()[0]

    pid = backend()
    measured = []
    for _ in range(rounds):
        app0 = time.process_time()
        pg0, redis0 = _proc_cpu_ms(pid), _redis_cpu_ms(redis_client)
        for _ in range(per_round):
            call()
        app_ms = (time.process_time() - app0) * 1000 / per_round
        pg_ms = (_proc_cpu_ms(pid) - pg0) / per_round
        redis_ms = (_redis_cpu_ms(redis_client) - redis0) / per_round
        verify = _verify_loop(encoded, max(verifies // rounds, 1))
        measured.append((app_ms, pg_ms, redis_ms, verify))
    if backend() != pid:
        raise SystemExit("the database connection was reopened during the run")
    return measured


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("n", nargs="?", type=int, default=200)
    parser.add_argument("--verifies", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--signup", action="store_true", help="sign-ups (POST /identity/users), not logins"
    )
    parser.add_argument(
        "--new-device",
        action="store_true",
        help="a browser never seen before at each login: the New Login e-mail's event,"
        " delivered by the relay (its wake-up is part of the login)",
    )
    parser.add_argument("--json", action="store_true", help="one JSON line of results")
    options = parser.parse_args()
    global NEW_DEVICE, SIGNUP
    NEW_DEVICE, SIGNUP = options.new_device, options.signup

    import django

    django.setup()
    import redis
    from django.conf import settings

    from barong.wsgi import application

    user = _member()
    encoded = user.password
    body = json.dumps({"email": EMAIL, "password": PASSWORD}).encode()
    redis_client = redis.Redis.from_url(settings.REDIS_URL)
    for _ in range(20):  # warm-up: imports, compiled tables, the connection
        _login(application, body)
    per_round = max(options.n // options.rounds, 1)
    rounds = measured_rounds(
        lambda: _login(application, body),
        redis_client=redis_client,
        encoded=encoded,
        per_round=per_round,
        rounds=options.rounds,
        verifies=options.verifies,
    )
    together = verify_ms(encoded, options.verifies // 2, options.concurrency)

    def mean(index: int) -> float:
        return sum(item[index] for item in rounds) / len(rounds)

    app_ms, pg_ms, redis_ms, alone = mean(0), mean(1), mean(2), mean(3)
    total = app_ms + pg_ms + redis_ms
    ratios = sorted((a + p + r) / v for a, p, r, v in rounds)
    ratio = statistics.median(ratios)
    result = {
        "logins": per_round * options.rounds,
        "app_ms": round(app_ms, 3),
        "pg_ms": round(pg_ms, 3),
        "redis_ms": round(redis_ms, 3),
        "total_ms": round(total, 3),
        "verify_ms": round(alone, 3),
        f"verify_ms_x{options.concurrency}": round(together, 3),
        "ratio_median": round(ratio, 3),
        "ratios": [round(value, 3) for value in ratios],
        "beyond_hash_ms": round(total - alone, 3),
    }
    if options.json:
        print(json.dumps(result))
    else:
        print(
            f"{per_round * options.rounds} {'sign-ups' if SIGNUP else 'logins'}: app"
            f" {app_ms:.2f} ms + PostgreSQL"
            f" {pg_ms:.2f} ms + Redis {redis_ms:.2f} ms = {total:.2f} ms of CPU each\n"
            f"one verify: {alone:.2f} ms alone, {together:.2f} ms with"
            f" {options.concurrency} processes verifying at once\n"
            f"{'sign-up' if SIGNUP else 'login'} / verify: {ratio:.3f}x"
            f" (median of {options.rounds} rounds:"
            f" {', '.join(f'{value:.3f}' for value in ratios)}); beyond the hash:"
            f" {total - alone:.2f} ms"
        )
    if options.profile:
        _profile(application, body, options.n)


def _profile(application, body: bytes, n: int) -> None:
    """The logins again with the hash replaced by its answer: what a login adds to it."""
    # Django's Argon2PasswordHasher verifies every "argon2$" hash (the last hasher of an
    # algorithm wins), BarongArgon2Hasher included: patch the class that verifies.
    from django.contrib.auth.hashers import Argon2PasswordHasher

    real = Argon2PasswordHasher.verify
    answers: dict[tuple[str, str], bool] = {}

    def verify(self, password: str, encoded: str) -> bool:
        if (password, encoded) not in answers:
            answers[password, encoded] = real(self, password, encoded)
        return answers[password, encoded]

    Argon2PasswordHasher.verify = verify
    try:
        _login(application, body)
        start = time.process_time()
        for _ in range(n):
            _login(application, body)
        print(f"\nwithout the hash: {(time.process_time() - start) * 1000 / n:.2f} ms per login")
        profiler = cProfile.Profile(time.process_time)  # CPU, not waits on the servers
        profiler.enable()
        for _ in range(n):
            _login(application, body)
        profiler.disable()
    finally:
        Argon2PasswordHasher.verify = real
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.strip_dirs().sort_stats("cumulative").print_stats(90)
    stats.sort_stats("tottime").print_stats(40)


if __name__ == "__main__":
    main()
