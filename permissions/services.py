"""Writes to the permission and restriction tables; each one refreshes authz everywhere."""

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
PERMISSION_FIELDS = ("role", "verb", "path", "action", "topic")
RESTRICTION_FIELDS = ("category", "scope", "value", "code", "state")


def permission_upsert(
    *, role: str, verb: str, path: str, action: str, topic: str | None = None
) -> tuple[Permission, bool]:
    """Seed one rule unless the same (role, verb, path, action) exists; returns (row, created)."""
    verb, action = verb.upper(), action.upper()
    existing = Permission.objects.filter(role=role, verb=verb, path=path, action=action).first()
    if existing is not None:
        return existing, False
    permission = Permission(role=role, verb=verb, path=path, action=action, topic=topic or None)
    try:
        permission.full_clean()
    except ValidationError as exc:
        raise ApiError(model_error_keys(exc)) from exc
    permission.save()
    transaction.on_commit(engine.invalidate, robust=True)
    return permission, True


# ------------------------------------------------------------ operators (admin API, back office)


def _permission_fields(
    *, role: str, verb: str, path: str, action: str, topic: str | None
) -> dict[str, str | None]:
    """Barong's checks, in Barong's order, applied to creates and updates alike."""
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
    }


def _locked(model: type[Permission | Restriction], pk: int, missing: str):
    """The row re-read under a lock: a concurrent delete is a 404, never undone by our save."""
    row = model.objects.select_for_update().filter(pk=pk).first()
    if row is None:
        raise ApiError(missing, 404)
    return row


def _unique_save(row: Permission | Restriction, *, unique: tuple[str, ...], taken: str) -> None:
    """Model checks, then Barong's ``taken`` key for a row equal on ``unique``, then save."""
    same = type(row).objects.filter(**{name: getattr(row, name) for name in unique})
    try:
        row.full_clean(validate_constraints=False)
        if same.exclude(pk=row.pk).exists():
            raise ApiError(taken)
        with transaction.atomic():
            row.save()
    except ValidationError as exc:
        raise ApiError(model_error_keys(exc)) from exc
    except IntegrityError as exc:  # a concurrent identical row won the race
        raise ApiError(taken) from exc


def _permission_save(permission: Permission) -> Permission:
    _unique_save(permission, unique=("role", "verb", "path", "action"), taken="path.taken")
    transaction.on_commit(engine.invalidate, robust=True)
    return permission


def _permission_data(permission: Permission) -> dict[str, object]:
    return {"id": permission.pk, **{key: getattr(permission, key) for key in PERMISSION_FIELDS}}


@transaction.atomic
def permission_create(
    *,
    admin,
    role: str,
    verb: str,
    path: str,
    action: str,
    topic: str | None = None,
    request: HttpRequest | None = None,
) -> Permission:
    """A rule for a role that already exists; identical rules are refused."""
    fields = _permission_fields(role=role, verb=verb, path=path, action=action, topic=topic)
    permission = _permission_save(Permission(**fields))
    admin_activity_record(
        admin=admin,
        topic="permissions",
        action="create",
        request=request,
        data=_permission_data(permission),
    )
    return permission


@transaction.atomic
def permission_update(
    *, admin, permission: Permission, request: HttpRequest | None = None, **changes: str | None
) -> Permission:
    """Change the given fields; the result must pass the create checks again."""
    permission = _locked(Permission, permission.pk, "admin.permission.doesnt_exist")
    previous = _permission_data(permission)
    current = {key: getattr(permission, key) for key in PERMISSION_FIELDS}
    current.update({key: value for key, value in changes.items() if value is not None})
    for key, value in _permission_fields(**current).items():
        setattr(permission, key, value)
    permission = _permission_save(permission)
    admin_activity_record(
        admin=admin,
        topic="permissions",
        action="update",
        request=request,
        data={**_permission_data(permission), "previous": previous},
    )
    return permission


@transaction.atomic
def permission_delete(*, admin, permission: Permission, request: HttpRequest | None = None) -> None:
    """Remove a rule; every worker stops applying it on its next request."""
    data = _permission_data(permission)
    permission.delete()
    transaction.on_commit(engine.invalidate, robust=True)
    admin_activity_record(
        admin=admin, topic="permissions", action="delete", request=request, data=data
    )


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


def _restriction_save(restriction: Restriction) -> Restriction:
    restriction.value = restriction_value(scope=restriction.scope, value=restriction.value)
    if restriction.code is not None and not 100 <= restriction.code <= 599:
        raise ApiError("code.invalid")
    _unique_save(restriction, unique=("category", "scope", "value"), taken="value.taken")
    transaction.on_commit(restrictions.invalidate, robust=True)
    return restriction


def _restriction_data(restriction: Restriction) -> dict[str, object]:
    return {"id": restriction.pk, **{key: getattr(restriction, key) for key in RESTRICTION_FIELDS}}


@transaction.atomic
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
    restriction = _restriction_save(
        Restriction(category=category, scope=scope, value=value, state=state, code=code)
    )
    admin_activity_record(
        admin=admin,
        topic="restrictions",
        action="create",
        request=request,
        data=_restriction_data(restriction),
    )
    return restriction


@transaction.atomic
def restriction_update(
    *,
    admin,
    restriction: Restriction,
    request: HttpRequest | None = None,
    **changes: str | int | None,
) -> Restriction:
    """Change the given fields; the value is re-checked against the (new) scope."""
    restriction = _locked(Restriction, restriction.pk, "admin.restriction.doesnt_exist")
    previous = _restriction_data(restriction)
    for key, value in changes.items():
        if value is not None:
            setattr(restriction, key, value)
    restriction = _restriction_save(restriction)
    admin_activity_record(
        admin=admin,
        topic="restrictions",
        action="update",
        request=request,
        data={**_restriction_data(restriction), "previous": previous},
    )
    return restriction


@transaction.atomic
def restriction_delete(
    *, admin, restriction: Restriction, request: HttpRequest | None = None
) -> None:
    """Remove a restriction; every worker stops applying it on its next request."""
    data = _restriction_data(restriction)
    restriction.delete()
    transaction.on_commit(restrictions.invalidate, robust=True)
    admin_activity_record(
        admin=admin, topic="restrictions", action="delete", request=request, data=data
    )
