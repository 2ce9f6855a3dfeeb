"""The cluster's faults, each a test with a number: the real process is killed or stopped.

1. The Redis primary killed: Sentinel promotes the replica, HAProxy follows; meanwhile 503
   JSON with Retry-After, never 500; service back within 15 s of the promotion; no e-mail
   and no event lost.
2. Redis down 5, 15 and 60 s, then 5 and 15 again (one Redis, the simple layout): both
   Celery workers are alive afterwards and deliver what waited, every time.
3. One gunicorn node killed under load: no failed request beyond those in flight there.
4. One worker SIGKILLed in the middle of a burst: the other delivers every e-mail once.
5. The PostgreSQL primary restarted: 503 meanwhile, never 500; back within 5 s of it
   accepting connections.
6. The replica stopped: the operators' reads go to the primary, without an error.
7. RabbitMQ restarted: every event delivered afterwards, none twice with different content.

Each test restores what it broke. The numbers measured go to <cluster>/measurements.txt.
"""

import itertools
import os
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass

import pytest
import requests

from ops.cluster.probes import pid_alive, wait_for
from tests.cluster.conftest import (
    PASSWORD,
    browser,
    check_delivered,
    log_in,
    manage,
    settle,
    sign_up,
)
from tests.events.processes import RedisServer

pytestmark = pytest.mark.cluster
UNAVAILABLE = {"errors": ["server.unavailable"]}
AUTHZ_ME = "/api/v2/auth/api/v2/barong/resource/users/me"
ME = "/api/v2/resource/users/me"


@dataclass
class Answer:
    at: float
    what: str
    status: int
    body: object
    retry_after: str | None
    address: str = ""


def _call(what: str, send, address: str = "") -> Answer:
    at = time.monotonic()
    try:
        response = send()
    except requests.RequestException as exc:
        return Answer(at, what, 0, repr(exc), None, address)
    try:
        body = response.json()
    except ValueError:
        body = response.text[:200]
    return Answer(
        at, what, response.status_code, body, response.headers.get("Retry-After"), address
    )


class Load:
    """Threads calling the cluster until stopped: sign-ups and the given reads, answers kept."""

    def __init__(self, cluster, session: requests.Session | None, threads: int = 2, signups=True):
        self.cluster, self.session = cluster, session
        self.answers: list[Answer] = []
        self.lock = threading.Lock()
        self.running = True
        self.signups = signups
        self.threads = [threading.Thread(target=self._run, args=(i,)) for i in range(threads)]
        for thread in self.threads:
            thread.start()

    def _run(self, index: int) -> None:
        url = self.cluster.url()
        count = 0
        while self.running:
            count += 1
            if self.signups and count % 2 == 0:
                address = f"load-{uuid.uuid4().hex[:10]}@example.com"
                answer = _call("signup", lambda a=address: sign_up(browser(), url, a), address)
            elif self.session is not None:
                answer = _call("authz", lambda: self.session.get(url + AUTHZ_ME, timeout=30))
            else:
                answer = _call(
                    "ping", lambda: requests.get(url + "/api/v2/identity/ping", timeout=30)
                )
            with self.lock:
                self.answers.append(answer)
            time.sleep(0.05)

    def stop(self) -> list[Answer]:
        self.running = False
        for thread in self.threads:
            thread.join(60)
        return self.answers

    def created(self) -> dict[str, str]:
        return {
            a.address: a.body["uid"] for a in self.answers if a.what == "signup" and a.status == 201
        }


def assert_no_server_error(answers: list[Answer], allowed: tuple[int, ...] = ()) -> None:
    """Every answer is a success or 503 server.unavailable with Retry-After, never a 500."""
    for answer in answers:
        if answer.status in (200, 201, *allowed):
            continue
        assert answer.status == 503, answer
        assert answer.body == UNAVAILABLE, answer
        assert int(answer.retry_after or 0) > 0, answer


