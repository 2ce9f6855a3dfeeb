"""Helpers for the authz tests: a logged-in client, signed API-key headers.

Every test that takes ``api`` runs three times: through Django's test client (the stack
that ``AuthzMiddleware`` shortcuts), through the WSGI front that gunicorn serves
(``permissions.wsgi.AuthzFront``) with its fast path off, and with it on
(``permissions.lean``), so all three give the same answers.
"""

import hashlib
import hmac
import io
import time
from importlib import import_module

import pytest
from django.conf import settings
from django.core.cache import caches
from django.core.handlers.wsgi import WSGIRequest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.http import HttpResponse
from django.http.cookie import parse_cookie
from django.test import RequestFactory
from redis.exceptions import ConnectionError as RedisConnectionError
from rest_framework.test import APIClient, ForceAuthClientHandler

from accounts.models import User
from accounts.services import user_otp_set
from accounts.session_store import SessionStore
from accounts.sessions import session_open
from apikeys.signatures import MAX_KID, api_key_row
from barong import jwt as barong_jwt
from permissions import authz, engine, restrictions, snapshots
from permissions.middleware import authz_raw_path
from permissions.wsgi import AuthzFront
from tests.conftest import BROWSER_UA, rows_once
from tests.factories import make_user_with
from tests.resource_account.helpers import clock  # noqa: F401  (fixture)

CLIENT_IP = "203.0.113.10"


def login(client, user, *, user_agent: str = BROWSER_UA, ip: str = CLIENT_IP) -> str:
    """Open a server-side session as the login endpoint does; returns the CSRF token."""
    request = RequestFactory().post("/", HTTP_USER_AGENT=user_agent, REMOTE_ADDR=ip)
    request.session = import_module(settings.SESSION_ENGINE).SessionStore()
    csrf = session_open(request, user)
    request.session.save()  # what the session middleware does with the response
    client.cookies[settings.SESSION_COOKIE_NAME] = request.session.session_key
    return csrf


def signed_headers(kid: str, secret: str, *, nonce: int | str | None = None) -> dict[str, str]:
    """X-Auth-* headers as an API client sends them."""
    nonce = str(int(time.time() * 1000) if nonce is None else nonce)
    signature = hmac.new(secret.encode(), (nonce + kid).encode(), hashlib.sha256).hexdigest()
    return {
        "HTTP_X_AUTH_APIKEY": kid,
        "HTTP_X_AUTH_NONCE": nonce,
        "HTTP_X_AUTH_SIGNATURE": signature,
    }


def bearer(response) -> dict:
    """The claims of the JWT authz answered with (verified by our key ring)."""
    header = response["Authorization"]
    assert header.startswith("Bearer ")
    return barong_jwt.decode(header.removeprefix("Bearer "), sub="session")


@pytest.fixture(autouse=True)
def _fresh_authz_state():
    """Process-level caches must not carry answers from one test into the next."""
    authz.tokens.clear()
    authz._rules.cache_clear()
    barong_jwt.keyring.cache_clear()
    yield
    authz.tokens.clear()
    authz._rules.cache_clear()
    barong_jwt.keyring.cache_clear()


@pytest.fixture(scope="module")
def _member(django_db_setup, django_db_blocker):
    """A verified member built once per module that asks (its tests log in as it)."""
    yield from rows_once(django_db_blocker, make_user_with)


@pytest.fixture
def member(_member):
    """The member as stored (a test's changes to it roll back with its savepoint)."""
    return User.objects.get(pk=_member.pk)


def _two_factor_member() -> User:
    return user_otp_set(user=make_user_with(), enabled=True)


@pytest.fixture(scope="module")
def _key_owner(django_db_setup, django_db_blocker):
    """An API keys' owner (2FA on, as key creation needs), built once per module that asks."""
    yield from rows_once(django_db_blocker, _two_factor_member)


@pytest.fixture
def key_owner(_key_owner):
    """The owner as stored (a test's keys and changes roll back with its savepoint)."""
    return User.objects.get(pk=_key_owner.pk)


