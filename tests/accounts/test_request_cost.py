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

from accounts import tasks
from accounts.models import User
from barong.cache import batch
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
def queued(monkeypatch):
    """E-mails a request queues (the worker's work is not the request's)."""
    sent: list[tuple] = []
    monkeypatch.setattr(tasks.user_email_send, "delay", lambda *args: sent.append(args))
    return sent


def tables(captured) -> list[str]:
    """Each statement reduced to its verb and first table, for a readable failure."""
    out = []
    for query in captured.captured_queries:
        sql = query["sql"]
        table = TABLE_RE.search(sql)
        out.append(f"{sql.split(None, 1)[0].upper()} {table.group(1) if table else ''}".strip())
    return out


def test_login_is_one_user_read_one_insert_and_two_cache_round_trips(api, make_user, cache_ops):
    user = make_user(password=STRONG_PASSWORD)
    body = {"email": user.email, "password": STRONG_PASSWORD}
    cache_ops.calls.clear()

    with CaptureQueriesContext(connection) as captured:
        response = api.post("/api/v2/identity/sessions", body, format="json")

    assert response.status_code == HTTPStatus.OK, response.content
    # The user by e-mail, the login activity, then the four lists of the full-info answer.
    assert tables(captured) == [
        "SELECT users",
        "INSERT activities",
        "SELECT labels",
        "SELECT phones",
        "SELECT profiles",
        "SELECT data_storages",
    ]
    # Both rate-limit counters, then the session with its index entry and the reset.
    assert cache_ops.calls == {"batch": 2}


def test_login_with_rate_limits_off_still_writes_the_session_once(
    api, make_user, cache_ops, settings
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
    assert cache_ops.calls == {"batch": 1}


def test_refused_login_costs_no_session_write(api, make_user, cache_ops):
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
    assert tables(captured) == ["SELECT users", "INSERT activities"]
    assert cache_ops.calls == {"batch": 1}


def test_sign_up_is_two_checks_two_inserts_and_two_cache_round_trips(api, cache_ops, queued):
    with CaptureQueriesContext(connection) as captured:
        response = api.post(
            "/api/v2/identity/users",
            {"email": "fresh@example.com", "password": STRONG_PASSWORD},
            format="json",
        )

    assert response.status_code == HTTPStatus.CREATED, response.content
    user = User.objects.get(email="fresh@example.com")
    assert queued == [(user.pk, "email_confirmation", None)]
    # E-mail taken? role known? the user, its sign-up activity, the full-info lists.
    assert tables(captured) == [
        "SELECT users",
        "SELECT permissions",
        "INSERT users",
        "INSERT activities",
        "SELECT labels",
        "SELECT phones",
        "SELECT profiles",
        "SELECT data_storages",
    ]
    # The sign-up counter, then the session with its index entry.
    assert cache_ops.calls == {"batch": 2}
