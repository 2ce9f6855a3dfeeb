"""The front's fast path (permissions/lean.py): what it renders, what it hands over.

There is one decision (permissions/decision.py, tested on its own in test_decision.py);
the fast path is an adapter that renders only the answers needing no effect. The whole
authz suite also runs through it (tests/authz/conftest.py, the ``fast`` client); here
its rendering of an answer is compared byte for byte with Django's adapter's for the
same request, each case it must not render is checked to reach Django's adapter, and,
on Redis, the copies it reads from are shown to follow every write made elsewhere.
"""

import io
import time

import pytest
import redis
from django.conf import settings
from django.core.cache import cache, caches
from rest_framework.test import APIClient

from accounts.services import user_otp_set, user_state_set
from accounts.sessions import user_session_end
from apikeys.services import api_key_create
from barong.redis_local import MAX_AGE, MAX_KEYS, LocalCopies
from barong.redis_wire import Push, _Pinned, parse
from permissions import lean, snapshots
from permissions.middleware import authz_raw_path
from permissions.wsgi import AuthzFront
from tests.authz.conftest import (
    CLIENT_IP,
    gateway_environ,
    login,
    settle_invalidations,
    signed_headers,
    wsgi_call,
)
from tests.authz.test_front import Recorder
from tests.conftest import BROWSER_UA

pytestmark = pytest.mark.django_db

ME = "/api/v2/auth/api/v2/barong/resource/users/me"
PUBLIC = "/api/v2/auth/api/v2/barong/identity/ping"
REQUEST_ID = "lean-test-request-0001"
SESSION_PREFIX = "django.contrib.sessions.cache"
needs_redis = pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL (CI)")


@pytest.fixture(autouse=True)
def _one_second(monkeypatch):
    """One clock second for the whole test: the session's idle expiry does not slide
    between the two paths' calls (a slide is its own case below)."""
    now = float(int(time.time()))
    monkeypatch.setattr(time, "time", lambda: now)


def environ(path: str = ME, **options) -> dict:
    """A gateway call with a fixed request id, so that two answers compare byte for byte."""
    return gateway_environ(path, **{"HTTP_X_REQUEST_ID": REQUEST_ID, **options})


def answer(env: dict, *, fast: bool) -> tuple[str, list, bytes]:
    """The front's answer with its fast path on or off."""
    sent: dict = {}

    def start_response(status, headers, exc_info=None):
        sent["status"], sent["headers"] = status, headers

    if fast:
        settle_invalidations()
    front = AuthzFront(Recorder(), fast_path=fast)
    content = wsgi_call(front, dict(env, **{"wsgi.input": io.BytesIO(b"")}), start_response)
    return sent["status"], sorted(sent["headers"]), content


def fast_answers(env: dict) -> bool:
    """Whether the fast path answers ``env`` itself (it is given a copy)."""
    env = dict(env)
    settle_invalidations()
    return lean.lean_answer(env, authz_raw_path(env["PATH_INFO"])) is not None


def _login(user) -> tuple[str, str]:
    """(cookie header, CSRF token) of a new session of ``user``."""
    client = APIClient(HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR=CLIENT_IP)
    csrf = login(client, user)
    return (
        f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}",
        csrf,
    )


@pytest.fixture
def member(make_user):
    user = make_user()
    cookie, csrf = _login(user)
    return user, cookie, csrf


_SECRETS: dict[str, str] = {}


def _secret_of(owner) -> str:
    return _SECRETS[owner.uid]


def _lifetime() -> int:
    return settings.BARONG_APIKEY_NONCE_LIFETIME


@pytest.fixture
def signed(make_user):
    """A fresh signed request for the member's API key at each call."""
    owner = user_otp_set(user=make_user(), enabled=True)
    key, secret = api_key_create(user=owner)
    _SECRETS[owner.uid] = secret
    nonce = [int(time.time() * 1000)]

    def headers() -> dict:
        nonce[0] += 1
        return signed_headers(key.kid, secret, nonce=nonce[0])

    return owner, headers


# ---------------------------------------------------------------- the same answers


