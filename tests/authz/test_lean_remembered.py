"""The fast path's remembered answers (permissions/lean.py): an allowed call read from the
tracked copies is answered again without deciding, only for the very same request, in the
same clock second, while the copies and the settings are the same."""

import time

import pytest
from django.conf import settings
from django.core.cache import cache

from permissions import lean, snapshots
from tests.authz.conftest import settle_invalidations
from tests.authz.test_lean import SESSION_PREFIX, answer, environ, member  # noqa: F401

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL (CI)"),
]


@pytest.fixture
def clock(monkeypatch) -> list[float]:
    """The clock, one second until a test moves it."""
    now = [float(int(time.time()))]
    monkeypatch.setattr(time, "time", lambda: now[0])
    return now


@pytest.fixture
def decided(monkeypatch) -> list[dict]:
    """The environs the fast path decided on (each call that was not answered again)."""
    calls: list[dict] = []
    original = lean._answer
    monkeypatch.setattr(lean, "_answer", lambda env, raw: calls.append(env) or original(env, raw))
    return calls


@pytest.fixture
def warm(member, clock, decided) -> dict:  # noqa: F811
    """The member's cookie call (from a client port, as a server says), decided once fast
    and remembered."""
    _, cookie, _ = member
    env = environ(cookie=cookie, REMOTE_PORT="50000")
    answer(env, fast=False)
    assert answer(env, fast=True)[0] == "200 OK"
    assert len(decided) == 1
    decided.clear()
    return env


def test_the_same_call_in_the_same_second_is_answered_again_as_decided(warm, decided):
    first = answer(warm, fast=True)
    again = answer(dict(warm, REMOTE_PORT="50123", HTTP_X_REQUEST_ID="another-id-0002"), fast=True)

    assert decided == []
    assert first[0] == again[0] == "200 OK"
    assert [h for h in first[1] if h[0] != "X-Request-ID"] == [
        h for h in again[1] if h[0] != "X-Request-ID"
    ]
    assert ("X-Request-ID", "another-id-0002") in again[1]


@pytest.mark.parametrize(
    "change",
    [
        {"HTTP_USER_AGENT": "curl/8.0"},
        {"HTTP_X_FORWARDED_FOR": "203.0.113.9"},
        {"REMOTE_ADDR": "198.51.100.7"},
        {"REQUEST_METHOD": "POST"},
        {"QUERY_STRING": "a=1"},
        {"HTTP_X_CSRF_TOKEN": "x"},
        {"HTTP_X_ANY_HEADER": "1"},
    ],
)
def test_any_other_request_is_decided(warm, decided, change):
    answer(dict(warm, **change), fast=True)

    assert len(decided) == 1


def test_the_next_second_is_decided(warm, decided, clock):
    clock[0] += 1
    answer(warm, fast=True)

    assert len(decided) == 1


def test_a_write_to_a_copy_is_decided(member, warm, decided):  # noqa: F811
    _, cookie, _ = member
    key = SESSION_PREFIX + cookie.split("=", 1)[1]
    cache.set(key, {**cache.get(key), "user_agent": "curl/8.0"}, 60)
    settle_invalidations()

    status, _, content = answer(warm, fast=True)

    assert len(decided) == 1
    assert status == "401 Unauthorized"
    assert content == b'{"errors": ["authz.client_session_mismatch"]}'


def test_a_changed_setting_is_decided(warm, decided, settings):
    settings.BARONG_SESSION_MAX_LIFETIME = 0  # every session is past it now

    status, _, _ = answer(warm, fast=True)

    assert len(decided) == 1
    assert status == "401 Unauthorized"


def test_an_answer_read_past_the_copies_is_not_remembered(member, clock, decided):  # noqa: F811
    _, cookie, _ = member
    env = environ(cookie=cookie)
    answer(env, fast=False)
    lean.owners.clear()  # no owner hint: the snapshot is read past the copies
    assert answer(env, fast=True)[0] == "200 OK"
    lean.owners.clear()
    answer(env, fast=True)

    assert len(decided) == 2


def test_an_answer_for_a_locked_user_is_not_remembered(member, warm, decided, clock):  # noqa: F811
    """The lock's end is to the instant (its claim leaves the token then), not the second."""
    user, _, _ = member
    key = snapshots.user_key(user.uid)
    cache.set(key, {**cache.get(key), "security_lock_until": int(clock[0]) + 3600}, 60)
    settle_invalidations()

    assert answer(warm, fast=True)[0] == answer(warm, fast=True)[0] == "200 OK"
    assert len(decided) == 2
