"""``/api/v2/auth/<path>``: the gateway's question "may this request go upstream?"

The decision itself is ``permissions.decision.decide`` (its order and answers are
described there). This module is its Django adapter and what both adapters share: the
request's facts (``authz_facts``: the checked path, the unsafe-path test, the rules
file), the one cache round trip (``prefetch_plan``, ``prefetch_run``), the JWT minted for
a permitted call (``token_for``) and the audit row of an audited or denied call.

This runs before every proxied request: ``permissions.middleware.AuthzMiddleware``
calls the view ahead of the middleware stack, and in the steady state it makes one
cache round trip and no database query: compiled rule tables checked against version
stamps, the session or API-key row, a cached user snapshot, and a recently minted JWT
reused for a short while (docs/BENCHMARKS.md).
"""

import json
import re
import threading
import time
from functools import lru_cache
from typing import Any

import yaml
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from accounts.authentication import API_KEY_CLAIM, SESSION_CLAIM
from accounts.sessions import STEP_UP_METHODS, session_check, session_public_id
from activities.services import METHOD_ACTIONS, admin_activity_record
from apikeys.signatures import (
    MAX_KID,
    api_key_cache_key,
    api_key_replay_marker,
    api_key_verify,
)
from barong import jwt as barong_jwt
from barong.api.errors import ApiError, error_response
from barong.api.failures import failure_response
from barong.api.net import client_ip
from barong.cache import get_many_and_add
from barong.metrics import AUTHZ_DECISIONS, labelled
from permissions import engine, restrictions, snapshots
from permissions.decision import Decision, Deny, Facts, Identity, decide, security_locked

API_KEY_HEADERS = ("HTTP_X_AUTH_APIKEY", "HTTP_X_AUTH_NONCE", "HTTP_X_AUTH_SIGNATURE")
MAX_PATH = 4096
MAX_PARAMS_BODY = 64 * 1024
TOKEN_REUSE_MAX = 60
TOKEN_CACHE_SIZE = 20_000
# The environ key under which the front's fast path hands its cache round trip on.
PREFETCHED = "barong.authz.prefetched"


# ---------------------------------------------------------------- rules file


