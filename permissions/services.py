"""Writes to the permission and restriction tables; each one refreshes authz everywhere.

The two rule tables share one create/update/delete path (``rule_create``, ``rule_update``,
``rule_delete``) described by a ``RuleTable``: which fields an operator sets, how they are
checked, what makes two rows the same, the audit topic and the authz table to refresh.
``permission_*`` and ``restriction_*`` are that path for each table.
"""

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest

from activities.services import admin_activity_record
from barong.api.errors import ApiError, model_error_keys
from permissions import engine, restrictions
from permissions.models import Permission, Restriction
from permissions.scopes import scope_value
from permissions.selectors import role_exists

VERBS = {choice.lower() for choice in Permission.Verb.values}
ACTIONS = {choice.lower() for choice in Permission.Action.values}
# The columns an operator sets, in the order the audit rows record them.
PERMISSION_FIELDS = ("role", "verb", "path", "action", "topic", "security_lock", "step_up_max_age")
# A step-up's max age: a second factor older than a day is no step-up.
STEP_UP_MAX_AGE_LIMIT = 24 * 3600
RESTRICTION_FIELDS = ("category", "scope", "value", "code", "state")


def permission_upsert(
    *,
    role: str,
    verb: str,
    path: str,
    action: str,
    topic: str | None = None,
    step_up_max_age: int | None = None,
    security_lock: bool = False,
) -> tuple[Permission, bool]:
    """Seed one rule unless the same (role, verb, path, action) exists; returns (row, created)."""
    verb, action = verb.upper(), action.upper()
    existing = Permission.objects.filter(role=role, verb=verb, path=path, action=action).first()
    if existing is not None:
        return existing, False
    permission = Permission(
        role=role,
        verb=verb,
        path=path,
        action=action,
        topic=topic or None,
        step_up_max_age=permission_step_up(step_up_max_age),
        security_lock=security_lock,
    )
    try:
        permission.full_clean()
    except ValidationError as exc:
        raise ApiError(model_error_keys(exc)) from exc
    permission.save()
    transaction.on_commit(engine.invalidate, robust=True)
    return permission, True


# ------------------------------------------------------------ the shared create/update/delete


@dataclass(frozen=True)
class RuleTable:
    model: type[Permission] | type[Restriction]
    fields: tuple[str, ...]  # set by operators, in the order the audit rows record them
    clean: Callable[..., dict[str, Any]]  # all fields checked and normalised (ApiError)
    unique: tuple[str, ...]  # two rows equal on these are the same rule
    taken: str  # the key when such a row exists
    missing: str  # the 404 key of an unknown id
    audit_topic: str
    invalidate: Callable[[], None]  # every worker reloads this authz table on its next request
    # Wraps the write, given the row's fields before and after: may refuse (and roll back)
    # a change that leaves the table unrepairable.
    guard: Callable[..., AbstractContextManager] = lambda *rows: nullcontext()


def _locked(table: RuleTable, pk: int):
    """The row re-read under a lock: a concurrent delete is a 404, never undone by our save."""
    row = table.model.objects.select_for_update().filter(pk=pk).first()
    if row is None:
        raise ApiError(table.missing, 404)
    return row


def _unique_save(table: RuleTable, row: Permission | Restriction) -> None:
    """Model checks, then Barong's ``taken`` key for a row equal on ``unique``, then save."""
    same = table.model.objects.filter(**{name: getattr(row, name) for name in table.unique})
    try:
        row.full_clean(validate_constraints=False)
        if same.exclude(pk=row.pk).exists():
            raise ApiError(table.taken)
        with transaction.atomic():
            row.save()
    except ValidationError as exc:
        raise ApiError(model_error_keys(exc)) from exc
    except IntegrityError as exc:  # a concurrent identical row won the race
        raise ApiError(table.taken) from exc
    transaction.on_commit(table.invalidate, robust=True)


