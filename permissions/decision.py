"""The authz decision: one function from a gateway request's facts to allow or deny.

``decide`` is the only place that says whether a gateway request may go upstream. Two
adapters call it and render its answer: Django's view (``permissions.authz``) and the
WSGI front's fast path (``permissions.lean``). Each adapter gathers the facts its own way
(a ``WSGIRequest`` or the bare environ) and supplies the few that cost a read through
``Sources``: the cache round trip, the restriction and permission tables, the caller's
session or API key with the owner's snapshot. ``decide`` asks for them in Barong's order
and only when the rules reach them, so a public path never checks a credential and a
blocked one never loads the permission table.

Order (Barong 2.4.17's): an unsafe path, restrictions (except for the access path), block
rules, pass rules (public: 200 without a token), the caller, the caller's state (for an
API key also its networks and scopes), the role's permission rules, the security lock for
a rule marked with it, then the step-up a matching rule asks for (a second factor at most
``step_up_max_age`` seconds old, as the session records it: accounts/services/step_up.py). A
blocked path or denied permission is 403; missing or bad credentials and a step-up still
to take are 401; a restriction answers with its own status and key.
"""

import time
from dataclasses import dataclass
from typing import Any, Protocol

from accounts.sessions import ACTIVE_STATES, session_step_up_fresh
from apikeys.scopes import address_allowed, scopes_allow
from barong.api.errors import ApiError
from permissions import engine
from permissions.restrictions import Match

ACCESS_PATH = "api/v2/barong/identity/users/access"
STEP_UP_REQUIRED = "authz.step_up_required"


# The types built on every gateway call are not frozen: a frozen dataclass's ``__init__``
# costs about twice as much, and nothing changes them once built.


@dataclass(slots=True)
class Facts:
    """What the request says: nothing here costs a read."""

    method: str  # upper case
    path: str  # the checked path (``permissions.authz.authz_path``)
    unsafe: bool  # the path could mean another one upstream (``path_is_unsafe``)
    ip: str  # the client's address (``barong.api.net.client_ip``)
    api_key_mode: bool  # X-Auth-* headers sent: the caller is an API key, not a cookie
    pass_rules: tuple[str, ...]
    block_rules: tuple[str, ...]


@dataclass(slots=True)
class Identity:
    """The caller: ``session:<key>`` or ``apikey:<kid>``, and its owner's snapshot
    (``permissions.snapshots``), None when the owner is gone; for a session, its stored
    data (how and when its user authenticated: ``amr``, ``auth_time``)."""

    principal: str
    user: dict[str, Any] | None
    # An API key's limits (apikeys/scopes.py): the scopes it is held to (None: any
    # request) and the networks it may be used from (empty: any).
    scopes: tuple[str, ...] | None = None
    cidrs: tuple[str, ...] = ()
    session: Any = None  # a session's data or store (anything with ``get``)


@dataclass(frozen=True, slots=True)
class Audit:
    """An admin activity the adapter records (``permissions.authz.audit_record``)."""

    user: dict[str, Any]
    path: str
    topic: str | None
    result: str  # "succeed" | "denied"


@dataclass(slots=True)
class Allow:
    """200: ``public`` without a token, ``permitted`` with a JWT for ``identity``."""

    reason: str
    identity: Identity | None = None
    audit: Audit | None = None


@dataclass(frozen=True, slots=True)
class Deny:
    """A refusal: Barong's error keys and status. ``restriction`` is the typed match of a
    restriction; ``end_session`` asks the adapter to end the cookie's session;
    ``step_up`` is the max age of the second factor a step-up refusal asks for."""

    keys: tuple[str, ...]
    status: int
    restriction: Match | None = None
    audit: Audit | None = None
    end_session: bool = False
    step_up: int | None = None

    @property
    def key(self) -> str:
        return self.keys[0]


Decision = Allow | Deny

PUBLIC = Allow("public")
PERMISSION_DENIED = Deny(("authz.permission_denied",), 403)
SECURITY_LOCKED = Deny(("authz.security_lock",), 403)


def security_locked(user: dict[str, Any], now: float | None = None) -> bool:
    """Whether the user's security lock (a unix time in the snapshot) still holds."""
    until = user.get("security_lock_until")
    return until is not None and until > (time.time() if now is None else now)


class Sources(Protocol):
    """What an adapter supplies on demand; each may raise to stop the decision (an outage,
    or the fast path handing the request on)."""

    def open(self) -> None:
        """The one cache round trip, made before any rule: a signed request's signature
        is claimed whatever the path (replay protection)."""

    def restriction(self, ip: str) -> Match | None:
        """The first restriction matching ``ip`` (``permissions.restrictions``)."""

    def permission(self, role: str, method: str, path: str) -> engine.Decision:
        """The role's permission rules applied (``permissions.engine``)."""

    def identity(self) -> Identity:
        """The checked session or API key; raises ApiError for a refused credential."""


def decide(facts: Facts, sources: Sources) -> Decision:
    """Whether the request described by ``facts`` may go upstream, and as whom."""
    if facts.unsafe:  # before any rule: no public prefix can be borrowed
        return PERMISSION_DENIED
    sources.open()
    path = facts.path
    if path != ACCESS_PATH:
        match = sources.restriction(facts.ip)
        if match is not None:
            return Deny((match.key,), match.status, restriction=match)
    if path.startswith(facts.block_rules):
        return PERMISSION_DENIED
    if path.startswith(facts.pass_rules):
        return PUBLIC

    try:
        identity = sources.identity()
    except ApiError as exc:
        return Deny(tuple(exc.keys), exc.status_code)
    user = identity.user
    if facts.api_key_mode:  # the caller is the API key of the X-Auth-* headers
        if user is None or user["state"] not in ACTIVE_STATES:
            return Deny(("authz.invalid_session",), 401)
        if not user["otp"]:
            return Deny(("authz.disabled_2fa",), 401)
        if identity.cidrs and not address_allowed(identity.cidrs, facts.ip):
            return Deny(("authz.api_key_address",), 403)
        if identity.scopes is not None and not scopes_allow(identity.scopes, facts.method, path):
            return Deny(("authz.api_key_scope",), 403)
    else:
        if user is None:
            return Deny(("authz.invalid_session",), 401, end_session=True)
        if user["state"] not in ACTIVE_STATES:
            return Deny(("authz.user_not_active",), 401)

    verdict = sources.permission(user["role"], facts.method, path)
    if not verdict.allowed:
        return Deny(("authz.invalid_permission",), 403, audit=Audit(user, path, None, "denied"))
    if verdict.security_lock and security_locked(user):
        return SECURITY_LOCKED
    if verdict.step_up is not None and not _stepped_up(identity, verdict.step_up):
        return Deny((STEP_UP_REQUIRED,), 401, step_up=verdict.step_up)
    audit = Audit(user, path, verdict.topic, "succeed") if verdict.audit else None
    return Allow("permitted", identity, audit)


def _stepped_up(identity: Identity, max_age: int) -> bool:
    """A session whose second factor is recent enough; an API key never is (it has no
    second factor to show for this call). Read only for rules that ask."""
    session = identity.session
    if session is None:
        return False
    return session_step_up_fresh(session, max_age=max_age, now=int(time.time()))
