"""The front's fast path: the gateway's steady-state authz calls answered from the environ.

Nearly every call the gateway makes is the same question asked again: a known session or
API key, a role allowed on the path, tables and snapshots already in memory or in the
cache. This path answers those with the decision code Django's path uses
(``permissions.authz``: ``prefetch_plan``, ``authz_path``, ``restrictions.evaluate``,
``engine.check``, ``token_for``; ``accounts.sessions.session_uid``;
``apikeys.signatures.api_key_verify``), read straight from the WSGI environ, without
building Django's request, session and response objects (docs/BENCHMARKS.md).

It answers only two things: a public path (200) and a permitted request (200 with the
JWT). Anything else is handed to the full path: every refusal, a restriction match, an
audited rule, a session whose idle expiry must slide this second, a cache miss that
would need the database, tables that changed, a body, a path that is not plain ASCII,
and any error. The hand-over carries the cache round trip already made
(``authz.PREFETCHED``), so the full path reads nothing twice and a signature is
claimed once. The answers are the full path's byte for byte (tests/authz/test_lean.py
compares them), and the whole authz suite runs through the front that calls this.
"""

import time

from django.conf import settings
from django.core.cache import cache
from django.core.handlers.wsgi import get_str_from_wsgi
from django.http.cookie import parse_cookie

from accounts.session_store import SessionStore
from accounts.sessions import ACTIVE_STATES, session_uid
from apikeys.signatures import api_key_cache_key, api_key_verify
from barong.api.failures import REQUEST_ID_HEADER, request_id_from
from barong.api.net import client_ip
from barong.metrics import AUTHZ_DECISIONS, labelled, request_counted
from permissions import engine, restrictions, snapshots
from permissions.authz import (
    ACCESS_PATH,
    API_KEY_HEADERS,
    PREFETCHED,
    authz_path,
    authz_rules,
    owners,
    path_is_unsafe,
    prefetch_plan,
    prefetch_run,
    token_for,
)

ROUTE = "api/v2/auth/<path>"
SESSION_ENGINE = "accounts.session_store"
TEXT = ("Content-Type", "text/plain")


class HandOver(Exception):
    """The full path answers this request (raised before anything is sent)."""


def _session(environ: dict, api_key_mode: bool) -> tuple[str, str] | None:
    """(session key, cache key) of the cookie's session; None without a session cookie.
    Raises HandOver for a cookie the full path treats specially (an invalid key, a cookie
    next to API-key headers, a header that is not plain ASCII)."""
    header = environ.get("HTTP_COOKIE")
    if not header:
        return None
    if not header.isascii():
        raise HandOver
    name = settings.SESSION_COOKIE_NAME
    if name not in header:
        return None
    cookies = parse_cookie(get_str_from_wsgi(environ, "HTTP_COOKIE", ""))
    if name not in cookies:
        return None
    if api_key_mode:
        raise HandOver
    key = cookies[name]
    stored = SessionStore.stored_under(key)
    if stored is None:
        raise HandOver
    return key, stored


def _local_reads(wanted: list[str]) -> dict | None:
    """The keys from copies Redis keeps current (barong/redis_local.py); None when the
    cache cannot keep them (another backend, a connection that cannot track)."""
    reader = getattr(cache, "get_many_local", None)
    return None if reader is None else reader(wanted)


def _snapshot(uid: str, uid_hint: str | None, found: dict) -> dict:
    """The owner's cached snapshot: prefetched when the owner was known, else read now
    (the first call of a session or key in this process); not cached: HandOver."""
    user = found.get(snapshots.user_key(uid)) if uid == uid_hint else None
    if user is None:
        user = cache.get(snapshots.user_key(uid))
    if user is None:
        raise HandOver  # loading it reads the database
    return user


def _cookie_user(environ: dict, ip: str, session: tuple[str, str], found: dict, uid_hint) -> tuple:
    """``authz._cookie_user`` for a session that needs no write and a cached snapshot."""
    data = found.get(session[1])
    if data is None:
        raise HandOver
    now = int(time.time())
    uid = session_uid(data, meta=environ, ip=ip, now=now)
    if data.get("expire_time") != now + settings.BARONG_SESSION_EXPIRE_TIME:
        raise HandOver  # the expiry slides this second: a session write and a Set-Cookie
    owners.remember(f"session:{session[0]}", uid)
    user = _snapshot(uid, uid_hint, found)
    if user["state"] not in ACTIVE_STATES:
        raise HandOver
    return f"session:{session[0]}", user


