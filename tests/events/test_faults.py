"""E-mails and events survive a killed worker, a Redis outage and a RabbitMQ outage.

Real PostgreSQL, a Redis and a RabbitMQ node owned by this module, and real
``celery -A barong worker -B`` processes. After each fault and its recovery, every
signed-up user has exactly one confirmation e-mail and exactly one ``model.user.created``
and one ``system.user.email.confirmation.token`` event (by jti; a redelivery repeats a
jti), and every sign-up that answered 2xx is in the database.
"""

import base64
import email
import json
import os
import time
import uuid
from collections import defaultdict
from http import HTTPStatus
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings as django_settings
from django.db import connection
from kombu import Connection, Queue
from rest_framework.test import APIClient

from accounts.models import User
from barong import jwt as barong_jwt
from events.models import OutboxEvent
from tests.accounts.conftest import STRONG_PASSWORD
from tests.brokers import celery_broker
from tests.conftest import BROWSER_UA
from tests.events.processes import CeleryWorker, RabbitMQServer, RedisServer, binaries_missing
from tests.keys import private_pem

pytestmark = [
    pytest.mark.worker,
    pytest.mark.skipif(
        connection.vendor != "postgresql" or not os.environ.get("DATABASE_URL"),
        reason="the worker process must reach the test database (PostgreSQL)",
    ),
    pytest.mark.skipif(bool(binaries_missing()), reason=f"missing {binaries_missing()}"),
]

QUEUE = "barong-fault-tests"
ROUTES = {
    "barong.events.model": ["user.created"],
    "barong.events.system": ["user.email.confirmation.token"],
}
RECOVERY_SECONDS = 45


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture(scope="module")
def rabbitmq(tmp_path_factory):
    server = RabbitMQServer(tmp_path_factory.mktemp("rabbitmq"), QUEUE, ROUTES)
    server.start()
    yield server
    server.close()


def _test_database_url() -> str:
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"]))


def _drain(url: str) -> list[dict]:
    """Event payloads (claims) waiting in the test queue, consumed."""
    with Connection(url) as conn:
        queue = Queue(QUEUE, durable=True)(conn.channel())
        claims = []
        while (message := queue.get(no_ack=True)) is not None:
            payload = json.loads(message.body)["payload"]
            claims.append(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))
        return claims