def _data(table: RuleTable, row: Permission | Restriction) -> dict[str, object]:
    return {"id": row.pk, **{key: getattr(row, key) for key in table.fields}}


def _audit(table: RuleTable, *, admin, action: str, request, data: dict) -> None:
    admin_activity_record(
        admin=admin, topic=table.audit_topic, action=action, request=request, data=data
    )


@transaction.atomic
def rule_create(table: RuleTable, *, admin, request: HttpRequest | None = None, **fields: Any):
    """A new row of ``table``: checked, unique, audited; authz refreshed after commit."""
    row = table.model(**table.clean(**fields))
    with table.guard(fields):
        _unique_save(table, row)
    _audit(table, admin=admin, action="create", request=request, data=_data(table, row))
    return row


@transaction.atomic
def rule_update(
    table: RuleTable, *, admin, row, request: HttpRequest | None = None, **changes: Any
):
    """Change the given (non-None) fields; the whole row passes the create checks again."""
    row = _locked(table, row.pk)
    previous = _data(table, row)
    current = {key: getattr(row, key) for key in table.fields}
    current.update({key: value for key, value in changes.items() if value is not None})
    cleaned = table.clean(**current)
    with table.guard(previous, cleaned):
        for key, value in cleaned.items():
            setattr(row, key, value)
        _unique_save(table, row)
    data = {**_data(table, row), "previous": previous}
    _audit(table, admin=admin, action="update", request=request, data=data)
    return row


@transaction.atomic
def rule_delete(table: RuleTable, *, admin, row, request: HttpRequest | None = None) -> None:
    """Remove a row; every worker stops applying it on its next request."""
    data = _data(table, row)
    with table.guard(data):
        row.delete()
    transaction.on_commit(table.invalidate, robust=True)
    _audit(table, admin=admin, action="delete", request=request, data=data)


# ------------------------------------------------------------ permissions


def permission_step_up(value: object) -> int | None:
    """A rule's step-up max age: seconds from 1 to a day, or 0/None for no requirement
    (``admin.permission.invalid_step_up_max_age``)."""
    if value is None or value == 0:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError("admin.permission.invalid_step_up_max_age")
    if not 0 < value <= STEP_UP_MAX_AGE_LIMIT:
        raise ApiError("admin.permission.invalid_step_up_max_age")
    return value


def _permission_fields(
    *,
    role: str,
    verb: str,
    path: str,
    action: str,
    topic: str | None = None,
    security_lock: bool = False,
    step_up_max_age: int | None = None,
) -> dict[str, Any]:
    """The permission checks, in Barong's order, applied to creates and updates alike."""
    if verb.lower() not in VERBS:
        raise ApiError("admin.permissions.invalid_verb")
    if action.lower() not in ACTIONS:
        raise ApiError("admin.permissions.invalid_action")
    if not role_exists(role):
        raise ApiError("admin.permission.role_doesnt_exist")
    # Paths are gateway paths without the leading slash; "/api/v2/x" would never match.
    return {
        "role": role,
        "verb": verb.upper(),
        "path": path.lstrip("/"),
        "action": action.upper(),
        "topic": topic or None,
        "step_up_max_age": permission_step_up(step_up_max_age),
        "security_lock": bool(security_lock),
    }


SUPERADMIN = "superadmin"
# What the superadmin role must keep: the admin API that can undo any rule change.
ADMIN_API_PROBES = tuple(
    (verb, "api/v2/barong/admin/permissions") for verb in ("GET", "POST", "PUT", "DELETE")
)


def _superadmin_reaches_admin_api() -> bool:
    """Whether the stored superadmin rules (locked until commit) still open the admin API."""
    rows = (
        Permission.objects.select_for_update()
        .filter(role=SUPERADMIN)
        .order_by("id")
        .values_list("verb", "path", "action", "topic")
    )
    rules = [engine.Rule(v.upper(), p, a.upper(), t or None) for v, p, a, t in rows]
    return all(engine.decide(rules, verb, path).allowed for verb, path in ADMIN_API_PROBES)


