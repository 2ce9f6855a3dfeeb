"""Writes to the permission and restriction tables; each one refreshes authz everywhere."""

from django.core.exceptions import ValidationError
from django.db import transaction

from barong.api.errors import ApiError, model_error_keys
from permissions import engine
from permissions.models import Permission

VERBS = {choice.lower() for choice in Permission.Verb.values}
ACTIONS = {choice.lower() for choice in Permission.Action.values}


def permission_upsert(
    *, role: str, verb: str, path: str, action: str, topic: str | None = None
) -> tuple[Permission, bool]:
    """Seed one rule unless an identical (role, verb, path, action) exists; returns (row, created)."""
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
    transaction.on_commit(engine.invalidate)
    return permission, True