@lru_cache(maxsize=8)
def _rules(path: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    with open(path, encoding="utf-8") as handle:
        rules = (yaml.safe_load(handle) or {}).get("rules") or {}
    return (
        tuple(str(item) for item in rules.get("pass") or ()),
        tuple(str(item) for item in rules.get("block") or ()),
    )


def authz_rules() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(pass prefixes, block prefixes) of ``BARONG_AUTHZ_RULES_FILE``, read once per file."""
    return _rules(str(settings.BARONG_AUTHZ_RULES_FILE))


# ---------------------------------------------------------------- path


@lru_cache(maxsize=1024)  # as ``_unsafe``
def authz_path(raw: str) -> str:
    """The checked path: no leading slash, ``.``/``..``/empty segments resolved, format dropped.

    Barong matches the raw path; resolving dot segments here means
    ``api/v2/barong/identity/../admin`` is judged as the admin path an upstream would
    serve, not as a public identity path.
    """
    segments: list[str] = []
    for segment in raw[:MAX_PATH].split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if segments:
                segments.pop()
            continue
        segments.append(segment)
    if segments:  # Barong's router drops a trailing ".ext" format suffix
        head, dot, ext = segments[-1].rpartition(".")
        if dot and head and ext:
            segments[-1] = head
    return "/".join(segments)


# A percent-escape left after the server decoded the path once (a double encoding), a
# backslash, a ";" path parameter, a NUL or a ".." segment: an upstream that decodes again
# or splits on "\\" or ";" would serve another path than the one checked here.
UNSAFE_PATH_RE = re.compile(r"%[0-9a-f]{2}|[\\;\x00]|(?:^|/)\.\.(?:/|$)", re.IGNORECASE)
# Separators still encoded in the request line as sent (gunicorn's RAW_URI, uWSGI's REQUEST_URI).
UNSAFE_RAW_RE = re.compile(r"%(?:2f|5c|3b|00|25)|\\|;|(?:^|/)\.\.(?:/|$)", re.IGNORECASE)


def path_is_unsafe(meta: dict, raw: str) -> bool:
    """Whether the path could mean something else to the upstream than to our matcher."""
    sent = meta.get("RAW_URI") or meta.get("REQUEST_URI") or ""
    return _unsafe(raw, sent.partition("?")[0])  # the query string is not checked


@lru_cache(maxsize=1024)  # the gateway asks about the same paths again and again
def _unsafe(raw: str, sent_path: str) -> bool:
    if UNSAFE_PATH_RE.search(raw):
        return True
    return bool(UNSAFE_RAW_RE.search(sent_path))


# ---------------------------------------------------------------- tokens


class _TokenCache:
    """JWTs minted recently, per (session or key, claims, signing key), in process memory.

    Signing costs more than the rest of the request; a token is reused for at most a
    quarter of its lifetime (60 s at most), so it always has three quarters left. The
    key holds every claim, so a change of role, state or level mints a new token, and
    the principal, so nothing is shared between sessions or users.
    """

    def __init__(self) -> None:
        self._tokens: dict[tuple, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple, now: float) -> str | None:
        hit = self._tokens.get(key)
        if hit is not None and hit[1] > now:
            return hit[0]
        return None

    def put(self, key: tuple, token: str, until: float) -> None:
        with self._lock:
            if len(self._tokens) >= TOKEN_CACHE_SIZE:
                self._tokens.clear()
            self._tokens[key] = (token, until)

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()


tokens = _TokenCache()


def token_binding(principal: str) -> dict[str, str]:
    """The claim tying a token to its ``principal``: the session's public id (never the
    cookie value, which the upstream must not learn) or the API key's kid. This server
    refuses the token once that session ends or that key stops
    (accounts.authentication.BearerJWTAuthentication)."""
    kind, _, value = principal.partition(":")
    if kind == "session":
        return {SESSION_CLAIM: session_public_id(value)}
    return {API_KEY_CLAIM: value}


def token_for(
    principal: str,
    user: dict[str, Any],
    scopes: tuple[str, ...] | None = None,
    session: Any = None,
) -> str:
    """A JWT with Barong's claims for ``user``, bound to and reused briefly for ``principal``.

    Additions Barong clients ignore (docs/compatibility.md): ``scope``, the scopes an API
    key is held to (space-separated, RFC 8693), ``security_lock_until`` while the user's
    security lock holds (unix time), and for a session (its data: anything with ``get``)
    how and when its user authenticated, ``amr`` and ``auth_time``.
    """
    claims = {
        "uid": user["uid"],
        "email": user["email"],
        "role": user["role"],
        "level": user["level"],
        "state": user["state"],
        "referral_id": user["referral_id"],
    }
    now = time.time()
    if scopes is not None:
        claims["scope"] = " ".join(scopes)
    if security_locked(user, now):
        claims["security_lock_until"] = user["security_lock_until"]
    signing_kid = barong_jwt.signing_key().kid
    # A step-up sets a new ``auth_time`` and only ever adds to ``amr``: the time and the
    # number of methods in the key mint a new token for it, even within the same second.
    auth_time = amr = None
    if session is not None:
        auth_time, amr = session.get("auth_time"), session.get("amr")
    # The optional claims differ in type, so their values alone tell them apart.
    key = (principal, signing_kid, *claims.values(), auth_time, len(amr or ()))
    token = tokens.get(key, now)
    if token is None:
        if amr and isinstance(auth_time, int):
            claims["amr"], claims["auth_time"] = list(amr), auth_time
        lifetime = settings.BARONG_JWT_EXPIRE_TIME
        bound = {**claims, **token_binding(principal)}  # a function of the cache key
        token = barong_jwt.encode(bound, sub="session", lifetime=lifetime)
        tokens.put(key, token, now + min(TOKEN_REUSE_MAX, lifetime / 4))
    return token


# ---------------------------------------------------------------- audit


def audit_params(request: HttpRequest) -> dict[str, Any]:
    """Query string, form or JSON object body merged, as the audit row records them."""
    params: dict[str, Any] = {key: request.GET.get(key) for key in request.GET}
    try:
        content_type = request.content_type or ""
        if content_type == "application/json":
            body = request.body[: MAX_PARAMS_BODY + 1]
            if len(body) <= MAX_PARAMS_BODY:
                data = json.loads(body or b"{}")
                if isinstance(data, dict):
                    params.update(data)
        elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            params.update({key: request.POST.get(key) for key in request.POST})
    except Exception:  # an unreadable body only leaves the audit row without its params
        return params
    return params


def _clean(value: Any) -> Any:
    """PostgreSQL text cannot hold NUL; the audit row keeps everything else as sent."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def audit_topic(path: str, topic: str | None) -> str:
    """The rule's topic, else the segment after the first ``admin/``, else ``general``."""
    if topic:
        return topic
    _, found, rest = path.partition("admin/")
    segment = rest.split("/", 1)[0] if found else ""
    return segment or "general"