@contextmanager
def _superadmin_guarded(*rows: dict[str, Any]) -> Iterator[None]:
    """Run a rule change, refused (and rolled back) when it closes the admin API to
    superadmins: the last operator able to repair the table would be locked out."""
    before = any(row["role"] == SUPERADMIN for row in rows) and _superadmin_reaches_admin_api()
    yield
    if before and not _superadmin_reaches_admin_api():
        raise ApiError("admin.permission.last_superadmin_rule")


PERMISSIONS = RuleTable(
    model=Permission,
    fields=PERMISSION_FIELDS,
    clean=_permission_fields,
    unique=("role", "verb", "path", "action"),
    taken="path.taken",
    missing="admin.permission.doesnt_exist",
    audit_topic="permissions",
    invalidate=engine.invalidate,
    guard=_superadmin_guarded,  # a superadmin DROP rule, an update or a delete could close it
)


def permission_create(
    *,
    admin,
    role: str,
    verb: str,
    path: str,
    action: str,
    topic: str | None = None,
    step_up_max_age: int | None = None,
    security_lock: bool = False,
    request: HttpRequest | None = None,
) -> Permission:
    """A rule for a role that already exists; identical rules are refused."""
    fields = {"role": role, "verb": verb, "path": path, "action": action, "topic": topic}
    fields["step_up_max_age"] = step_up_max_age
    fields["security_lock"] = security_lock
    return rule_create(PERMISSIONS, admin=admin, request=request, **fields)


def permission_update(
    *, admin, permission: Permission, request: HttpRequest | None = None, **changes: Any
) -> Permission:
    """Change the given fields; the result must pass the create checks again."""
    return rule_update(PERMISSIONS, admin=admin, row=permission, request=request, **changes)


# ------------------------------------------------------------ restrictions


def restriction_value(*, scope: str, value: str) -> str:
    """A value checked and normalised for its scope (permissions/scopes.py); ``value.invalid``.

    IPs and subnets (IPv4 or IPv6) are stored in canonical form, countries and
    continents as ISO codes (``Japan`` → ``JP``, ``Europe`` → ``EU``).
    """
    try:
        return scope_value(scope, value)
    except ValueError as exc:
        raise ApiError("value.invalid") from exc


def _restriction_fields(
    *,
    category: str,
    scope: str,
    value: str,
    code: int | None = None,
    state: str = Restriction.State.ENABLED,
) -> dict[str, Any]:
    """The value fits its scope; a code of its own is an HTTP status."""
    value = restriction_value(scope=scope, value=value)
    if code is not None and not 100 <= code <= 599:
        raise ApiError("code.invalid")
    return {"category": category, "scope": scope, "value": value, "code": code, "state": state}


RESTRICTIONS = RuleTable(
    model=Restriction,
    fields=RESTRICTION_FIELDS,
    clean=_restriction_fields,
    unique=("category", "scope", "value"),
    taken="value.taken",
    missing="admin.restriction.doesnt_exist",
    audit_topic="restrictions",
    invalidate=restrictions.invalidate,
)


def restriction_create(
    *,
    admin,
    category: str,
    scope: str,
    value: str,
    state: str = Restriction.State.ENABLED,
    code: int | None = None,
    request: HttpRequest | None = None,
) -> Restriction:
    """A whitelist, maintenance or blacklist rule, unique per (category, scope, value)."""
    fields = {"category": category, "scope": scope, "value": value, "code": code, "state": state}
    return rule_create(RESTRICTIONS, admin=admin, request=request, **fields)


def restriction_update(
    *,
    admin,
    restriction: Restriction,
    request: HttpRequest | None = None,
    **changes: str | int | None,
) -> Restriction:
    """Change the given fields; the value is re-checked against the (new) scope."""
    return rule_update(RESTRICTIONS, admin=admin, row=restriction, request=request, **changes)
