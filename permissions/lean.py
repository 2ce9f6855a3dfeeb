"""The front's fast path: the gateway's steady-state authz calls answered from the environ.

Nearly every call the gateway makes is the same question asked again: a known session or
API key, a role allowed on the path, tables and snapshots already in memory or in the
cache. This adapter asks ``permissions.decision.decide`` (the one decision, which Django's
view asks too) with facts read straight from the WSGI environ, without building Django's
request, session and response objects (docs/BENCHMARKS.md), and with sources that never
read the database or write anything.

It renders only two answers: a public path (200) and a permitted call (200 with the
JWT). Anything else is handed to Django's adapter (``permissions.authz``): every refusal
(whose effects, an ended session or an audit row, are that adapter's), an audited rule,
a session whose idle expiry must slide this second, a cache miss that would need the
database, tables that changed, a body, a path that is not plain ASCII, and any error.
The hand-over carries the cache round trip already made (``authz.PREFETCHED``), so
Django's adapter reads nothing twice and a signature is claimed once. The whole authz
suite runs through the front that calls this (tests/authz/conftest.py).

An allowed call read entirely from the copies Redis keeps current is remembered for the
rest of its clock second: the same environ (every CGI entry but ``UNREAD``) in the same
second, with the same copies (``RedisCache.local_unchanged``: no invalidation arrived
since, none reached its age) and the same settings, gets the same answer (a request id of
its own) without deciding again. The decision's only other inputs are the clock, read
in whole seconds (idle expiry, lifetime, step-up age), and tables loaded per version
stamp, which are among the copies. A gunicorn worker runs the decision cold (its caches
are another process's by the time a request comes), about 3x its back-to-back cost
(docs/BENCHMARKS.md, "Round 8").
"""

import operator
import time
from functools import lru_cache

from django.conf import settings
from django.core.cache import cache
from django.core.signals import setting_changed
from django.http.cookie import parse_cookie

from accounts.session_store import SessionStore
from accounts.sessions import session_uid
from apikeys.signatures import api_key_cache_key, api_key_verify
from barong.api.failures import REQUEST_ID_HEADER, request_id_from
from barong.metrics import AUTHZ_DECISIONS, labelled, request_counted
from permissions import engine, restrictions, snapshots
from permissions.authz import (
    PREFETCHED,
    authz_facts,
    owners,
    prefetch_plan,
    prefetch_run,
    token_for,
)
from permissions.decision import Allow, Identity, decide

ROUTE = "api/v2/auth/<path>"
SESSION_ENGINE = "accounts.session_store"
TEXT = ("Content-Type", "text/plain")
REMEMBERED_MAX = 1024  # answers remembered per process; past it, all are dropped at once
# environ key → (clock second, copies' stamp, reason, headers, (principal, uid) or None)
_remembered: dict[tuple, tuple] = {}
_picks: dict[tuple, operator.itemgetter] = {}  # the environ's names → its CGI entries
# Entries no decision reads, new on every call: the client's port (a connection per call)
# and the caller's request id (answered as sent, after the decision).
UNREAD = frozenset({"REMOTE_PORT", "HTTP_X_REQUEST_ID"})


_fits: list[bool] = []  # whether the settings let the fast path answer, once known


def _forget(**kwargs) -> None:
    """A setting changed (tests): no answer decided under the old ones is given again."""
    _remembered.clear()
    _fits.clear()


def _settings_fit() -> bool:
    """Sessions in the cache this path reads, and no Set-Cookie on every answer."""
    return (
        settings.SESSION_ENGINE == SESSION_ENGINE
        and settings.SESSION_CACHE_ALIAS == "default"
        and not settings.SESSION_SAVE_EVERY_REQUEST
    )


setting_changed.connect(_forget)


class HandOver(Exception):
    """Django's adapter answers this request (raised before anything is sent)."""


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
    named = _cookie_session(header, name)
    if named is None:
        return None
    if api_key_mode or named[1] is None:
        raise HandOver
    return named


@lru_cache(maxsize=1024)  # a client sends the same Cookie header call after call
def _cookie_session(header: str, name: str) -> tuple[str, str | None] | None:
    """(the session key, the cache key it is stored under or None for a key Django refuses)
    of the cookie ``name`` in an ASCII ``header`` (as Django decodes it); None without it."""
    cookies = parse_cookie(header)
    if name not in cookies:
        return None
    key = cookies[name]
    return key, SessionStore.stored_under(key)


