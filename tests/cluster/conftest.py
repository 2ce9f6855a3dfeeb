"""The cluster tests talk to the topology ``make cluster`` runs, as its clients would.

``make cluster-test`` starts a fresh cluster, runs ``pytest -m cluster tests/cluster`` with
``BARONG_CLUSTER_DIR`` naming it, and stops it. Without that variable every test here is
skipped. HTTP goes through HAProxy; e-mails are read from the files the workers write;
events from the audit queue bound in ops/cluster/rabbitmq-definitions.json; the database
is looked at with psql on the primary or the replica directly. Each fault test restores
what it broke before it ends, so the next one starts on a whole cluster.
"""

import base64
import email
import json
import os
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
import requests

from ops.cluster.topology import AUDIT_QUEUE, Cluster, wait_for

CLUSTER_DIR = os.environ.get("BARONG_CLUSTER_DIR", "")
PASSWORD = "Harbour-Falcon-Meadow-57"
BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"
TOKEN_RE = re.compile(r"confirmation_token=([A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+)")
EVENT_NAMES = ("model.user.created", "system.user.email.confirmation.token")


@pytest.hookimpl(trylast=True)  # after tests/conftest.py's ordering
def pytest_collection_modifyitems(config, items) -> None:
    """Skipped without a cluster (the modules are marked ``cluster`` themselves: ``-m``
    selects before this hook). The journey first, on a whole cluster, then the faults in
    their numbered order: the cluster's tests change places among themselves, in the
    slots they hold, so no other test moves.

    Here, not in ``pytest_collection_finish``: an xdist worker has reported its items by
    then, and a list sorted after it no longer matches the indexes the scheduler sends
    (every module's last tests ran on the other worker, its module fixtures set up twice).
    """
    here = Path(__file__).parent
    slots = [index for index, item in enumerate(items) if here in item.path.parents]
    for index in slots:
        if not CLUSTER_DIR:
            items[index].add_marker(pytest.mark.skip(reason="no cluster (make cluster-test)"))
    ordered = sorted(slots, key=lambda index: (items[index].path.name != "test_journey.py", index))
    cluster_items = [items[index] for index in ordered]
    for index, item in zip(slots, cluster_items, strict=True):
        items[index] = item


@pytest.fixture(scope="session")
def cluster() -> Cluster:
    built = Cluster(CLUSTER_DIR)
    down = [name for name in built.services if not built.alive(name)]
    assert not down, f"cluster services not running: {down}"
    return built


@pytest.fixture(scope="session")
def measured(cluster):
    """Record a measured number: printed at the end and kept in <cluster>/measurements.txt."""
    path = cluster.root / "measurements.txt"

    def record(name: str, value: float | str, unit: str = "") -> None:
        text = f"{value:.2f}" if isinstance(value, float) else str(value)
        with path.open("a") as out:
            out.write(f"{name}: {text}{(' ' + unit) if unit else ''}\n")

    return record


def browser() -> requests.Session:
    session = requests.Session()
    session.headers["User-Agent"] = BROWSER_UA
    return session


class Mailbox:
    """The e-mails the workers wrote (Django's file backend: one file per connection)."""

    def __init__(self, folder: str) -> None:
        self.folder = Path(folder)

    def messages(self) -> list[email.message.Message]:
        found = []
        for path in sorted(self.folder.glob("*.log")):
            for chunk in path.read_text(errors="replace").split("-" * 79):
                if chunk.strip():
                    found.append(email.message_from_string(chunk.strip()))
        return found

    def by_recipient(self) -> dict[str, list[str]]:
        """Message-IDs per recipient."""
        found: dict[str, list[str]] = defaultdict(list)
        for message in self.messages():
            found[message["To"]].append(message["Message-ID"])
        return found

    def token(self, address: str, seconds: float = 30) -> str:
        def find() -> str:
            for message in self.messages():
                if message["To"] != address:
                    continue
                for part in message.walk():
                    if part.get_content_type() == "text/plain":
                        body = part.get_payload(decode=True).decode(errors="replace")
                        if match := TOKEN_RE.search(body):
                            return match.group(1)
            return ""

        wait_for(lambda: bool(find()), seconds, f"confirmation e-mail to {address}")
        return find()