def audit_record(
    request: HttpRequest, user: dict[str, Any], path: str, topic: str | None, result: str
) -> None:
    """An admin activity for an audited or denied request."""
    from accounts.models import User

    params = _clean(audit_params(request))
    path = _clean(path)
    target = params.get("uid") or params.get("user_uid")
    if target is not None and (
        not isinstance(target, str) or not User.objects.filter(uid=target).exists()
    ):
        return  # Barong drops the row when the target uid does not exist
    admin_activity_record(
        admin=User(pk=user["id"], uid=user["uid"]),
        topic=audit_topic(path, topic),
        action=METHOD_ACTIONS.get(request.method or "", "system"),
        target=target,
        request=request,
        data={**params, "path": path},
        result=result,
    )


# ---------------------------------------------------------------- the request's facts


def authz_facts(meta: dict, raw_path: str) -> Facts:
    """The facts ``decide`` reads from a request's META or a WSGI environ (both adapters)."""
    pass_rules, block_rules = authz_rules()
    return Facts(  # positional: this runs on every gateway call
        (meta.get("REQUEST_METHOD") or "GET").upper(),
        authz_path(raw_path),
        path_is_unsafe(meta, raw_path),
        client_ip(meta),
        # ``any(name in meta for name in API_KEY_HEADERS)`` without a generator's frames
        "HTTP_X_AUTH_APIKEY" in meta
        or "HTTP_X_AUTH_NONCE" in meta
        or "HTTP_X_AUTH_SIGNATURE" in meta,
        pass_rules,
        block_rules,
    )


class _Hints(dict):
    """``session:<key>`` or ``apikey:<kid>`` → owner uid, remembered so one cache round
    trip fetches all.

    A session key or an API key never changes owner, so a stale hint is impossible;
    the hint only chooses which snapshot to prefetch, the stored data stays the authority.
    """

    def remember(self, key: str, uid: str) -> None:
        if len(self) >= TOKEN_CACHE_SIZE:
            self.clear()
        self[key] = uid


owners = _Hints()


def prefetch_plan(
    meta: dict, session: tuple[str, str] | None, api_key_mode: bool
) -> tuple[list[str], str | None, tuple[str, int] | None]:
    """What one cache round trip reads: (keys, the owner's uid if known, the replay marker
    to claim); the same for Django's path and the front's (permissions/lean.py).

    ``session``: the cookie's session key and the cache key it is stored under."""
    wanted = [engine.VERSION_KEY, restrictions.VERSION_KEY]
    uid_hint = marker = None
    if api_key_mode:
        kid = meta.get("HTTP_X_AUTH_APIKEY", "")
        if 0 < len(kid) <= MAX_KID:
            wanted.append(api_key_cache_key(kid))
            uid_hint = owners.get(f"apikey:{kid}")
            marker = api_key_replay_marker(
                nonce=meta.get("HTTP_X_AUTH_NONCE", ""),
                signature=meta.get("HTTP_X_AUTH_SIGNATURE", ""),
            )
    elif session is not None:
        wanted.append(session[1])
        uid_hint = owners.get(f"session:{session[0]}")
    if uid_hint is not None:
        wanted.append(snapshots.user_key(uid_hint))
    return wanted, uid_hint, marker


def prefetch_run(wanted: list[str], marker: tuple[str, int] | None) -> tuple[dict, bool | None]:
    """The round trip itself: the values found and, with a marker, whether it was claimed."""
    if marker is not None:
        return get_many_and_add(wanted, marker[0], 1, marker[1])
    return cache.get_many(wanted), None


# ---------------------------------------------------------------- Django's adapter


def _session_cache_key(request: HttpRequest) -> str | None:
    """The cache key of this request's session, when sessions live in the default cache."""
    store = request.session
    if not store.session_key or not hasattr(store, "cache_key"):
        return None
    if settings.SESSION_CACHE_ALIAS != "default":
        return None
    return store.cache_key