def _local_reads(wanted: list[str]) -> tuple[dict, tuple] | None:
    """The keys from copies Redis keeps current (barong/redis_local.py) and the copies'
    stamp; None when the cache cannot keep them (another backend, a connection that
    cannot track)."""
    reader = getattr(cache, "get_many_local", None)
    return None if reader is None else reader(wanted)


class EnvironSources:
    """``decision.Sources`` from the environ and the cache alone: whatever would read the
    database, write, or refuse raises HandOver instead."""

    __slots__ = (
        "api_key_mode",
        "claimed",
        "environ",
        "found",
        "ip",
        "owner",
        "session",
        "stamp",
        "uid_hint",
    )

    def __init__(self, environ: dict, api_key_mode: bool, ip: str) -> None:
        self.environ = environ
        self.api_key_mode = api_key_mode
        self.ip = ip
        # ``session``, ``found``, ``uid_hint``, ``claimed`` and ``stamp`` (the copies'
        # stamp when everything was read from them, else None) are set by ``open``, which
        # ``decide`` calls before anything else is asked.
        self.owner: tuple[str, str] | None = None

    def open(self) -> None:
        environ, api_key_mode = self.environ, self.api_key_mode
        session = self.session = _session(environ, api_key_mode)
        wanted, uid_hint, marker = prefetch_plan(environ, session, api_key_mode)
        try:
            found = claimed = stamp = None
            # Copies only for what this worker has seen valid: Redis remembers every key
            # read through them, and a flood of made-up session cookies or key ids must not
            # grow that memory. A signed call makes its round trip anyway (its claim).
            if not api_key_mode and (session is None or uid_hint is not None):
                read = _local_reads(wanted)
                if read is not None:
                    found, stamp = read
            if found is None:
                found, claimed = prefetch_run(wanted, marker)
        except Exception as exc:  # Django's adapter answers the outage with this very error
            environ[PREFETCHED] = exc
            raise HandOver from exc
        environ[PREFETCHED] = (found, uid_hint, claimed)
        self.found, self.uid_hint, self.claimed, self.stamp = found, uid_hint, claimed, stamp

    def restriction(self, ip: str) -> restrictions.Match | None:
        stamp = self.found.get(restrictions.VERSION_KEY)
        if not restrictions.loaded(stamp):
            raise HandOver  # reloading a table reads the database
        return restrictions.evaluate(ip, version=stamp)

    def permission(self, role: str, method: str, path: str) -> engine.Decision:
        version = self.found.get(engine.VERSION_KEY)
        if not engine.loaded(version):
            raise HandOver
        return engine.check(role, method, path, version=version)

    def identity(self) -> Identity:
        """The checks of ``session_check`` for a session that needs no write, or
        ``_api_key``'s."""
        if self.api_key_mode:
            return self._api_key()
        session = self.session
        if session is None:
            raise HandOver
        data = self.found.get(session[1])
        if data is None:
            raise HandOver
        now = int(time.time())
        uid = session_uid(data, meta=self.environ, ip=self.ip, now=now)
        if data.get("expire_time") != now + settings.BARONG_SESSION_EXPIRE_TIME:
            raise HandOver  # the expiry slides this second: a session write and a Set-Cookie
        self.owner = (f"session:{session[0]}", uid)
        owners.remember(*self.owner)
        return Identity(f"session:{session[0]}", self._user(uid), session=data)

    def _user(self, uid: str) -> dict:
        """The owner's cached snapshot: prefetched when the owner was known, else read now
        (the first call of a session or key in this process); not cached: HandOver."""
        user = self.found.get(snapshots.user_key(uid)) if uid == self.uid_hint else None
        if user is None:
            self.stamp = None  # read past the copies: this answer is not remembered
            user = cache.get(snapshots.user_key(uid))
        if user is None:
            raise HandOver  # loading it reads the database
        return user

    def _api_key(self) -> Identity:
        """``api_key_verify`` for a key row already cached and a signature already claimed."""
        environ = self.environ
        kid = environ.get("HTTP_X_AUTH_APIKEY", "")
        cached = self.found.get(api_key_cache_key(kid)) if kid else None
        # Unclaimed (a nonce at the window's very edge): ``api_key_verify`` would claim the
        # signature itself, and Django's adapter, taking over, would then find it claimed.
        if cached is None or self.claimed is None:
            raise HandOver
        key = api_key_verify(
            kid=kid,
            nonce=environ.get("HTTP_X_AUTH_NONCE", ""),
            signature=environ.get("HTTP_X_AUTH_SIGNATURE", ""),
            cached=cached,
            claimed=self.claimed,
        )
        owners.remember(f"apikey:{key.kid}", key.uid)
        return Identity(f"apikey:{key.kid}", self._user(key.uid), key.scopes, key.cidrs)


