"""The floor of a login's CPU: only the work no login can leave out, measured as
bench/login_cost.py measures the real one (docs/BENCHMARKS.md, "Where the floor is").

    DATABASE_URL=postgres://… REDIS_URL=redis://… python bench/login_floor.py [N]

Not the application: a straight line of the calls a login must make, with nothing
around them (no Django request, middleware, DRF, ORM model save or response object):

- the JSON body parsed;
- one Redis pipeline: the rate limits (two counters counted, one read);
- the connection's health check (``SELECT 1``) and the login's user query
  (``accounts.services.login``'s own statement: the user, its flags, the answer's lists);
- the argon2id verify (the app's hasher, ``check_password``);
- one Redis pipeline: the session written, its index entry, the two limit resets;
- one SQL statement writing the activity row and the outbox row (both built with
  ``barong.db.rows``'s statements, in one ``WITH``);
- the JSON answer.

It reports the same figures as bench/login_cost.py (process, PostgreSQL backend and Redis
CPU, against verifies measured in the same rounds). If this line cannot reach a ratio,
no implementation of the login on this machine can.
"""

import argparse
import json
import pickle
import secrets
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import login_cost  # the environment, the member and the CPU readers

RATE_KEYS = ("floor:rate:ip", "floor:rate:account-ip")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("n", nargs="?", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--verifies", type=int, default=100)
    options = parser.parse_args()

    import django

    django.setup()
    import redis
    from django.conf import settings
    from django.contrib.auth.hashers import check_password
    from django.db import connection

    from accounts.models import User
    from accounts.notifications import device_seen_values
    from accounts.services.login import login_user_sql
    from activities.models import Activity
    from barong.db.rows import row_statement, row_values
    from events.models import OutboxEvent

    user = login_cost._member()
    encoded = user.password
    client = redis.Redis.from_url(settings.REDIS_URL)
    query, _ = login_user_sql(connection.vendor)
    activity_sql, activity_fields, _ = row_statement(Activity, "default")
    outbox_sql, outbox_fields, _ = row_statement(OutboxEvent, "default")
    both = f"WITH activity AS ({activity_sql}) {outbox_sql}"
    body = json.dumps({"email": login_cost.EMAIL, "password": login_cost.PASSWORD}).encode()
    result, since, _, _ = device_seen_values(request=None)  # the address and agent: below
    ip, agent = "127.0.0.1", login_cost.UA
    uid_at = [field.name for field in User._meta.concrete_fields].index("uid")

    def login(check: bool = True) -> bytes:
        data = json.loads(body)
        pipe = client.pipeline(transaction=False)
        for key in RATE_KEYS:
            pipe.set(key, 0, ex=300, nx=True)
            pipe.incr(key)
        pipe.get("floor:rate:account")
        pipe.execute()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.execute(query, [result, since, ip, agent, data["email"]])
            row = cursor.fetchone()
        uid = row[uid_at]
        if check and not check_password(data["password"], encoded):
            raise SystemExit("the member's password did not verify")
        key, csrf_token, now = secrets.token_hex(16), secrets.token_hex(10), int(time.time())
        session = {"uid": uid, "user_ip": ip, "user_agent": agent, "created_at": now}
        session |= {"expire_time": now + 1800, "csrf_token": csrf_token}
        pipe = client.pipeline(transaction=False)
        pipe.set(f"floor:session:{key}", pickle.dumps(session), ex=1800, nx=True)
        pipe.lrem("floor:index", 0, key)
        pipe.rpush("floor:index", key)
        pipe.ltrim("floor:index", -50, -1)
        pipe.expire("floor:index", 1800)
        pipe.delete(*RATE_KEYS)
        pipe.execute()
        activity = Activity(
            user_id=row[0], category="user", user_ip=ip, user_agent=agent, topic="session",
            action="login", result="succeed", request_id=key,
        )  # fmt: skip
        event = OutboxEvent(
            category="system", routing_key="session.create", aggregate=f"user:{uid}",
            payload={"record": {"user": {"uid": uid, "email": data["email"]}}},
        )  # fmt: skip
        with connection.cursor() as cursor:
            params = row_values(activity, activity_fields, connection) + row_values(
                event, outbox_fields, connection
            )
            cursor.execute(both, params)
        answer = {"uid": uid, "email": data["email"], "csrf_token": csrf_token}
        return json.dumps(answer).encode()

    for _ in range(20):
        login()
    per_round = max(options.n // options.rounds, 1)
    rounds = login_cost.measured_rounds(
        login,
        redis_client=client,
        encoded=encoded,
        per_round=per_round,
        rounds=options.rounds,
        verifies=options.verifies,
    )
    start = time.process_time()
    for _ in range(per_round):
        login(check=False)
    bare_ms = (time.process_time() - start) * 1000 / per_round

    def mean(index: int) -> float:
        return sum(item[index] for item in rounds) / len(rounds)

    app_ms, pg_ms, redis_ms, verify = mean(0), mean(1), mean(2), mean(3)
    ratios = sorted((a + p + r) / v for a, p, r, v in rounds)
    print(
        f"{per_round * options.rounds} floor logins: app {app_ms:.2f} ms + PostgreSQL"
        f" {pg_ms:.2f} ms + Redis {redis_ms:.2f} ms = {app_ms + pg_ms + redis_ms:.2f} ms of CPU"
        f" each\none verify: {verify:.2f} ms; the line without its hash: {bare_ms:.2f} ms\n"
        f"floor / verify: {statistics.median(ratios):.3f}x (median of {options.rounds} rounds:"
        f" {', '.join(f'{value:.3f}' for value in ratios)}); beyond the hash:"
        f" {app_ms + pg_ms + redis_ms - verify:.2f} ms"
    )


if __name__ == "__main__":
    main()