class RequestSources:
    """``decision.Sources`` for a Django request: anything may be read, the database too."""

    __slots__ = ("api_key_mode", "claimed", "found", "request", "uid_hint")

    def __init__(self, request: HttpRequest, api_key_mode: bool) -> None:
        self.request = request
        self.api_key_mode = api_key_mode
        self.found: dict = {}
        self.uid_hint: str | None = None
        self.claimed: bool | None = None

    def open(self) -> None:
        """One cache round trip: version stamps, the session or key row, the owner's
        snapshot and, for a signed request, the claim on its signature (replay protection).

        When the front's fast path already made it and then handed the request on, its
        outcome (or the exception it raised) is in the environ under ``PREFETCHED``: a
        signature is claimed once, and an outage costs one attempt, not two.
        """
        request = self.request
        session_key = session = None
        if not self.api_key_mode and settings.SESSION_COOKIE_NAME in request.COOKIES:
            session_key = _session_cache_key(request)
            if session_key is not None:
                session = (request.session.session_key, session_key)
        stashed = request.META.pop(PREFETCHED, None)
        if isinstance(stashed, Exception):
            raise stashed
        if stashed is not None:
            found, uid_hint, claimed = stashed
        else:
            wanted, uid_hint, marker = prefetch_plan(request.META, session, self.api_key_mode)
            found, claimed = prefetch_run(wanted, marker)
        if session_key is not None and session_key in found:
            # Hand the session data to the store so it is not fetched a second time.
            request.session._session_cache = found[session_key]
        self.found, self.uid_hint, self.claimed = found, uid_hint, claimed

    def restriction(self, ip: str) -> restrictions.Match | None:
        return restrictions.evaluate(ip, version=self.found.get(restrictions.VERSION_KEY))

    def permission(self, role: str, method: str, path: str) -> engine.Decision:
        return engine.check(role, method, path, version=self.found.get(engine.VERSION_KEY))

    def identity(self) -> Identity:
        return self._api_key() if self.api_key_mode else self._cookie()

    def _user(self, uid: str) -> dict | None:
        cached = self.found.get(snapshots.user_key(uid)) if uid == self.uid_hint else None
        return snapshots.user_snapshot(uid, cached)

    def _cookie(self) -> Identity:
        """CSRF, binding and idle expiry (slid here), then the owner's snapshot."""
        request = self.request
        uid = session_check(request)
        owners.remember(f"session:{request.session.session_key}", uid)
        session = request.session
        return Identity(f"session:{session.session_key}", self._user(uid), session=session)

    def _api_key(self) -> Identity:
        """Signature, nonce window, replay and key state, then the owner's snapshot."""
        meta = self.request.META
        kid = meta.get("HTTP_X_AUTH_APIKEY", "")
        key = api_key_verify(
            kid=kid,
            nonce=meta.get("HTTP_X_AUTH_NONCE", ""),
            signature=meta.get("HTTP_X_AUTH_SIGNATURE", ""),
            cached=self.found.get(api_key_cache_key(kid)) if kid else None,
            claimed=self.claimed,
        )
        owners.remember(f"apikey:{key.kid}", key.uid)
        return Identity(f"apikey:{key.kid}", self._user(key.uid), key.scopes, key.cidrs)


def authorize(request: HttpRequest, raw_path: str) -> Decision:
    """The decision for one gateway request seen through Django."""
    facts = authz_facts(request.META, raw_path)
    return decide(facts, RequestSources(request, facts.api_key_mode))


def render(request: HttpRequest, decision: Decision) -> HttpResponse:
    """The decision's answer, with its effects: the audit row, the session ended, the JWT."""
    if decision.audit is not None:
        audit = decision.audit
        audit_record(request, audit.user, audit.path, audit.topic, audit.result)
    if isinstance(decision, Deny):
        if decision.end_session:
            request.session.flush()
        if decision.step_up is not None:
            return step_up_response(decision)
        return error_response(list(decision.keys), decision.status)
    response = HttpResponse(status=200, content_type="text/plain")
    if decision.identity is not None:
        identity = decision.identity
        token = token_for(
            identity.principal, identity.user, identity.scopes, session=identity.session
        )
        response["Authorization"] = f"Bearer {token}"
    return response


def step_up_response(decision: Deny) -> JsonResponse:
    """401 ``authz.step_up_required`` with what satisfies it: a second factor of these
    methods at most ``max_age`` seconds old, in the body and as RFC 9470's challenge."""
    body = {
        "errors": list(decision.keys),
        "step_up": {"methods": list(STEP_UP_METHODS), "max_age": decision.step_up},
    }
    response = JsonResponse(body, status=decision.status)
    response["WWW-Authenticate"] = (
        f'Bearer error="insufficient_user_authentication", max_age={decision.step_up}'
    )
    return response


@csrf_exempt
def authz_view(request: HttpRequest, path: str | None = None) -> HttpResponse:
    """``/api/v2/auth/<path>``, any method."""
    try:
        decision = authorize(request, path or "")
        response = render(request, decision)
    except ApiError as exc:
        labelled(AUTHZ_DECISIONS, "deny", exc.keys[0]).inc()
        return error_response(exc.keys, exc.status_code)
    except Exception as exc:  # Redis or the database away is 503, anything else a JSON 500
        return failure_response(request, exc)
    if isinstance(decision, Deny):
        labelled(AUTHZ_DECISIONS, "deny", decision.key).inc()
    else:
        labelled(AUTHZ_DECISIONS, "allow", decision.reason).inc()
    return response