def _answer(environ: dict, raw: str) -> tuple[str, list[tuple[str, str]], EnvironSources]:
    """(the decision's reason, the headers, the sources asked) of a 200 answer, or
    HandOver."""
    length = environ.get("CONTENT_LENGTH")
    if length and length != "0":
        raise HandOver
    facts = authz_facts(environ, raw)
    if facts.unsafe:
        raise HandOver  # refused: Django's adapter answers, without a round trip here
    sources = EnvironSources(environ, facts.api_key_mode, facts.ip)
    decision = decide(facts, sources)
    if not isinstance(decision, Allow) or decision.audit is not None:
        raise HandOver  # a refusal or an audit row: effects are Django's adapter's
    identity = decision.identity
    if identity is None:
        return decision.reason, [TEXT], sources
    if identity.user.get("security_lock_until") is not None:
        # The lock ends within a second (its claim goes from the token then): not remembered.
        sources.stamp = None
    token = token_for(identity.principal, identity.user, identity.scopes, session=identity.session)
    headers = [TEXT, ("Authorization", f"Bearer {token}")]
    if sources.session is not None:
        headers.append(("Vary", "Cookie"))  # the session was read, as SessionMiddleware says
    return decision.reason, headers, sources


def _environ_key(environ: dict) -> tuple | None:
    """The request as a key: every CGI entry of the environ (not the server's and the
    application's own, lower case with a dot, ``wsgi.input``), but ``UNREAD``. None when
    one cannot be a key."""
    shape = tuple(environ)
    pick = _picks.get(shape)
    if pick is None:
        if len(_picks) >= REMEMBERED_MAX:
            _picks.clear()
        names = [name for name in shape if name not in UNREAD and not name[:1].islower()]
        pick = _picks[shape] = operator.itemgetter(*names) if names else lambda environ: ()
    key = (shape, pick(environ))
    try:
        hash(key)
    except TypeError:
        return None
    return key


def lean_answer(environ: dict, raw: str) -> tuple[str, list] | None:
    """(status line, headers) of the answer (its body is empty), or None to hand the
    request on. ``raw``: the checked part of the path (``authz_raw_path``)."""
    if not _fits:
        _fits.append(_settings_fit())
    if not _fits[0]:
        return None
    if not environ.get("PATH_INFO", "").isascii():
        return None
    started = time.perf_counter()
    key = _environ_key(environ)
    second = int(time.time())
    try:
        remembered = None if key is None else _remembered.get(key)
        if (
            remembered is not None
            and remembered[0] == second
            # The stamp names the cache that made it (``RedisCache.get_many_local``).
            and remembered[1][0].local_unchanged(remembered[1])
        ):
            reason, headers, owner = remembered[2], list(remembered[3]), remembered[4]
            if owner is not None:
                owners.remember(*owner)
        else:
            reason, headers, sources = _answer(environ, raw)
            if key is not None and sources.stamp is not None and int(time.time()) == second:
                if len(_remembered) >= REMEMBERED_MAX:
                    _remembered.clear()
                _remembered[key] = (second, sources.stamp, reason, tuple(headers), sources.owner)
    except Exception:  # HandOver or an error: Django's adapter meets it again
        return None  # and answers as it always does
    headers.append((REQUEST_ID_HEADER, request_id_from(environ)))
    headers.append(("Content-Length", "0"))
    labelled(AUTHZ_DECISIONS, "allow", reason).inc()
    request_counted(ROUTE, environ["REQUEST_METHOD"].upper(), 200, started)
    return "200 OK", headers
