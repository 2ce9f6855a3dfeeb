"""Helpers for the authz tests: a logged-in client, signed API-key headers."""

import hashlib
import hmac
import time
from importlib import import_module

import pytest
from django.conf import settings
from django.test import RequestFactory

from accounts.sessions import session_open
from barong import jwt as barong_jwt
from permissions import authz
from tests.conftest import BROWSER_UA

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
