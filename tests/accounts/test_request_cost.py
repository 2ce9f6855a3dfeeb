"""Login and sign-up cost one hash each: the database and cache work around it is counted.

The hash dominates a login; everything else is the overhead docs/BENCHMARKS.md measures
(CPU per login against one argon2id verify). These tests pin the number of SQL statements
and of cache round trips so that a regression fails here rather than in the benchmark.
They run in autocommit (``transaction=True``), as requests do in production; inside the
usual test transaction every single insert would gain a savepoint.
"""

import re
from collections import Counter
from http import HTTPStatus

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from barong.cache import batch
from events import relay
from kyc.models import DataStorage, Phone
from tests.accounts.conftest import STRONG_PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

TABLE_RE = re.compile(r'(?:FROM|INTO|UPDATE)\s+"(\w+)"')

CACHE_OPS = frozenset(
    {
        "add",
        "get",
        "set",
        "touch",
        "delete",
        "get_many",
        "set_many",
        "delete_many",
        "has_key",
        "incr",
        "decr",
        "get_many_and_add",
    }
)


class CountingCache:
    """The default cache, counting the calls that are one round trip each on Redis."""

    def __init__(self, real) -> None:
        self.real = real
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name: str):
        attr = getattr(self.real, name)
        if name not in CACHE_OPS:
            return attr

        def counted(*args, **kwargs):
            self.calls[name] += 1
            return attr(*args, **kwargs)

        return counted

    def batch(self, ops: list[tuple]) -> list:
        self.calls["batch"] += 1  # one pipeline on Redis, whatever the backend here
        return batch(ops, using=self.real)

    @property
    def round_trips(self) -> int:
        return sum(self.calls.values())


@pytest.fixture
def cache_ops():
    real = caches["default"]
    counting = CountingCache(real)
    caches["default"] = counting
    yield counting
    caches["default"] = real


@pytest.fixture
def kicks(monkeypatch):
    """Relay wake-ups a request asks for: the delivery of its events (e-mails included)
    is the relay's work after commit, not the request's."""
    sent: list[None] = []
    monkeypatch.setattr(relay, "relay_kick", lambda: sent.append(None))
    return sent


# The lists of the full-info answer read after the user: one statement on PostgreSQL (JSON
# arrays, accounts/full_info.py), one per list elsewhere.
ANSWER_LISTS = (
    ["SELECT"]
    if connection.vendor == "postgresql"
    else ["SELECT labels", "SELECT phones", "SELECT profiles", "SELECT data_storages"]
)


def tables(captured) -> list[str]:
    """Each statement reduced to its verb and first table outside any subquery (an
    ``EXISTS (...)`` read with the row is part of the same statement), for a readable failure."""
    out = []
    for query in captured.captured_queries:
        sql = outer = query["sql"]
        while (stripped := re.sub(r"\([^()]*\)", "", outer)) != outer:
            outer = stripped
        table = TABLE_RE.search(outer)
        out.append(f"{sql.split(None, 1)[0].upper()} {table.group(1) if table else ''}".strip())
    return out


def test_login_is_one_user_read_two_inserts_and_three_cache_round_trips(
    api, make_user, cache_ops, kicks
):
    user = make_user(password=STRONG_PASSWORD)
    body = {"email": user.email, "password": STRONG_PASSWORD}
    cache_ops.calls.clear()

    with CaptureQueriesContext(connection) as captured:
        response = api.post("/api/v2/identity/sessions", body, format="json")

    assert response.status_code == HTTPStatus.OK, response.content
    # The user by e-mail (with a passkey? this device seen? and the lists of the answer:
    # all of them as JSON on PostgreSQL, elsewhere which ones have rows), the login
    # activity, its event (the new-login e-mail is sent by the relay), then elsewhere the
    # labels; the empty phones, profiles and data storages cost no query. No BEGIN/COMMIT
    # around inserts.
    assert tables(captured) == [
        "SELECT users",
        "INSERT activities",
        "INSERT outbox_events",
        *([] if connection.vendor == "postgresql" else ["SELECT labels"]),
    ]
    # Both rate-limit counters, the user's session index (fewer sessions than
    # BARONG_SESSIONS_PER_USER: none to end), then the session with its index entry and
    # the reset.
    assert cache_ops.calls == {"batch": 3}
    assert len(kicks) == 1