class Stack:
    """The API in this process and a worker process, both on this module's Redis and RabbitMQ."""

    def __init__(self, tmp_path: Path, redis_server, rabbitmq, settings) -> None:
        self.redis, self.rabbitmq = redis_server, rabbitmq
        self.mail_dir = tmp_path / "mail"
        self.mail_dir.mkdir()
        self.log = tmp_path / "worker.log"
        prefix = f"fault-{uuid.uuid4().hex}"
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": redis_server.url,
                "KEY_PREFIX": prefix,
            }
        }
        settings.BARONG_RATE_LIMITS = False
        settings.BARONG_EVENT_API_URL = rabbitmq.url
        settings.CELERY_TASK_ALWAYS_EAGER = False
        # Undone in close(): nothing of this process may go on pointing at this module's
        # Redis once it is stopped (tests/brokers.py).
        self.broker = celery_broker(redis_server.url)
        self.broker.__enter__()
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "barong.settings",
            "DATABASE_URL": _test_database_url(),
            "REDIS_URL": redis_server.url,
            "CELERY_BROKER_URL": redis_server.url,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "BARONG_CACHE_PREFIX": prefix,
            "BARONG_DATA_DIR": str(tmp_path / "var"),
            "JWT_PRIVATE_KEY": private_pem(barong_jwt.signing_key().private_key),
            "BARONG_ENCRYPTION_KEY": django_settings.BARONG_ENCRYPTION_KEY,
            "DJANGO_SECRET_KEY": django_settings.SECRET_KEY,
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(self.mail_dir),
            "BARONG_EVENT_API_URL": rabbitmq.url,
            "BARONG_EVENT_API_CONNECT_TIMEOUT": "2",
            "BARONG_OUTBOX_SWEEP_INTERVAL": "1",
            "BARONG_OUTBOX_RETRY_BASE": "1",
            "BARONG_OUTBOX_RETRY_MAX": "4",
        }
        self.workers: list[CeleryWorker] = []
        self.env = env
        self.api = APIClient(HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR="203.0.113.10")
        self.answers: dict[str, int] = {}
        _drain(rabbitmq.url)

    def worker(self) -> CeleryWorker:
        worker = CeleryWorker(self.env, self.log, Path(django_settings.BASE_DIR))
        worker.start()
        self.workers.append(worker)
        return worker

    def sign_up(self, count: int) -> None:
        for _ in range(count):
            address = f"fault{len(self.answers)}@example.com"
            try:
                response = self.api.post(
                    "/api/v2/identity/users",
                    {"email": address, "password": STRONG_PASSWORD},
                    format="json",
                )
                self.answers[address] = response.status_code
            except Exception:  # a Redis outage may surface as an exception in the test client
                self.answers[address] = 599
            self.api.cookies.clear()

    def mails(self) -> dict[str, list[str]]:
        """Message-IDs of the e-mails written by the file backend, per recipient."""
        found: dict[str, list[str]] = defaultdict(list)
        for path in self.mail_dir.glob("*.log"):
            for chunk in path.read_text(errors="replace").split("-" * 79):
                if chunk.strip():
                    message = email.message_from_string(chunk.strip())
                    found[message["To"]].append(message["Message-ID"])
        return found

    def settled(self) -> bool:
        users = set(User.objects.values_list("email", flat=True))
        pending = OutboxEvent.objects.filter(delivered_at__isnull=True).exists()
        return not pending and users <= set(self.mails())

    def wait_settled(self) -> None:
        deadline = time.monotonic() + RECOVERY_SECONDS
        while time.monotonic() < deadline:
            if self.settled():
                return
            time.sleep(0.5)
        pending = list(
            OutboxEvent.objects.filter(delivered_at__isnull=True).values_list(
                "routing_key", "attempts", "last_error"
            )
        )
        pytest.fail(
            f"not delivered within {RECOVERY_SECONDS}s: {pending[:5]}\n"
            + self.log.read_text(errors="replace")[-4000:]
        )

    def check(self) -> None:
        """Exactly one e-mail and one event of each kind per user; every 2xx kept."""
        users = {user.email: user.uid for user in User.objects.all()}
        created = {address for address, code in self.answers.items() if code == HTTPStatus.CREATED}
        assert created <= set(users), "a sign-up answered 201 but is not in the database"
        mails = self.mails()
        duplicated = {address: ids for address, ids in mails.items() if len(ids) > 1}
        for address in users:
            ids = mails.get(address, [])
            assert len(set(ids)) == 1, (address, ids)  # one e-mail (one event) per user
        # A worker killed between the mail server's acceptance and its commit sends that one
        # message again, with the same Message-ID: at most the one in flight at the kill.
        assert len(duplicated) <= 1, duplicated
        assert all(len(ids) == 2 for ids in duplicated.values()), duplicated
        jtis: dict[tuple[str, str], set[str]] = defaultdict(set)
        for claims in _drain(self.rabbitmq.url):
            event = claims["event"]
            jtis[(event["name"], event["record"].get("uid") or event["record"]["user"]["uid"])].add(
                claims["jti"]
            )
        for uid in users.values():
            for name in ("model.user.created", "system.user.email.confirmation.token"):
                assert len(jtis[(name, uid)]) == 1, (name, uid, jtis[(name, uid)])
        assert len(jtis) == 2 * len(users)

    def close(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.broker.__exit__(None, None, None)


@pytest.fixture
def stack(transactional_db, tmp_path, redis_server, rabbitmq, settings):
    built = Stack(tmp_path, redis_server, rabbitmq, settings)
    yield built
    built.close()


def test_worker_killed_in_the_middle_of_a_burst(stack):
    first = stack.worker()
    stack.sign_up(6)
    first.kill()  # SIGKILL to the worker and its beat: tasks in flight are never acknowledged
    stack.sign_up(6)
    stack.worker()

    stack.wait_settled()

    assert list(stack.answers.values()) == [HTTPStatus.CREATED] * 12
    stack.check()


def test_redis_stopped_for_some_seconds(stack, redis_server):
    stack.worker()
    stack.sign_up(4)
    redis_server.stop()
    stack.sign_up(3)  # cache and broker are gone: these may fail, but never half-succeed
    time.sleep(4)
    redis_server.start()
    stack.sign_up(4)

    stack.wait_settled()

    codes = list(stack.answers.values())
    assert codes[:4] == [HTTPStatus.CREATED] * 4
    assert HTTPStatus.CREATED not in codes[4:7]  # the outage was real
    assert codes[-4:] == [HTTPStatus.CREATED] * 4
    stack.check()


def test_rabbitmq_stopped_for_some_seconds(stack, rabbitmq):
    stack.worker()
    stack.sign_up(3)
    rabbitmq.stop()
    stack.sign_up(4)
    # E-mails do not wait for the Event API: the outage sign-ups are mailed meanwhile.
    deadline = time.monotonic() + RECOVERY_SECONDS
    while time.monotonic() < deadline and len(stack.mails()) < 7:
        time.sleep(0.5)
    assert len(stack.mails()) == 7
    assert OutboxEvent.objects.filter(publish=True, published_at__isnull=True).exists()
    rabbitmq.start()

    stack.wait_settled()

    assert list(stack.answers.values()) == [HTTPStatus.CREATED] * 7
    stack.check()
