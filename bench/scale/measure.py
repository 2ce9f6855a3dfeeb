"""`make bench-scale`, second half: time the operators' reads on the loaded database.

Runs in-process against the throwaway PostgreSQL that ``bench/scale/run`` loaded: the
admin API through DRF's test client with the operator's Bearer JWT, the back-office
through Django's test client logged in as that operator (the same view, middleware and
query code as under gunicorn, without the HTTP hop). Every scenario is requested
``BENCH_SCALE_REPEAT`` times after two warm-up calls; p50/p95 in milliseconds and the
number of SQL queries of one call are printed as a Markdown table, after ``/admin/metrics``
answered first thing after the upgrade (``BENCH_UPGRADE_DONE``: when ``migrate`` ended) and
a table of each admin API list's ``Total`` against the exact count. Then a level edit is
timed (it returns before the users move), its resync job is run to the end, and the
banned, locked and deleted users are counted before and after it.
"""

import os
import re
import statistics
import sys
import time
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "barong.settings")
django.setup()

from django.db import connection  # noqa: E402
from django.test import Client, RequestFactory  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from accounts.models import Level, User  # noqa: E402
from accounts.services import level_admin_save  # noqa: E402
from accounts.services.resync import resync_run  # noqa: E402
from accounts.session_store import SessionStore  # noqa: E402
from accounts.sessions import session_open  # noqa: E402
from permissions.authz import token_for  # noqa: E402

REPEAT = int(os.environ.get("BENCH_SCALE_REPEAT", "20"))
# Only the scenarios whose "kind: name" matches this regular expression ("resync" for the
# level resync alone, "admin API: users" for the user lists...): a quicker run while working.
ONLY = re.compile(os.environ.get("BENCH_SCALE_ONLY", ""))
UA = "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0 Safari/537.36 barong-bench"
ADMIN = "/api/v2/admin"
OPERATOR = "bench-operator@example.com"

USERS = int(os.environ.get("BENCH_SCALE_USERS", "1000000"))
# Users that exist at every size (bench/scale/load.sql numbers them 1…USERS).
MEMBER_N = 123456 if USERS > 123456 else 23456
TARGET_N = 1 + (4242 * 104729) % USERS  # an operator's audit rows name them
operator = User.objects.get(email=OPERATOR)
member = User.objects.get(email=f"user{MEMBER_N}@example.com")
target = User.objects.get(email=f"user{TARGET_N}@example.com")
claims = {
    "uid": operator.uid,
    "email": operator.email,
    "role": operator.role,
    "level": operator.level,
    "state": operator.state,
    "referral_id": None,
}
# The operator's JWT as the authz endpoint mints it: bound to a live session of theirs.
opening = RequestFactory().get("/", HTTP_USER_AGENT=UA, REMOTE_ADDR="127.0.0.1")
opening.session = SessionStore()
session_open(opening, operator)
opening.session.save()
api = APIClient(HTTP_USER_AGENT=UA, REMOTE_ADDR="127.0.0.1")
token = token_for(f"session:{opening.session.session_key}", claims)
api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")


def bearer(user: User) -> APIClient:
    """An API client with the user's JWT as the authz endpoint mints it (a live session)."""
    opening = RequestFactory().get("/", HTTP_USER_AGENT=UA, REMOTE_ADDR="127.0.0.1")
    opening.session = SessionStore()
    session_open(opening, user)
    opening.session.save()
    client = APIClient(HTTP_USER_AGENT=UA, REMOTE_ADDR="127.0.0.1")
    user_claims = {**claims, "uid": user.uid, "email": user.email, "role": user.role}
    user_claims.update(level=user.level, state=user.state)
    token = token_for(f"session:{opening.session.session_key}", user_claims)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


office = Client(HTTP_USER_AGENT=UA, REMOTE_ADDR="127.0.0.1")
office.force_login(operator)