@pytest.mark.parametrize(
    "case",
    ["cookie", "cookie-post", "cookie-head", "public", "public-with-cookie", "dot-segments"],
)
def test_the_fast_rendering_is_the_full_paths_byte_for_byte(member, case):
    _, cookie, csrf = member
    env = {
        "cookie": environ(cookie=cookie),
        "cookie-post": environ(method="POST", cookie=cookie, HTTP_X_CSRF_TOKEN=csrf),
        "cookie-head": environ(method="head", cookie=cookie),
        "public": environ(PUBLIC),
        "public-with-cookie": environ(PUBLIC, cookie=f"theme=dark; {cookie}"),
        "dot-segments": environ(
            "/api/v2/auth/api/v2/barong/resource/./users/me.json", cookie=cookie
        ),
    }[case]
    full = answer(env, fast=False)  # also warms the tables, the snapshot and the token

    assert fast_answers(env)
    assert answer(env, fast=True) == full
    assert full[0] == "200 OK"


def test_a_signed_request_gets_the_full_paths_answer(signed):
    _, headers = signed
    full = answer(environ(**headers()), fast=False)

    env = environ(**headers())
    assert fast_answers(env)
    assert answer(environ(**headers()), fast=True) == full
    assert dict(full[1])["Authorization"].startswith("Bearer ")


def test_a_replayed_signature_is_refused_after_a_fast_answer(signed):
    _, headers = signed
    answer(environ(**headers()), fast=False)
    env = environ(**headers())

    first = answer(env, fast=True)
    again = answer(env, fast=True)

    assert first[0] == "200 OK"
    assert again[0] == "401 Unauthorized"
    assert again[2] == b'{"errors": ["authz.signature_blacklisted"]}'


# ---------------------------------------------------------------- handed over


def test_a_session_that_slides_this_second_is_handed_over_and_slid(member, monkeypatch):
    _, cookie, _ = member
    env = environ(cookie=cookie)
    answer(env, fast=False)
    later = time.time() + 5
    monkeypatch.setattr(time, "time", lambda: later)

    assert not fast_answers(env)
    status, headers, _ = answer(env, fast=True)
    assert status == "200 OK"
    assert any(name == "Set-Cookie" for name, _ in headers)  # the full path slid it
    assert fast_answers(env)  # and the next call in that second is answered fast


@pytest.mark.parametrize(
    "case",
    [
        "no-credentials",
        "unknown-session",
        "short-session-key",
        "body",
        "denied-role",
        "audited",
        "unsafe-path",
        "non-ascii-path",
        "banned",
        "other-agent",
    ],
)
def test_what_the_fast_path_does_not_decide_reaches_the_full_path(case, member, make_admin):
    user, cookie, _ = member
    env = environ(cookie=cookie)
    if case == "no-credentials":
        env = environ()
    elif case == "unknown-session":
        env = environ(cookie=f"{settings.SESSION_COOKIE_NAME}=nosuchsessionkey00000000")
    elif case == "short-session-key":
        env = environ(cookie=f"{settings.SESSION_COOKIE_NAME}=short")
    elif case == "body":
        env = environ(cookie=cookie, CONTENT_LENGTH="2", CONTENT_TYPE="application/json")
    elif case == "denied-role":
        env = environ("/api/v2/auth/api/v2/barong/admin/users", cookie=cookie)
    elif case == "audited":
        admin_cookie, admin_csrf = _login(make_admin())
        env = environ(
            "/api/v2/auth/api/v2/barong/admin/users/labels",
            method="POST",
            cookie=admin_cookie,
            HTTP_X_CSRF_TOKEN=admin_csrf,
        )
    elif case == "unsafe-path":
        env = environ("/api/v2/auth/api/v2/barong/resource/users/me%2e%2e", cookie=cookie)
    elif case == "non-ascii-path":
        env = environ("/api/v2/auth/api/v2/barong/resource/users/m\xc3\xa9", cookie=cookie)
    answer(env, fast=False)  # warm
    if case == "banned":
        user_state_set(user=user, state="banned")
    elif case == "other-agent":
        env["HTTP_USER_AGENT"] = "curl/8.0"

    assert not fast_answers(env)
    got = answer(env, fast=True)
    if case == "other-agent":  # the full path ended the session: it is gone for the next
        assert got[0] == "401 Unauthorized"
        assert got[2] == b'{"errors": ["authz.client_session_mismatch"]}'
    else:
        assert got == answer(env, fast=False)