def test_login_reads_only_the_lists_that_have_rows(api, make_user, kicks):
    user = make_user(password=STRONG_PASSWORD)
    Phone.objects.create(user=user, country="FR", number="33612345678")
    DataStorage.objects.create(user=user, title="address", data='{"city": "Lyon"}')

    with CaptureQueriesContext(connection) as captured:
        response = api.post(
            "/api/v2/identity/sessions",
            {"email": user.email, "password": STRONG_PASSWORD},
            format="json",
        )

    assert response.status_code == HTTPStatus.OK, response.content
    lists = ["SELECT labels", "SELECT phones", "SELECT data_storages"]
    assert tables(captured)[3:] == ([] if connection.vendor == "postgresql" else lists)
    body = response.json()
    assert [phone["number"] for phone in body["phones"]] == ["33612345678"]
    assert body["profiles"] == []
    assert [item["title"] for item in body["data_storages"]] == ["address"]


def test_login_with_rate_limits_off_still_writes_the_session_once(
    api, make_user, cache_ops, settings, kicks
):
    settings.BARONG_RATE_LIMITS = False
    user = make_user(password=STRONG_PASSWORD)
    cache_ops.calls.clear()

    response = api.post(
        "/api/v2/identity/sessions",
        {"email": user.email, "password": STRONG_PASSWORD},
        format="json",
    )

    assert response.status_code == HTTPStatus.OK
    # The user's session index (the cap on sessions), then the session.
    assert cache_ops.calls == {"batch": 2}


def test_refused_login_costs_no_session_write(api, make_user, cache_ops, kicks):
    user = make_user(password=STRONG_PASSWORD)
    cache_ops.calls.clear()

    with CaptureQueriesContext(connection) as captured:
        response = api.post(
            "/api/v2/identity/sessions",
            {"email": user.email, "password": "Wrong-Horse-Battery-1"},
            format="json",
        )

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"errors": ["identity.session.invalid_params"]}
    # The request: one user query (and one hash). The failed-login activity is the
    # worker's (accounts/services/constant_work.py), run in-process here (eager Celery):
    # it looks the user up again and writes the row.
    assert tables(captured) == ["SELECT users", "SELECT users", "INSERT activities"]
    # The limits read (login_ip counted with them), then the failure counted.
    assert cache_ops.calls == {"batch": 2}


def test_sign_up_is_two_checks_one_transaction_and_two_cache_round_trips(api, cache_ops, kicks):
    with CaptureQueriesContext(connection) as captured:
        response = api.post(
            "/api/v2/identity/users",
            {"email": "fresh@example.com", "password": STRONG_PASSWORD},
            format="json",
        )

    assert response.status_code == HTTPStatus.CREATED, response.content
    assert User.objects.filter(email="fresh@example.com").exists()
    assert kicks  # the confirmation e-mail waits in the outbox
    # One transaction: e-mail taken? role known? the user and its event (a savepoint, for
    # a concurrent sign-up of the same address), the activity (a savepoint: best-effort),
    # the confirmation e-mail's event; then the four lists of the full-info answer (one
    # statement on PostgreSQL).
    assert tables(captured) == [
        "BEGIN",
        "SELECT users",
        "SELECT permissions",
        "SAVEPOINT",
        "INSERT users",
        "INSERT outbox_events",
        "RELEASE",
        "SAVEPOINT",
        "INSERT activities",
        "RELEASE",
        "INSERT outbox_events",
        "COMMIT",
        *ANSWER_LISTS,
    ]
    # The sign-up counter; the confirmation token's marker and its pointer (which answers
    # that no earlier token exists: accounts/tokens.py); the (empty) session index read
    # for the cap on sessions; the session with its index entry.
    assert cache_ops.calls == {"batch": 4}
