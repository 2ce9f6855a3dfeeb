"""The compiled permission table held in memory, refreshed through a version key in the cache.

Every worker keeps the table in process memory and compares a version stamp in the
shared cache on each check, so an operator's change is seen by the very next request
on every worker, and the steady state never touches the database.
"""

import threading
from dataclasses import dataclass, field

from barong.cache import version_bump, version_stamp

VERSION_KEY = "permissions:version"


@dataclass(frozen=True)
class Rule:
    verb: str
    path: str
    action: str
    topic: str | None
    step_up: int | None = (
        None  # seconds: a second factor at most this old (accounts/services/step_up.py)
    )
    security_lock: bool = (
        False  # refuses users under a security lock (accounts/services/security_lock.py)
    )


@dataclass(frozen=True)
class Decision:
    """The outcome of one check: allowed or not, the audit topic when AUDIT matched, the
    step-up a matching rule asks for (the smallest max age; None: none asked), and whether
    a matching rule is marked ``security_lock``."""

    allowed: bool
    audit: bool = False
    topic: str | None = None
    step_up: int | None = None
    security_lock: bool = False  # a matching rule is marked ``security_lock``


@dataclass
class Table:
    version: str | None = None
    rules: dict[str, tuple[Rule, ...]] = field(default_factory=dict)
    # Roles with a rule asking for a step-up: only their checks look for one.
    stepped: frozenset[str] = frozenset()


_table = Table()
_lock = threading.Lock()


def _load() -> dict[str, tuple[Rule, ...]]:
    from permissions.models import Permission

    compiled: dict[str, list[Rule]] = {}
    rows = Permission.objects.order_by("id").values_list(
        "role", "verb", "path", "action", "topic", "security_lock", "step_up_max_age"
    )
    for role, verb, path, action, topic, lock, step_up in rows:
        compiled.setdefault(role, []).append(
            Rule(
                verb.upper(),
                path,
                action.upper(),
                topic or None,
                step_up=step_up or None,
                security_lock=bool(lock),
            )
        )
    return {role: tuple(rules) for role, rules in compiled.items()}


def table(version: str | None = None) -> dict[str, tuple[Rule, ...]]:
    """The compiled rules, reloaded only when the shared version stamp changed."""
    version = version or version_stamp(VERSION_KEY)
    if _table.version != version:
        with _lock:
            if _table.version != version:
                rules = _load()
                _table.stepped = frozenset(
                    role for role, own in rules.items() if any(rule.step_up for rule in own)
                )
                _table.rules = rules
                _table.version = version
    return _table.rules


def loaded(version: str | None) -> bool:
    """Whether this process holds the table stamped ``version`` (a check without the database)."""
    return version is not None and _table.version == version


def invalidate() -> None:
    """Call after any permission write commits: every worker reloads on its next check."""
    version_bump(VERSION_KEY)


def check(role: str, method: str, path: str, *, version: str | None = None) -> Decision:
    """Role, verb and path prefix: DROP beats ACCEPT, no match denies, AUDIT only logs;
    for a role with step-up rules, the step-up an allowed request needs."""
    rules = table(version).get(role, ())
    decision = decide(rules, method, path)
    if decision.allowed and role in _table.stepped:
        step_up = step_up_of(rules, method, path)
        if step_up is not None:
            return Decision(True, decision.audit, decision.topic, step_up, decision.security_lock)
    return decision


def decide(rules: tuple[Rule, ...] | list[Rule], method: str, path: str) -> Decision:
    """One role's rules applied to one request (also used to test a change before commit)."""
    method = method.upper()
    accept = drop = False
    audit_topic: str | None = None
    audit = lock = False
    for rule in rules:
        if rule.verb not in (method, "ALL") or not path.startswith(rule.path):
            continue
        lock = lock or rule.security_lock
        if rule.action == "DROP":
            drop = True
        elif rule.action == "ACCEPT":
            accept = True
        elif rule.action == "AUDIT" and not audit:
            audit, audit_topic = True, rule.topic
    allowed = accept and not drop
    return Decision(allowed=allowed, audit=audit, topic=audit_topic, security_lock=lock)


def step_up_of(rules: tuple[Rule, ...] | list[Rule], method: str, path: str) -> int | None:
    """The smallest ``step_up`` of the ACCEPT and AUDIT rules matching the request; None
    when none asks. A second pass, so that roles without such rules pay nothing."""
    method = method.upper()
    found: int | None = None
    for rule in rules:
        if rule.step_up is None or rule.action == "DROP":
            continue
        if rule.verb not in (method, "ALL") or not path.startswith(rule.path):
            continue
        if found is None or rule.step_up < found:
            found = rule.step_up
    return found


def gateway_path(request_path: str) -> str:
    """``/api/v2/x`` and ``/api/v2/barong/x`` are both checked as ``api/v2/barong/x``."""
    path = request_path.lstrip("/")
    if path.startswith("api/v2/") and not path.startswith("api/v2/barong/"):
        path = "api/v2/barong/" + path[len("api/v2/") :]
    return path