def test_a_call_reaching_the_full_path_reuses_the_fast_paths_round_trip(signed):
    """A signed call claims its signature once: the full path must not claim it again
    (that would refuse every signed call it takes over as a replay)."""
    owner, headers = signed
    answer(environ(**headers()), fast=False)
    user_otp_set(user=owner, enabled=False)  # the fast path now hands these calls over
    expected = answer(environ(**headers()), fast=False)

    got = answer(environ(**headers()), fast=True)

    assert got == expected
    assert got[0] == "401 Unauthorized"
    assert b"signature_blacklisted" not in got[2]


def test_a_signature_at_the_windows_edge_is_claimed_once(signed):
    """A nonce exactly one lifetime ahead is inside ``api_key_verify``'s window but not
    claimed early: the fast path must leave it to the full path, or the full path, taking
    over, would find its own claim taken (a false ``signature_blacklisted``)."""
    owner, headers = signed
    answer(environ(**headers()), fast=False)  # the owner hint, the tables, the key row
    kid, secret = headers()["HTTP_X_AUTH_APIKEY"], _secret_of(owner)
    edge = signed_headers(kid, secret, nonce=int(time.time() * 1000) + _lifetime())
    cache.delete(snapshots.user_key(owner.uid))  # so that the full path answers it

    assert not fast_answers(environ(**edge))
    status, _, content = answer(environ(**edge), fast=True)

    assert status == "200 OK", content


def test_a_redis_outage_met_by_the_fast_path_is_the_full_paths_503(member, monkeypatch):
    _, cookie, _ = member
    env = environ(cookie=cookie)
    answer(env, fast=False)

    def down(*args, **kwargs):
        raise redis.exceptions.ConnectionError("Redis is away")

    monkeypatch.setattr("permissions.lean.prefetch_run", down)
    monkeypatch.setattr("permissions.lean._local_reads", down)
    calls = []
    monkeypatch.setattr("permissions.authz.prefetch_run", lambda *a: calls.append(a) or down())

    status, _, content = answer(env, fast=True)

    assert status == "503 Service Unavailable"
    assert content == b'{"errors": ["server.unavailable"]}'
    assert calls == []  # the failure was handed over, not met a second time


# ---------------------------------------------------------------- copies kept by Redis


def _copies() -> LocalCopies:
    return caches["default"]._wire._pinned().local


@pytest.fixture
def warm(member) -> dict:
    """The environ of the member's cookie call, answered once fast: its keys are held."""
    _, cookie, _ = member
    env = environ(cookie=cookie)
    answer(env, fast=False)
    assert answer(env, fast=True)[0] == "200 OK"
    return env


@needs_redis
def test_the_fast_path_reads_from_copies_once_it_has_them(warm):
    env = warm
    assert len(_copies()) == 4  # two version stamps, the session, the snapshot
    assert answer(env, fast=True)[0] == "200 OK"


def test_made_up_cookies_and_keys_are_never_read_through_copies(member, monkeypatch):
    """Redis remembers each key read through copies: only sessions this worker has seen
    valid are read that way (and no API-key call), so random cookies or key ids cannot
    grow that memory."""
    _, cookie, _ = member
    answer(environ(cookie=cookie), fast=False)
    read = []
    original = lean._local_reads
    monkeypatch.setattr(
        lean, "_local_reads", lambda wanted: read.append(wanted) or original(wanted)
    )

    made_up = f"{settings.SESSION_COOKIE_NAME}=madeupsessionkey000000000000000"
    assert answer(environ(cookie=made_up), fast=True)[0] == "401 Unauthorized"
    malformed = {"HTTP_X_AUTH_APIKEY": "madeupkid", "HTTP_X_AUTH_NONCE": "1"}
    answer(environ(**malformed, HTTP_X_AUTH_SIGNATURE="not-hex"), fast=True)
    assert read == []
    answer(environ(cookie=cookie), fast=True)
    assert len(read) == 1


def _end_session(user, session_key: str) -> None:
    user_session_end(user.uid, session_key=session_key)


def _ban(user, session_key: str) -> None:
    """Saved around the services (a shell): the snapshot's copy goes, the session stays.
    (The services would end the session too: ``_end_session``'s case.)"""
    user.state = "banned"
    user.save()


def _change_agent(user, session_key: str) -> None:
    """A write to the held session (not a delete): its copy goes too."""
    key = SESSION_PREFIX + session_key
    cache.set(key, {**cache.get(key), "user_agent": "curl/8.0"}, 60)