def wsgi_call(app, environ: dict, start_response) -> bytes:
    """One plain WSGI call (the body read and closed, as a server does), keeping the
    test's database connection open as Django's test handler does."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        body = app(environ, start_response)
        try:
            return b"".join(body)
        finally:
            if hasattr(body, "close"):
                body.close()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def gateway_environ(path: str, *, method: str = "GET", cookie: str = "", **extra) -> dict:
    """The WSGI environ gunicorn hands the front for one gateway call (``extra``: more
    keys, e.g. ``HTTP_X_REQUEST_ID`` or ``CONTENT_LENGTH``)."""
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "RAW_URI": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": CLIENT_IP,
        "HTTP_USER_AGENT": BROWSER_UA,
        "wsgi.input": io.BytesIO(b""),
        "wsgi.url_scheme": "http",
    }
    if cookie:
        environ["HTTP_COOKIE"] = cookie
    environ.update(extra)
    return environ


def settle_invalidations() -> None:
    """Let Redis's invalidations of writes already answered reach the tracked copies
    (barong/redis_local.py) before the next call: one round trip on the tracked
    connection, since pushes queued before a command arrive before its reply. Redis
    writes a writer's answer and the push in the same event-loop turn, so in production
    the push is in long before the next gateway call (a network round trip later); a
    test's next line comes at once."""
    wire = getattr(caches["default"], "_wire", None)
    pinned = getattr(wire._local, "pinned", None) if wire is not None else None
    if pinned is not None and pinned.local is not None:
        try:
            pinned.execute([("PING",)])
            pinned.drain()
        except (OSError, RedisConnectionError):
            pass  # a dead connection: the next call replaces it, with no copies


def _warm(environ: dict) -> None:
    """A warm worker, so that the fast path answers what it can: what the full path loads
    on a call (the tables of the current stamps, the caller's snapshot and key row, the
    owner hint) is loaded before it, from the database as it stands."""
    settle_invalidations()
    engine.table()
    restrictions.tables()
    uid = owner = None
    kid = environ.get("HTTP_X_AUTH_APIKEY")
    if kid and len(kid) <= MAX_KID and "\x00" not in kid:
        row = api_key_row(kid, None)
        if isinstance(row, dict):
            uid, owner = row["uid"], f"apikey:{kid}"
    else:
        cookies = parse_cookie(environ.get("HTTP_COOKIE", ""))
        key = cookies.get(settings.SESSION_COOKIE_NAME)
        data = SessionStore(key).load() if key and SessionStore.stored_under(key) else {}
        uid, owner = data.get("uid"), f"session:{key}"
    if uid:
        snapshots.user_snapshot(uid)
        authz.owners.remember(owner, uid)


class FrontHandler(ForceAuthClientHandler):
    """The test client's handler, except that authz calls go through the WSGI front.

    The front gets the environ the test client built and answers over plain WSGI
    (``start_response``, an iterable body, ``close()``); the answer is turned back into
    a response object only so that the tests read it as they read any other.
    """

    def __init__(self, *args, fast_path: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.front = AuthzFront(self._not_for_django, fast_path=fast_path)
        self.fast_path = fast_path

    @staticmethod
    def _not_for_django(environ, start_response):
        raise AssertionError(f"the front passed {environ['PATH_INFO']!r} on to Django")

    def __call__(self, environ):
        if authz_raw_path(environ["PATH_INFO"]) is None:
            return super().__call__(environ)
        sent: dict = {}
        original = dict(environ)  # WSGIRequest rewrites PATH_INFO in the environ it gets

        def start_response(status, headers, exc_info=None):
            sent["status"], sent["headers"] = status, headers

        if self.fast_path:
            _warm(environ)
        content = wsgi_call(self.front, environ, start_response)
        response = HttpResponse(content, status=int(sent["status"].split(" ", 1)[0]))
        del response["Content-Type"]
        for name, value in sent["headers"]:
            if name.lower() == "set-cookie":
                response.cookies.load(value)
            else:
                response[name] = value
        response.wsgi_request = WSGIRequest(original)
        return response


@pytest.fixture(params=["django", "front", "fast"])
def api(request):
    """A browser-like client; authz calls through Django's stack or the WSGI front (its
    fast path off, or on)."""
    client = APIClient(HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR=CLIENT_IP)
    if request.param != "django":
        client.handler = FrontHandler(enforce_csrf_checks=False, fast_path=request.param == "fast")
    return client
