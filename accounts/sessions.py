"""Server-side sessions in the cache, bound to the client's IP and User-Agent.

The cache session engine (``accounts.session_store``) stores the data; this module
decides what goes in it, rotates the id at login, keeps a per-user index so every
session of a user can be ended, and checks CSRF, binding and idle expiry for cookie
requests. A login writes the session, its index entry and any ``also`` operations in
one cache round trip, when the response is sent.
"""

import ipaddress
import secrets
import time
from functools import lru_cache
from importlib import import_module

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.core.cache import caches
from django.http import HttpRequest
from django.utils.crypto import salted_hmac

from barong.api.errors import ApiError
from barong.api.net import remote_ip, user_agent
from barong.cache import batch
from barong.crypto import constant_time_equals

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE", "TRACE"})
ACTIVE_STATES = frozenset({"active", "pending"})
INDEX_TTL = 24 * 3600
INDEX_SIZE = 50
REVOKE_BATCH = 1000  # users whose sessions one pair of round trips ends


def _store_class():
    return import_module(settings.SESSION_ENGINE).SessionStore


def _index_key(uid: str) -> str:
    return f"sessions_of:{uid}"


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


def session_open(request: HttpRequest, user, *, also: list[tuple] = ()) -> str:
    """Log ``user`` in on this request's session with a new id; returns the CSRF token.

    The session is stored with the response, together with its index entry and ``also``
    (cache operations for ``barong.cache.batch``, e.g. a rate-limit reset).
    """
    session = request.session
    if session.get("uid") not in (None, user.uid):
        session.clear()  # another user's session: keep nothing of it
    session.rotate()  # a new id (the old one is deleted): no session fixation
    csrf_token = secrets.token_hex(10)
    session["uid"] = user.uid
    session["user_ip"] = remote_ip(request)
    session["user_agent"] = user_agent(request)
    now = int(time.time())
    session["created_at"] = now
    session["expire_time"] = now + settings.BARONG_SESSION_EXPIRE_TIME
    session["csrf_token"] = csrf_token
    session.also += [
        ("push", _index_key(user.uid), session.session_key, INDEX_SIZE, INDEX_TTL),
        *also,
    ]
    return csrf_token


def session_destroy(request: HttpRequest) -> None:
    """Log out: the stored session is deleted and the cookie cleared by the middleware."""
    uid = request.session.get("uid")
    key = request.session.session_key
    request.session.flush()
    if uid and key:
        batch([("remove", _index_key(uid), key, INDEX_TTL)])


def user_sessions_revoke(uid: str, *, keep: str | None = None) -> int:
    """End every session of a user except ``keep`` (password reset or change, 2FA on)."""
    index = _index_key(uid)
    (keys,) = batch([("members", index)])
    ended = [key for key in keys if key != keep]
    prefix = _store_class().cache_key_prefix
    # Each ended session leaves the index by name: one opened meanwhile stays listed.
    batch(
        [("delete", prefix + key) for key in ended]
        + [("remove", index, key, INDEX_TTL) for key in ended]
    )
    return len(ended)


def users_sessions_revoke(uids: list[str]) -> int:
    """End every session of each of these users (a ban, a lock, a deletion; a level resync
    moving thousands at once): two cache round trips for the lot, however many."""
    ended = 0
    prefix = _store_class().cache_key_prefix
    for start in range(0, len(uids), REVOKE_BATCH):
        indexes = [_index_key(uid) for uid in uids[start : start + REVOKE_BATCH]]
        listed = batch([("members", index) for index in indexes])
        ops: list[tuple] = []
        for index, keys in zip(indexes, listed, strict=True):
            # Each ended session leaves the index by name: one opened meanwhile stays listed.
            ops += [("delete", prefix + key) for key in keys]
            ops += [("remove", index, key, INDEX_TTL) for key in keys]
            ended += len(keys)
        if ops:
            batch(ops)
    return ended


