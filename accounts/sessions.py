"""Server-side sessions in the cache, bound to the client's IP and User-Agent.

The cache session engine (``accounts.session_store``) stores the data; this module
decides what goes in it, rotates the id at login, keeps a per-user index so every
session of a user can be ended, and checks CSRF, binding, idle expiry and the absolute
lifetime for cookie requests. A login writes the session, its index entry and any
``also`` operations in one cache round trip, when the response is sent; past
``BARONG_SESSIONS_PER_USER`` the user's oldest sessions end with it.

Each session records how and when its user authenticated: ``amr`` (RFC 8176 method
names) and ``auth_time``, set by every login door and refreshed by a step-up
(``session_step_up``); the authz endpoint puts both in the JWT it mints.
"""

import ipaddress
import secrets
import time
from collections.abc import Iterable
from functools import lru_cache
from importlib import import_module

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase, UpdateError
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

# Authentication methods (``amr``), RFC 8176 names where one fits: a password, a TOTP
# code, a passkey (proof of possession of an authenticator's key: ``hwk``), and two names
# the RFC has none for: a recovery code and the e-mailed confirmation link.
AMR_PWD = "pwd"  # noqa: S105  (a method name, RFC 8176)
AMR_OTP = "otp"
AMR_PASSKEY = "hwk"
AMR_RECOVERY = "recovery"
AMR_EMAIL = "email"
AMR_MFA = "mfa"  # added when a second factor joined the password
SECOND_FACTORS = frozenset({AMR_OTP, AMR_PASSKEY, AMR_RECOVERY})
# What a step-up accepts, and so what a rule that requires one is satisfied by.
STEP_UP_METHODS = (AMR_OTP, AMR_PASSKEY)


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


def amr_of(methods: Iterable[str]) -> list[str]:
    """The ``amr`` claim of these methods: sorted, once each, ``mfa`` with a second factor."""
    names = {str(name) for name in methods} - {AMR_MFA}
    if names & SECOND_FACTORS and len(names) > 1:
        names.add(AMR_MFA)
    return sorted(names)


def session_authenticated(
    session, *, methods: Iterable[str], now: int | None = None, drop: Iterable[str] = ()
) -> None:
    """Record on ``session`` (a store or its data) that its user just authenticated with
    ``methods``: ``amr`` gains them, ``auth_time`` is now. A login starts from nothing
    (``session_open`` clears it), a step-up adds its factor to the login's. ``drop``:
    methods the session no longer holds (a password re-authentication drops second
    factors, so that its fresh ``auth_time`` never passes for a recent second factor)."""
    dropped = frozenset(drop)
    kept = [name for name in session.get("amr", ()) if name not in dropped]
    session["amr"] = amr_of([*kept, *methods])
    session["auth_time"] = int(time.time()) if now is None else now


def session_step_up_fresh(session, *, max_age: int, now: int) -> bool:
    """Whether the session holds a step-up factor (``STEP_UP_METHODS``) from at most
    ``max_age`` seconds ago: what a rule requiring a step-up asks (permissions/authz.py)."""
    amr = session.get("amr") or ()
    auth_time = session.get("auth_time")
    if not isinstance(auth_time, int) or not any(name in amr for name in STEP_UP_METHODS):
        return False
    return 0 <= now - auth_time <= max_age


def session_recently_authenticated(
    request: HttpRequest, session_key: str | None, *, max_age: int
) -> bool:
    """Whether session ``session_key`` (the caller's cookie session, or the one its Bearer
    token is bound to) was authenticated, by a login or a step-up, at most ``max_age``
    seconds ago: re-authentication before an authentication factor changes (ASVS 7.5.1)."""
    if not session_key:
        return False
    own = request.session.session_key == session_key
    store = request.session if own else _store_class()(session_key)
    auth_time = store.get("auth_time")
    if not isinstance(auth_time, int) or not store.get("amr"):
        return False
    return 0 <= int(time.time()) - auth_time <= max_age


def session_open(
    request: HttpRequest,
    user,
    *,
    amr: Iterable[str] = (AMR_PWD,),
    also: list[tuple] = (),
) -> str:
    """Log ``user`` in on this request's session with a new id; returns the CSRF token.

    ``amr``: how the user authenticated at this door (``AMR_*``). The session is stored
    with the response, together with its index entry, the end of the user's oldest
    sessions past ``BARONG_SESSIONS_PER_USER`` and ``also`` (cache operations for
    ``barong.cache.batch``, e.g. a rate-limit reset).
    """
    session = request.session
    if session.get("uid") not in (None, user.uid):
        session.clear()  # another user's session: keep nothing of it
    previous = session.session_key
    session.rotate()  # a new id (the old one is deleted): no session fixation
    csrf_token = secrets.token_hex(10)
    session["uid"] = user.uid
    session["user_ip"] = remote_ip(request)
    session["user_agent"] = user_agent(request)
    now = int(time.time())
    session["created_at"] = now
    session["expire_time"] = now + settings.BARONG_SESSION_EXPIRE_TIME
    session["csrf_token"] = csrf_token
    session.pop("amr", None)  # a login says how it authenticated, nothing carried over
    session_authenticated(session, methods=amr, now=now)
    session.also += [
        *_oldest_sessions_end(user.uid, keep=previous),
        ("push", _index_key(user.uid), session.session_key, INDEX_SIZE, INDEX_TTL),
        *also,
    ]
    return csrf_token