def active_user(cluster, mailbox) -> tuple[requests.Session, str]:
    """A confirmed user with a logged-in cookie session."""
    url = cluster.url()
    session = browser()
    address = f"fault-{uuid.uuid4().hex[:8]}@example.com"
    assert sign_up(session, url, address).status_code == 201
    token = mailbox.token(address)
    confirm = session.post(url + "/api/v2/identity/users/email/confirm_code", json={"token": token})
    assert confirm.status_code == 201, confirm.text
    session.headers["X-CSRF-Token"] = log_in(session, url, address)
    return session, address


def _sign_ups(cluster, prefix: str, count: int, created: dict[str, str]) -> None:
    """``count`` sign-ups of fresh addresses, each answered 201; ``created`` maps them to uids."""
    for _ in range(count):
        address = f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"
        response = sign_up(browser(), cluster.url(), address)
        assert response.status_code == 201, response.text
        created[address] = response.json()["uid"]


def test_fault_1_redis_primary_killed(cluster, mailbox, audit, measured):
    session, _ = active_user(cluster, mailbox)
    primary = cluster.redis_primary()
    assert primary in ("redis-1", "redis-2")
    load = Load(cluster, session)
    time.sleep(2)

    killed_at = time.monotonic()
    cluster.kill(primary, "KILL")
    wait_for(lambda: cluster.redis_primary() not in ("", primary), 30, "Sentinel's promotion")
    promoted_at = time.monotonic()

    def back() -> bool:
        with load.lock:
            later = [a for a in load.answers if a.at > promoted_at]
        return any(a.what == "signup" and a.status == 201 for a in later) and any(
            a.what == "authz" and a.status in (200, 401) for a in later
        )

    wait_for(back, 30, "service after the promotion")
    back_at = time.monotonic()
    time.sleep(3)
    answers = load.stop()
    unavailable = sum(a.status == 503 for a in answers)
    statuses = Counter(a.status for a in answers)
    sessions_kept = session.get(cluster.url(ME), timeout=30).status_code == 200
    measured("fault 1: Redis primary killed -> Sentinel promotion", promoted_at - killed_at, "s")
    measured("fault 1: promotion -> service back through HAProxy", back_at - promoted_at, "s")
    measured(
        "fault 1: answers during the failover (503 of them)", f"{len(answers)} ({unavailable})"
    )
    measured("fault 1: answers by status", str(dict(sorted(statuses.items()))))
    measured("fault 1: the session cookie still valid after the failover", str(sessions_kept))

    assert_no_server_error(answers, allowed=(401,))
    assert back_at - promoted_at <= 15
    check_delivered(cluster, mailbox, audit, load.created())

    cluster.start(primary)  # back as a replica of the new primary
    wait_for(lambda: cluster.redis_role(primary) == "slave", 30, f"{primary} replicating")


# ---------------------------------------------------------------- 2: the simple layout
# One process on the simple layout's Redis makes users on request, one per line read:
# "register <e-mail>" signs up as the API does (user, activity, confirmation e-mail);
# "create <e-mail>", while Redis is down (no tokens, no sessions), makes a user as an
# operator's shell would, events only. It answers "<e-mail>=<uid>".
MAKER = """
import sys
from accounts.services import user_create
from accounts.services.identity import user_register
for line in sys.stdin:
    how, address = line.split()
    make = user_register if how == "register" else user_create
    user = make(email=address, password={password!r})
    print(f"{{user.email}}={{user.uid}}", flush=True)
"""