@pytest.fixture(scope="session")
def mailbox(cluster) -> Mailbox:
    return Mailbox(cluster.paths["mail"])


class Audit:
    """The events in the audit queue (the claims of each signed message), consumed."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.seen: list[dict] = []

    def drain(self) -> list[dict]:
        from kombu import Connection, Queue

        claims = []
        with Connection(self.url, connect_timeout=5) as conn:
            queue = Queue(AUDIT_QUEUE, durable=True)(conn.channel())
            while (message := queue.get(no_ack=True)) is not None:
                payload = json.loads(message.body)["payload"]
                padded = payload + "=" * (-len(payload) % 4)
                claims.append(json.loads(base64.urlsafe_b64decode(padded)))
        self.seen += claims
        return claims

    def by_user(self) -> dict[tuple[str, str], dict[str, str]]:
        """(event name, user uid) -> {jti: the event's content as JSON}."""
        found: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
        for claims in self.seen:
            event = claims["event"]
            uid = event["record"].get("uid") or event["record"]["user"]["uid"]
            content = json.dumps(event, sort_keys=True)
            previous = found[(event["name"], uid)].setdefault(claims["jti"], content)
            assert previous == content, f"event {claims['jti']} delivered twice, differently"
        return found


@pytest.fixture
def audit(cluster) -> Audit:
    """The audit queue, emptied first: only what this test caused is looked at."""
    queue = Audit(cluster.env()["BARONG_EVENT_API_URL"])
    queue.drain()
    queue.seen = []
    return queue


def manage(cluster: Cluster, code: str) -> str:
    """Python run by ``manage.py shell`` with the cluster's environment (an operator's shell)."""
    env = {**os.environ, **cluster.env()}
    done = subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=cluster.paths["cwd"], env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def sign_up(session: requests.Session, url: str, address: str) -> requests.Response:
    return session.post(
        url + "/api/v2/identity/users", json={"email": address, "password": PASSWORD}, timeout=30
    )


def log_in(session: requests.Session, url: str, address: str) -> str:
    """Log in; the CSRF token the session's writes send back."""
    response = session.post(
        url + "/api/v2/identity/sessions", json={"email": address, "password": PASSWORD}, timeout=30
    )
    assert response.status_code == 200, response.text
    return response.json()["csrf_token"]


def outbox_pending(cluster: Cluster) -> int:
    return int(
        cluster.psql("pg-primary", "SELECT count(*) FROM outbox_events WHERE delivered_at IS NULL")
    )


def settle(cluster: Cluster, seconds: float = 60) -> float:
    """Wait until the outbox has delivered everything; the seconds it took."""
    return wait_for(lambda: outbox_pending(cluster) == 0, seconds, "outbox delivered")


def check_delivered(
    cluster: Cluster,
    mailbox: Mailbox,
    audit: Audit,
    created: dict[str, str],
    names: tuple[str, ...] = EVENT_NAMES,
) -> None:
    """Each user signed up has exactly one confirmation e-mail (one Message-ID) and exactly
    one event of each kind (one jti; a redelivery repeats it, with the same content).
    ``names`` without the confirmation token: users made without a sign-up, no e-mail."""
    settle(cluster)
    mails = mailbox.by_recipient()
    audit.drain()
    events = audit.by_user()
    for address, uid in created.items():
        expected = 1 if "system.user.email.confirmation.token" in names else 0
        assert len(set(mails.get(address, []))) == expected, (address, mails.get(address))
        for name in names:
            assert len(events[(name, uid)]) == 1, (name, address, events[(name, uid)])