API = [
    ("users, page 1", "/users", {}),
    ("users, page 5000", "/users", {"page": 5000}),
    ("users, page 10000", "/users", {"page": 10000}),
    ("users, extended", "/users", {"extended": "true"}),
    ("users, email=", "/users", {"email": member.email.upper()}),
    ("users, uid=", "/users", {"uid": member.uid}),
    ("users, level=3", "/users", {"level": 3}),
    ("users, level=3 page 100", "/users", {"level": 3, "page": 100}),
    ("users, state=banned", "/users", {"state": "banned"}),
    ("users, first_name=", "/users", {"first_name": f"first{MEMBER_N - 5}"}),
    ("users, country=GB", "/users", {"country": "GB"}),
    (
        "users, from/to (one day)",
        "/users",
        {"from": int(time.time()) - 86400 * 30, "to": int(time.time()) - 86400 * 29},
    ),
    ("documents/pending, page 1", "/users/documents/pending", {}),
    ("documents/pending, page 200", "/users/documents/pending", {"page": 200}),
    ("documents/pending, country=GB", "/users/documents/pending", {"country": "GB"}),
    ("users/labels document=pending", "/users/labels", {"key": "document", "value": "pending"}),
    (
        "users/labels tier=gold p1000",
        "/users/labels",
        {"key": "tier", "value": "gold", "page": 1000},
    ),
    ("activities, page 1", "/activities", {}),
    ("activities, page 1000", "/activities", {"page": 1000}),
    ("activities, uid=", "/activities", {"uid": member.uid}),
    ("activities, email=", "/activities", {"email": member.email}),
    ("activities, topic=session", "/activities", {"topic": "session"}),
    (
        "activities, topic+action p100",
        "/activities",
        {"topic": "session", "action": "login", "page": 100},
    ),
    ("activities/admin, page 1", "/activities/admin", {}),
    ("activities/admin, page 500", "/activities/admin", {"page": 500}),
    ("activities/admin, target_uid=", "/activities/admin", {"target_uid": target.uid}),
    ("profiles, page 1", "/profiles", {}),
    ("profiles, page 2000", "/profiles", {"page": 2000}),
    ("metrics, all time", "/metrics", {}),
    ("metrics, last 30 days", "/metrics", {"created_from": int(time.time()) - 86400 * 30}),
    ("levels", "/levels", {}),
]
# A user's own activity (``/resource/users/activity/{topic}``, newest first): a member with
# a few rows, and the operator, whose own rows are a tenth of the users' count.
OWN = "/api/v2/resource/users/activity"
USER = [
    ("member, all", "member", "/all"),
    ("member, session", "member", "/session"),
    ("operator, all", "operator", "/all"),
]
OFFICE = [
    ("users", "/admin/accounts/user/", {}),
    (f"users, page {USERS // 100}", "/admin/accounts/user/", {"p": USERS // 100}),
    ("users, search e-mail", "/admin/accounts/user/", {"q": member.email}),
    ("users, search e-mail part", "/admin/accounts/user/", {"q": "user12345@"}),
    ("users, search uid", "/admin/accounts/user/", {"q": member.uid}),
    ("users, search name part", "/admin/accounts/user/", {"q": "last12345"}),
    ("users, state=banned", "/admin/accounts/user/", {"state": "banned"}),
    ("users, level=3", "/admin/accounts/user/", {"level": "3"}),
    ("user page", f"/admin/accounts/user/{member.pk}/change/", {}),
    ("activities", "/admin/activities/activity/", {}),
    (
        f"activities, page {min(20000, USERS // 50)}",
        "/admin/activities/activity/",
        {"p": min(20000, USERS // 50)},
    ),
    ("activities, search uid", "/admin/activities/activity/", {"q": member.uid}),
    ("activities, topic=session", "/admin/activities/activity/", {"topic": "session"}),
    ("activities, target_uid=", "/admin/activities/activity/", {"target_uid": target.uid}),
    ("KYC queue", "/admin/kyc/document/review/", {}),
    (
        f"KYC queue, page {min(1000, USERS // 1000)}",
        "/admin/kyc/document/review/",
        {"p": min(1000, USERS // 1000)},
    ),
    ("KYC queue, search e-mail", "/admin/kyc/document/review/", {"q": "user1000@example.com"}),
    ("documents", "/admin/kyc/document/", {}),
    ("documents, search uid", "/admin/kyc/document/", {"q": member.uid}),
    ("profiles, submitted", "/admin/kyc/profile/", {"state__exact": "submitted"}),
    ("labels, key=document", "/admin/accounts/label/", {"key": "document"}),
    ("phones", "/admin/kyc/phone/", {}),
    ("resync jobs", "/admin/accounts/resyncjob/", {}),
]


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


class QueryLog:
    """Counts the SQL queries of a call and the time spent waiting for them."""

    def __init__(self) -> None:
        self.count, self.seconds, self.slowest = 0, 0.0, (0.0, "")

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent = time.perf_counter() - start
            self.count += 1
            self.seconds += spent
            self.slowest = max(self.slowest, (spent, sql))


def measure(client, path: str, params: dict) -> tuple[float, float, int, float]:
    """p50 and p95 (ms) over REPEAT calls, the queries of one call and their time (ms)."""
    for _ in range(2):
        response = client.get(path, params)
    queries = QueryLog()
    with connection.execute_wrapper(queries):
        response = client.get(path, params)
    if os.environ.get("BENCH_SCALE_SLOWEST"):
        print(f"  slowest {queries.slowest[0] * 1000:.0f} ms: {queries.slowest[1][:400]}")
    samples = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        response = client.get(path, params)
        samples.append((time.perf_counter() - start) * 1000)
    if response.status_code != 200:
        raise SystemExit(f"{path} {params} answered {response.status_code}")
    return (
        statistics.median(samples),
        percentile(samples, 0.95),
        queries.count,
        queries.seconds * 1000,
    )


def row(kind: str, name: str, result: tuple[float, float, int, float], goal: float) -> str:
    p50, p95, queries, sql_ms = result
    verdict = "yes" if p95 <= goal else "**no**"
    return (
        f"| {kind} | {name} | {p50:.1f} | {p95:.1f} | {queries} | {sql_ms:.1f} | {goal:.0f} "
        f"| {verdict} |"
    )


def totals() -> None:
    """Each paginated admin API list's ``Total`` against the exact count: above
    ``BARONG_EXACT_COUNT_LIMIT`` it is the planner's estimate (docs/compatibility.md)."""
    from django.test.utils import override_settings

    worst = (0.0, "")
    print("| list | Total answered | exact count | answered / exact |")
    print("|---|---:|---:|---:|")
    for name, path, params in API:
        if path in ("/metrics", "/levels") or not ONLY.search(f"totals: {name}"):
            continue
        answered = int(api.get(ADMIN + path, params)["Total"])
        with override_settings(BARONG_EXACT_COUNT_LIMIT=10**12):
            exact = int(api.get(ADMIN + path, params)["Total"])
        share = f"{answered / exact:.2f}" if exact else "-"
        print(f"| {name} | {answered} | {exact} | {share} |", flush=True)
        if exact:
            worst = max(worst, (abs(answered / exact - 1), name))
    print()
    if worst[1]:
        print(f"estimated totals: largest error {worst[0]:.1%} ({worst[1]})")
        print()


def first_metrics() -> None:
    """``/admin/metrics`` as an operator opens it right after the upgrade: the migration's
    roll-up (activities 0005) has run, nothing else has."""
    done = float(os.environ.get("BENCH_UPGRADE_DONE") or time.time())
    api.get(ADMIN + "/levels")  # the process's first request imports the API's modules
    start = time.perf_counter()
    response = api.get(ADMIN + "/metrics")
    ms = (time.perf_counter() - start) * 1000
    assert response.status_code == 200, response.status_code
    since = time.time() - done
    verdict = "yes" if ms <= 200 and since <= 60 else "**no**"
    print(
        f"/admin/metrics first call, {since:.0f} s after the upgrade: {ms:.0f} ms "
        f"(goal ≤ 200 ms within a minute: {verdict})"
    )
    print()


HELD = ("banned", "locked", "deleted")


def held_states() -> dict[str, int]:
    """Users banned, locked or deleted, by state: no resync may lift one."""
    rows = User.objects.filter(state__in=HELD).values_list("state")
    counts = {state: 0 for state in HELD}
    for (state,) in rows.iterator(chunk_size=10000):
        counts[state] += 1
    return counts


def main() -> None:
    if ONLY.search("metrics: first"):
        first_metrics()
    totals()
    print("| kind | scenario | p50 ms | p95 ms | SQL queries | SQL ms | goal p95 ms | met |")
    print("|---|---|---:|---:|---:|---:|---:|---|")
    for name, path, params in API:
        if ONLY.search(f"admin API: {name}"):
            goal = 200 if path == "/metrics" else 50
            print(row("admin API", name, measure(api, ADMIN + path, params), goal), flush=True)
    clients = {"member": bearer(member), "operator": bearer(operator)}
    for name, who, topic in USER:
        if ONLY.search(f"user API: own activity, {name}"):
            result = measure(clients[who], OWN + topic, {})
            print(row("user API", f"own activity, {name}", result, 50), flush=True)
    for name, path, params in OFFICE:
        if ONLY.search(f"back-office: {name}"):
            print(row("back-office", name, measure(office, path, params), 300), flush=True)
    if not ONLY.search("resync: level 2"):
        return

    # A level edit: level 3 (document verified) now needs "checked": the users at level 2
    # and above (55 %, 5.5M at 10M) are re-evaluated and the 5 % at level 3 (500k) drop to
    # level 2, among them users an operator banned, locked or deleted in Barong without a
    # label. The edit returns before any user moves; the job is then run to its end.
    held_before = held_states()
    for value in ("checked",):
        level = Level.objects.get(pk=3)
        start = time.perf_counter()
        level_admin_save(
            admin=operator, id=3, key=level.key, value=value, description=level.description
        )
        edit_ms = (time.perf_counter() - start) * 1000
        from accounts.models import ResyncJob

        job = ResyncJob.objects.order_by("-id").first()
        # The users the job re-evaluates: from level 2, as one of them may now reach level 3.
        evaluated = User.objects.filter(level__gte=job.from_level).count()
        start = time.perf_counter()
        job = resync_run(job_id=job.pk)
        seconds = time.perf_counter() - start
        held_after = held_states()
        kept = held_after == held_before
        print(
            f"| resync | level 3 value → {value}: edit returns in {edit_ms:.0f} ms; "
            f"{evaluated} users re-evaluated ({job.processed} ids walked), "
            f"{job.changed} changed | {seconds:.1f} s | | | | 60 s "
            f"| {'yes' if seconds <= 60 else '**no**'} |",
            flush=True,
        )
        print()
        print(
            f"banned/locked/deleted before the resync: {held_before}; after: {held_after} "
            f"({'none lifted' if kept else '**some lifted**'})"
        )


if __name__ == "__main__":
    main()