def _api_key_user(environ: dict, found: dict, uid_hint, claimed) -> tuple:
    """``authz._api_key_user`` for a key and an owner both cached."""
    kid = environ.get("HTTP_X_AUTH_APIKEY", "")
    cached = found.get(api_key_cache_key(kid)) if kid else None
    # Unclaimed (a nonce at the window's very edge): ``api_key_verify`` would claim the
    # signature itself, and the full path, taking over, would then find it claimed.
    if cached is None or claimed is None:
        raise HandOver
    key = api_key_verify(
        kid=kid,
        nonce=environ.get("HTTP_X_AUTH_NONCE", ""),
        signature=environ.get("HTTP_X_AUTH_SIGNATURE", ""),
        cached=cached,
        claimed=claimed,
    )
    owners.remember(f"apikey:{key.kid}", key.uid)
    user = _snapshot(key.uid, uid_hint, found)
    if user["state"] not in ACTIVE_STATES or not user["otp"]:
        raise HandOver
    return f"apikey:{key.kid}", user


def _decide(environ: dict, raw: str) -> tuple[str, list[tuple[str, str]]]:
    """(the decision's reason, the headers) of a 200 answer, or HandOver."""
    length = environ.get("CONTENT_LENGTH")
    if (length and length != "0") or path_is_unsafe(environ, raw):
        raise HandOver
    path = authz_path(raw)
    api_key_mode = any(name in environ for name in API_KEY_HEADERS)
    session = _session(environ, api_key_mode)
    wanted, uid_hint, marker = prefetch_plan(environ, session, api_key_mode)
    try:
        found = claimed = None
        # Copies only for what this worker has seen valid: Redis remembers every key read
        # through them, and a flood of made-up session cookies or key ids must not grow
        # that memory. A signed call makes its round trip anyway (its signature's claim).
        if not api_key_mode and (session is None or uid_hint is not None):
            found = _local_reads(wanted)
        if found is None:
            found, claimed = prefetch_run(wanted, marker)
    except Exception as exc:  # the full path answers the outage with this very error
        environ[PREFETCHED] = exc
        raise HandOver from exc
    environ[PREFETCHED] = (found, uid_hint, claimed)

    stamp = found.get(restrictions.VERSION_KEY)
    if not restrictions.loaded(stamp):
        raise HandOver  # reloading a table reads the database
    ip = client_ip(environ)
    if path != ACCESS_PATH and restrictions.evaluate(ip, version=stamp):
        raise HandOver
    pass_rules, block_rules = authz_rules()
    if path.startswith(block_rules):
        raise HandOver
    if path.startswith(pass_rules):
        return "public", [TEXT]

    if api_key_mode:
        principal, user = _api_key_user(environ, found, uid_hint, claimed)
    elif session is not None:
        principal, user = _cookie_user(environ, ip, session, found, uid_hint)
    else:
        raise HandOver
    version = found.get(engine.VERSION_KEY)
    if not engine.loaded(version):
        raise HandOver
    method = environ["REQUEST_METHOD"].upper()
    decision = engine.check(user["role"], method, path, version=version)
    if not decision.allowed or decision.audit:
        raise HandOver
    headers = [TEXT, ("Authorization", f"Bearer {token_for(principal, user)}")]
    if session is not None:
        headers.append(("Vary", "Cookie"))  # the session was read, as SessionMiddleware says
    return "permitted", headers


def lean_answer(environ: dict, raw: str) -> tuple[str, list] | None:
    """(status line, headers) of the answer (its body is empty), or None to hand the
    request on. ``raw``: the checked part of the path (``authz_raw_path``)."""
    if (
        settings.SESSION_ENGINE != SESSION_ENGINE
        or settings.SESSION_CACHE_ALIAS != "default"
        or settings.SESSION_SAVE_EVERY_REQUEST  # a Set-Cookie on every answer
    ):
        return None
    if not environ.get("PATH_INFO", "").isascii():
        return None
    started = time.perf_counter()
    try:
        reason, headers = _decide(environ, raw)
    except Exception:  # HandOver, a refusal (ApiError) or an error: the full path meets it
        return None  # again and answers as it always does
    headers.append((REQUEST_ID_HEADER, request_id_from(environ)))
    headers.append(("Content-Length", "0"))
    labelled(AUTHZ_DECISIONS, "allow", reason).inc()
    request_counted(ROUTE, environ["REQUEST_METHOD"].upper(), 200, started)
    return "200 OK", headers
