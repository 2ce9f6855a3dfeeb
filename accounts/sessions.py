"""Server-side sessions in the cache, bound to the client's IP and User-Agent.

Django's cache session engine stores the data; this module decides what goes in
it, rotates the id at login, keeps a per-user index so every session of a user
can be ended, and checks CSRF, binding and idle expiry for cookie requests.
"""

import ipaddress
import secrets
import time
from functools import lru_cache
from importlib import import_module

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from barong.api.errors import ApiError
from barong.api.net import remote_ip, user_agent
from barong.crypto import constant_time_equals

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE", "TRACE"})
ACTIVE_STATES = frozenset({"active", "pending"})
INDEX_TTL = 24 * 3600


def _store_class():
    return import_module(settings.SESSION_ENGINE).SessionStore


def _index_key(uid: str) -> str:
    return f"user_sessions:{uid}"


def _index_without(uid: str, session_key: str) -> list[str]:
    return [k for k in cache.get(_index_key(uid), []) if k != session_key]


def _index_add(uid: str, session_key: str) -> None:
    cache.set(_index_key(uid), [*_index_without(uid, session_key)[-49:], session_key], INDEX_TTL)


@lru_cache(maxsize=4096)
def same_network(stored: str, current: str) -> bool:
    """Same /16 for IPv4, same /96 for IPv6, as Barong binds sessions."""
    try:
        a, b = ipaddress.ip_address(stored), ipaddress.ip_address(current)
    except ValueError:
        return False
    if a.version != b.version:
        return False
    shift = 16 if a.version == 4 else 32  # keep the top 16 of 32 bits, 96 of 128 bits
    return int(a) >> shift == int(b) >> shift


def session_open(request: HttpRequest, user) -> str:
    """Log ``user`` in on this request's session with a new id; returns the CSRF token."""
    session = request.session
    if session.get("uid") not in (None, user.uid):
        session.flush()  # another user's session: keep nothing of it
    else:
        session.cycle_key()  # same data, new id: no session fixation
    csrf_token = secrets.token_hex(10)
    session["uid"] = user.uid
    session["user_ip"] = remote_ip(request)
    session["user_agent"] = user_agent(request)
    session["expire_time"] = int(time.time()) + settings.BARONG_SESSION_EXPIRE_TIME
    session["csrf_token"] = csrf_token
    session.save()
    _index_add(user.uid, session.session_key)
    return csrf_token


def session_destroy(request: HttpRequest) -> None:
    """Log out: the stored session is deleted and the cookie cleared by the middleware."""
    uid = request.session.get("uid")
    key = request.session.session_key
    request.session.flush()
    if uid and key:
        cache.set(_index_key(uid), _index_without(uid, key), INDEX_TTL)


def user_sessions_revoke(uid: str, *, keep: str | None = None) -> int:
    """End every session of a user except ``keep`` (password reset or change, 2FA on)."""
    store = _store_class()
    keys = cache.get(_index_key(uid), [])
    ended = 0
    for key in keys:
        if key != keep:
            store(session_key=key).delete()
            ended += 1
    cache.set(_index_key(uid), [keep] if keep in keys else [], INDEX_TTL)
    return ended


def session_check(request: HttpRequest, *, csrf: bool = True) -> str:
    """Cookie mode: CSRF, a uid, binding to agent and network, idle expiry; returns the uid.

    Raises ApiError with Barong's authz keys (401). Slides the idle expiry on success.
    """
    session = request.session
    if csrf and settings.BARONG_CSRF_PROTECTION and request.method in UNSAFE_METHODS:
        header = request.META.get("HTTP_X_CSRF_TOKEN", "")
        if not header:
            raise ApiError("authz.missing_csrf_token", 401)
        if not constant_time_equals(header[:64], str(session.get("csrf_token", ""))):
            raise ApiError("authz.csrf_token_mismatch", 401)
    uid = session.get("uid")
    if not uid:
        raise ApiError("authz.invalid_session", 401)
    now = int(time.time())
    bound = (
        constant_time_equals(user_agent(request), str(session.get("user_agent", "")))
        and now < int(session.get("expire_time", 0))
        and same_network(str(session.get("user_ip", "")), remote_ip(request))
    )
    if not bound:
        session.flush()
        raise ApiError("authz.client_session_mismatch", 401)
    expire_time = now + settings.BARONG_SESSION_EXPIRE_TIME
    # Writing the same second again would only cost a cache write (and a Set-Cookie)
    # per request; the expiry still slides to the second.
    if session.get("expire_time") != expire_time:
        session["expire_time"] = expire_time
    return uid