@needs_redis
@pytest.mark.parametrize(
    ("change", "error"),
    [
        (_end_session, "authz.invalid_session"),
        (_ban, "authz.user_not_active"),
        (_change_agent, "authz.client_session_mismatch"),
    ],
)
def test_a_write_made_elsewhere_is_seen_by_the_very_next_call(member, warm, change, error):
    user, cookie, _ = member
    session_key = cookie.split("=", 1)[1]
    env = warm
    held = (_name(SESSION_PREFIX + session_key), _name(f"authz:user:{user.uid}"))
    assert all(_copies().get(name) is not None for name in held)

    change(user, session_key)  # through another connection, as another worker would
    settle_invalidations()

    assert any(_copies().get(name) is None for name in held)
    status, _, content = answer(env, fast=True)
    assert status == "401 Unauthorized"
    assert content == b'{"errors": ["%s"]}' % error.encode()


def _name(key: str) -> bytes:
    return caches["default"].make_key(key).encode()


@needs_redis
def test_an_answer_never_mixes_a_copy_with_a_read_after_its_invalidation(member, warm, monkeypatch):
    """One key missing means all are read again: a push that arrives ahead of that read's
    reply (a ban, here) must not leave its copy in the answer."""
    user, cookie, _ = member
    stored = SESSION_PREFIX + cookie.split("=", 1)[1]
    cache.set(stored, cache.get(stored), 3600)  # the session's copy goes, the snapshot's stays
    settle_invalidations()
    snapshot = _name(snapshots.user_key(user.uid))
    assert _copies().get(_name(stored)) is None
    assert _copies().get(snapshot) is not None

    user.state = "banned"  # around the services, which would end the session too
    user.save()
    # Its push is still unread when the call starts: only the read's reply brings it.
    monkeypatch.setattr(_Pinned, "drain", lambda self: None)
    sent: dict = {}
    front = AuthzFront(Recorder(), fast_path=True)
    content = wsgi_call(front, dict(warm), lambda status, headers, exc=None: sent.update(s=status))

    assert _copies().get(snapshot) is None
    assert sent["s"] == "401 Unauthorized"
    assert content == b'{"errors": ["authz.user_not_active"]}'


@needs_redis
def test_a_dropped_connection_leaves_no_copies_behind(warm):
    env = warm
    pinned = caches["default"]._wire._pinned()
    (client_id,) = pinned.run(b"*2\r\n$6\r\nCLIENT\r\n$2\r\nID\r\n", 1)
    caches["default"]._cache.get_client(write=True).client_kill_filter(_id=client_id)

    assert answer(env, fast=True)[0] == "200 OK"  # a new connection, tracked afresh
    fresh = caches["default"]._wire._pinned()
    assert fresh is not pinned
    assert len(fresh.local) == 4


# ---------------------------------------------------------------- the copies themselves


def test_a_copy_lives_max_age_at_most(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr("barong.redis_local.time.monotonic", lambda: clock[0])
    copies = LocalCopies()
    copies.put_many([b"a", b"b"], [b"1", None])

    assert copies.get(b"a") == b"1"
    assert copies.get(b"b") is None
    clock[0] += MAX_AGE + 0.01
    assert copies.get(b"a") is None


def test_invalidations_drop_named_copies_and_a_flush_drops_all():
    copies = LocalCopies()
    copies.put_many([b"a", b"b", b"c"], [b"1", b"2", b"3"])

    copies.pushed(Push([b"invalidate", [b"a"]]))
    assert (copies.get(b"a"), copies.get(b"b")) == (None, b"2")
    copies.pushed(Push([b"invalidate", None]))
    assert len(copies) == 0
    copies.put_many([b"a"], [b"1"])
    copies.pushed(Push([b"something-else", b"x"]))
    assert len(copies) == 0


def test_copies_are_bounded():
    copies = LocalCopies()
    copies.put_many([b"%d" % i for i in range(MAX_KEYS)], [b"v"] * MAX_KEYS)
    copies.put_many([b"one-more"], [b"v"])

    assert len(copies) == 1


def test_a_push_is_told_apart_from_a_reply():
    push = b">2\r\n$10\r\ninvalidate\r\n*1\r\n$3\r\nkey\r\n"
    reply = b"*1\r\n$3\r\nval\r\n"

    value, end = parse(push + reply, 0)
    assert isinstance(value, Push)
    assert value == [b"invalidate", [b"key"]]
    value, _ = parse(push + reply, end)
    assert not isinstance(value, Push)
    assert value == [b"val"]