class UserMaker:
    def __init__(self, cluster, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - our own manage.py
            [sys.executable, "manage.py", "shell", "--no-imports", "-c",
             MAKER.format(password=PASSWORD)],
            cwd=cluster.paths["cwd"], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip

    def make(self, count: int, how: str = "register") -> dict[str, str]:
        made = {}
        for _ in range(count):
            address = f"outage-{uuid.uuid4().hex[:10]}@example.com"
            self.process.stdin.write(f"{how} {address}\n")
            self.process.stdin.flush()
            answer = self.process.stdout.readline().strip()
            while answer and not answer.startswith(address + "="):  # anything Django says
                answer = self.process.stdout.readline().strip()
            assert answer, "the user maker exited"
            made[address] = answer.split("=", 1)[1]
        return made

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(30)


def _worker(cluster, env, name: str, log, beat: bool) -> subprocess.Popen:
    argv = [sys.executable, "-m", "celery", "-A", "barong", "worker", "-l", "info", "-c", "2",
            "-n", f"{name}@%h", "--without-gossip", "--without-mingle"]  # fmt: skip
    if beat:
        argv.append("-B")
    return subprocess.Popen(  # noqa: S603 - our own worker
        argv, cwd=cluster.paths["cwd"], env=env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip


def test_fault_2_redis_down_again_and_again_workers_survive(
    cluster, mailbox, audit, measured, tmp_path
):
    """One Redis as cache and broker (no Sentinel): it stops for 5, 15, 60, 5 and 15 s while
    users sign up; after each outage both workers are alive and deliver what waited."""
    redis = RedisServer(tmp_path / "redis")
    redis.start()
    env = {
        **os.environ, **cluster.env(),
        "REDIS_URL": redis.url, "CELERY_BROKER_URL": redis.url, "CELERY_BROKER_MASTER_NAME": "",
        "BARONG_DATA_DIR": str(tmp_path / "var"),
        "CELERY_BEAT_SCHEDULE_FILENAME": str(tmp_path / "beat-schedule"),
    }  # fmt: skip

    maker = UserMaker(cluster, env)

    # The cluster's own workers stop meanwhile: only these two relay the outbox.
    for name in ("worker-1", "worker-2"):
        cluster.stop(name)
    log = (tmp_path / "workers.log").open("ab")
    workers = [
        _worker(cluster, env, "simple-1", log, True),
        _worker(cluster, env, "simple-2", log, False),
    ]
    try:
        time.sleep(5)
        for seconds in (5, 15, 60, 5, 15):
            signed_up = maker.make(3)  # their e-mail tasks may still be queued at the stop
            redis.stop()
            down_at = time.monotonic()
            made = maker.make(2, "create")  # in PostgreSQL; their wake-ups are lost
            time.sleep(max(seconds - (time.monotonic() - down_at), 0))
            redis.start()
            back_at = time.monotonic()
            signed_up |= maker.make(2)
            settle(cluster, 90)
            took = time.monotonic() - back_at
            alive = [pid_alive(worker.pid) for worker in workers]
            measured(f"fault 2: Redis down {seconds} s -> outbox delivered after", took, "s")
            assert alive == [True, True], (tmp_path / "workers.log").read_text()[-5000:]
            check_delivered(cluster, mailbox, audit, signed_up)
            check_delivered(cluster, mailbox, audit, made, names=("model.user.created",))
    finally:
        maker.close()
        for worker in workers:
            if pid_alive(worker.pid):
                os.killpg(worker.pid, 15)
                worker.wait(30)
        log.close()
        redis.stop()
        for name in ("worker-1", "worker-2"):
            cluster.spawn(name)


def test_fault_3_gunicorn_node_killed_under_load(cluster, mailbox, audit, measured):
    session, _ = active_user(cluster, mailbox)
    load = Load(cluster, session, threads=4)
    time.sleep(3)
    cluster.kill("app-1", "KILL")  # the master and its workers, as a host going away
    time.sleep(4)
    answers = load.stop()
    failed = [a for a in answers if a.status not in (200, 201)]
    measured(
        "fault 3: requests under load / failed when app-1 was killed",
        f"{len(answers)} / {len(failed)} {[a.status for a in failed]}",
    )
    in_flight = 2  # app-1's workers: at most one request each when it died
    assert len(failed) <= in_flight, failed
    check_delivered(cluster, mailbox, audit, load.created())
    cluster.start("app-1")
    time.sleep(3)  # HAProxy's check: rise 2 at 1 s


def test_fault_4_worker_killed_in_the_middle_of_a_burst(cluster, mailbox, audit, measured):
    created: dict[str, str] = {}

    def burst(count: int) -> None:
        _sign_ups(cluster, "burst", count, created)

    burst(10)
    cluster.kill("worker-2", "KILL")  # no task it held is acknowledged
    burst(10)
    took = settle(cluster, 120)
    measured("fault 4: worker-2 SIGKILLed mid-burst -> all 20 e-mails delivered after", took, "s")
    check_delivered(cluster, mailbox, audit, created)
    mails = mailbox.by_recipient()
    duplicated = {a: ids for a, ids in mails.items() if a in created and len(ids) > 1}
    # The one message in flight at the kill may go out again, with the same Message-ID.
    assert len(duplicated) <= 1, duplicated
    cluster.spawn("worker-2")


def test_fault_5_postgresql_primary_restarted(cluster, mailbox, measured):
    session, _ = active_user(cluster, mailbox)
    url = cluster.url()
    cluster.stop("pg-primary")
    during = [
        _call("me", lambda: session.get(url + ME, timeout=30)),
        _call("signup", lambda: sign_up(browser(), url, f"pg-{uuid.uuid4().hex[:8]}@example.com")),
        _call("me", lambda: session.get(url + ME, timeout=30)),
    ]
    cluster.start("pg-primary")
    accepting_at = time.monotonic()
    after: list[Answer] = []

    def back() -> bool:
        after.append(_call("me", lambda: session.get(url + ME, timeout=30)))
        return after[-1].status == 200

    wait_for(back, 30, "service after the restart")
    took = time.monotonic() - accepting_at
    measured("fault 5: PostgreSQL accepting -> service back", took, "s")
    measured("fault 5: answers while it was down", ", ".join(str(a.status) for a in during))

    assert [a.status for a in during] == [503, 503, 503], during
    assert_no_server_error(during + after)
    assert took <= 5
    streaming = "SELECT count(*) FROM pg_stat_wal_receiver WHERE status = 'streaming'"
    wait_for(lambda: cluster.psql("pg-replica", streaming) == "1", 60, "the replica streaming")


def test_fault_6_replica_stopped(cluster, measured):
    operator = browser()
    operator_address = f"op-{uuid.uuid4().hex[:8]}@cluster.example"
    manage(
        cluster,
        "from accounts.services import superuser_create; "
        f"superuser_create(email={operator_address!r}, password={PASSWORD!r})",
    )
    log_in(operator, cluster.url(), operator_address)

    def read(address: str) -> Answer:
        return _call(
            "admin",
            lambda: operator.get(
                cluster.url("/api/v2/admin/users"), params={"email": address}, timeout=30
            ),
        )

    cluster.stop("pg-replica")
    try:
        address = f"noreplica-{uuid.uuid4().hex[:8]}@example.com"
        assert sign_up(browser(), cluster.url(), address).status_code == 201
        reads = []
        for _ in range(5):
            reads.append(read(address))
            time.sleep(0.5)
        slowest = max(b.at - a.at for a, b in itertools.pairwise(reads)) - 0.5
        measured(
            "fault 6: replica stopped -> operator's reads (statuses)",
            ", ".join(str(a.status) for a in reads),
        )
        measured("fault 6: slowest operator read while the replica was down", slowest, "s")
        assert [a.status for a in reads] == [200] * 5, reads
        assert all(a.body and a.body[0]["email"] == address for a in reads), reads
    finally:
        cluster.start("pg-replica")
    time.sleep(2)
    assert read(operator_address).status == 200


def test_fault_7_rabbitmq_restarted(cluster, mailbox, audit, measured):
    created: dict[str, str] = {}

    def users(count: int) -> None:
        _sign_ups(cluster, "amqp", count, created)

    users(3)
    settle(cluster)
    cluster.stop("rabbitmq", seconds=60)
    users(4)  # e-mails go out meanwhile; the events wait in the outbox
    started = cluster.start("rabbitmq", 180)
    took = settle(cluster, 120)
    measured("fault 7: RabbitMQ start", started, "s")
    measured("fault 7: RabbitMQ accepting -> every event delivered", took, "s")
    users(3)
    check_delivered(cluster, mailbox, audit, created)


@pytest.fixture(autouse=True)
def _whole_cluster_after(cluster):
    """Each fault test hands a whole cluster on (every service running)."""
    yield
    for name in cluster.services:
        if not cluster.alive(name):
            cluster.start(name, 180)