def session_check(request: HttpRequest, *, csrf: bool = True) -> str:
    """Cookie mode: CSRF, a uid, binding to agent and network, idle expiry; returns the uid.

    Raises ApiError with Barong's authz keys (401); a session that no longer matches its
    client is ended. Slides the idle expiry on success.
    """
    session = request.session
    now = int(time.time())
    try:
        uid = session_uid(session, meta=request.META, ip=remote_ip(request), now=now, csrf=csrf)
    except ApiError as exc:
        if exc.keys[0] == "authz.client_session_mismatch":
            session.flush()
        raise
    expire_time = now + settings.BARONG_SESSION_EXPIRE_TIME
    # Writing the same second again would only cost a cache write (and a Set-Cookie)
    # per request; the expiry still slides to the second.
    if session.get("expire_time") != expire_time:
        session["expire_time"] = expire_time
        # The user's index lives as long as the sessions it lists: one kept alive past the
        # index's day since the last login would otherwise escape a password change or a ban.
        session.also.append(("push", _index_key(uid), session.session_key, INDEX_SIZE, INDEX_TTL))
    return uid


def session_uid(
    session: SessionBase | dict, *, meta: dict, ip: str, now: int, csrf: bool = True
) -> str:
    """The checks of ``session_check`` on stored session data, changing nothing.

    ``session``: the store or its data (anything with ``get``); ``meta``: the request's
    META or WSGI environ (method, CSRF header, User-Agent). The authz front's fast path
    calls it on the data it fetched; any refusal sends the request the full way, where
    ``session_check`` raises the same error and ends a mismatched session.
    """
    method = meta.get("REQUEST_METHOD", "").upper()  # as Django's ``request.method``
    if csrf and settings.BARONG_CSRF_PROTECTION and method in UNSAFE_METHODS:
        header = meta.get("HTTP_X_CSRF_TOKEN", "")
        if not header:
            raise ApiError("authz.missing_csrf_token", 401)
        if not constant_time_equals(header[:64], str(session.get("csrf_token", ""))):
            raise ApiError("authz.csrf_token_mismatch", 401)
    uid = session.get("uid")
    if not uid:
        raise ApiError("authz.invalid_session", 401)
    bound = (
        constant_time_equals(meta.get("HTTP_USER_AGENT", ""), str(session.get("user_agent", "")))
        and now < int(session.get("expire_time", 0))
        and same_network(str(session.get("user_ip", "")), ip)
    )
    if not bound:
        raise ApiError("authz.client_session_mismatch", 401)
    return uid


# ---------------------------------------------------------------- listing and ending one session


def session_public_id(session_key: str) -> str:
    """The id a session is shown and ended by: an HMAC of its key, never the cookie value."""
    return salted_hmac("accounts.session.id", session_key, algorithm="sha256").hexdigest()[:32]


def _live_sessions(uid: str) -> dict[str, dict]:
    """session key → data of the user's indexed sessions still stored, bound to them and fresh."""
    index = _index_key(uid)
    (keys,) = batch([("members", index)])
    prefix = _store_class().cache_key_prefix
    found = caches[settings.SESSION_CACHE_ALIAS].get_many([prefix + key for key in keys])
    now = int(time.time())
    live = {}
    for key in keys:
        data = found.get(prefix + key)
        if data and data.get("uid") == uid and now < int(data.get("expire_time", 0)):
            live[key] = data
    gone = [key for key in keys if key not in live]
    if gone:  # expired or ended elsewhere: each leaves the index by name
        batch([("remove", index, key, INDEX_TTL) for key in gone])
    return live


def user_sessions_list(uid: str, *, current: str | None = None) -> list[dict]:
    """The user's live sessions, newest first; ``current`` is the caller's own session key."""
    rows = []
    for key, data in _live_sessions(uid).items():
        expire_time = int(data.get("expire_time", 0))
        rows.append(
            {
                "id": session_public_id(key),
                "user_ip": str(data.get("user_ip", "")),
                "user_agent": str(data.get("user_agent", "")),
                # Sessions opened before creation times were kept show their last activity.
                "created_at": int(
                    data.get("created_at", expire_time - settings.BARONG_SESSION_EXPIRE_TIME)
                ),
                "last_seen_at": expire_time - settings.BARONG_SESSION_EXPIRE_TIME,
                "current": key == current,
            }
        )
    return sorted(rows, key=lambda row: (-row["created_at"], row["id"]))


def user_session_key_find(uid: str, *, session_id: str) -> str | None:
    """The key of the user's live session shown as ``session_id`` (another user's: none)."""
    for key in _live_sessions(uid):
        if constant_time_equals(session_public_id(key), session_id):
            return key
    return None


def user_session_end(uid: str, *, session_key: str) -> None:
    """End one session of the user: its stored data goes, so authz refuses it at once."""
    prefix = _store_class().cache_key_prefix
    batch([("delete", prefix + session_key), ("remove", _index_key(uid), session_key, INDEX_TTL)])