def _oldest_sessions_end(uid: str, *, keep: str | None) -> list[tuple]:
    """The cache operations that end the user's oldest sessions so that, with the one
    being opened, at most ``BARONG_SESSIONS_PER_USER`` stay.

    One round trip (the index) while the index lists fewer; two more to read their
    creation times otherwise. Two logins at the same instant may each leave one over:
    the next login trims it.
    """
    limit = max(1, settings.BARONG_SESSIONS_PER_USER)
    (keys,) = batch([("members", _index_key(uid))])
    if len([key for key in keys if key != keep]) < limit:
        return []
    live = {key: data for key, data in _live_sessions(uid).items() if key != keep}
    over = len(live) - limit + 1
    if over <= 0:
        return []
    # Opened the same second: the index's order (least recently pushed first) decides.
    place = {key: at for at, key in enumerate(keys)}
    oldest = sorted(live, key=lambda key: (_created_at(live[key]), place.get(key, 0)))[:over]
    prefix = _store_class().cache_key_prefix
    index = _index_key(uid)
    return [("delete", prefix + key) for key in oldest] + [
        ("remove", index, key, INDEX_TTL) for key in oldest
    ]


def _created_at(data: dict) -> int:
    created = data.get("created_at")
    return created if isinstance(created, int) else 0


def session_within_lifetime(data, now: int) -> bool:
    """Whether the session was opened less than ``BARONG_SESSION_MAX_LIFETIME`` seconds
    ago, however active since. One without a creation time (opened before it was
    recorded) has none left."""
    return now < _created_at(data) + settings.BARONG_SESSION_MAX_LIFETIME


def session_step_up(
    request: HttpRequest, uid: str, *, session_key: str, method: str, drop: Iterable[str] = ()
) -> dict:
    """The user of session ``session_key`` just proved ``method`` (a step-up): its ``amr``
    gains it (less ``drop``) and ``auth_time`` is now. Returns both. The caller's own
    cookie session is changed in place (the middleware saves it), a session named by a
    Bearer token's binding is saved here; one ended meanwhile is refused, never brought
    back."""
    own = request.session.session_key == session_key
    store = request.session if own else _store_class()(session_key)
    if store.get("uid") != uid:
        raise ApiError("authz.invalid_session", 401)
    session_authenticated(store, methods=[method], drop=drop)
    if not own:
        try:
            store.save()
        except UpdateError as exc:
            raise ApiError("authz.invalid_session", 401) from exc
    return {"amr": store["amr"], "auth_time": store["auth_time"]}


def backoffice_session_opened(request: HttpRequest, user) -> int:
    """The back-office's session cap: an operator's back-office login (Django's session,
    ``barong/admin_site.py``) ends their oldest back-office sessions past
    ``BARONG_SESSIONS_PER_USER``, as ``session_open`` does for the API's (counted apart:
    the two kinds live in different indexes). Returns how many ended.

    The index lives as long as a session may (``BARONG_SESSION_MAX_LIFETIME``): a
    back-office page does not refresh it as an API call does.
    """
    key = request.session.session_key
    index = f"backoffice_sessions_of:{user.uid}"
    keep_for = max(INDEX_TTL, settings.BARONG_SESSION_MAX_LIFETIME)
    (keys,) = batch([("members", index)])
    others = [listed for listed in keys if listed != key]
    prefix = _store_class().cache_key_prefix
    found = caches[settings.SESSION_CACHE_ALIAS].get_many([prefix + other for other in others])
    now = int(time.time())
    live = {
        other: data
        for other in others
        if (data := found.get(prefix + other))
        and data.get("_auth_user_id") == str(user.pk)
        and session_within_lifetime(data, now)
    }
    over = max(0, len(live) - max(1, settings.BARONG_SESSIONS_PER_USER) + 1)
    place = {listed: at for at, listed in enumerate(keys)}
    oldest = sorted(live, key=lambda other: (_created_at(live[other]), place[other]))[:over]
    gone = [other for other in others if other not in live]
    batch(
        [("delete", prefix + other) for other in oldest]
        + [("remove", index, other, keep_for) for other in [*gone, *oldest]]
        + [("push", index, key, INDEX_SIZE, keep_for)]
    )
    return len(oldest)


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
    """Cookie mode: CSRF, a uid, binding to agent and network, idle expiry and absolute
    lifetime; returns the uid.

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
        # ``session_within_lifetime``, inline: this runs on every authz call.
        and now < int(session.get("created_at", 0)) + settings.BARONG_SESSION_MAX_LIFETIME
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
        if (
            data
            and data.get("uid") == uid
            and now < int(data.get("expire_time", 0))
            and session_within_lifetime(data, now)
        ):
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
