"""Reads of the permission and restriction tables shared by services and views."""

from datetime import UTC, datetime

from django.db.models import QuerySet

from barong.api.errors import ApiError
from permissions.models import Permission, Restriction


def role_exists(role: str) -> bool:
    """Roles known to the system are the distinct roles of the permission table."""
    return Permission.objects.filter(role=role).exists()


def _unix(seconds: int, key: str) -> datetime:
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise ApiError(key) from exc


def restrictions_search(
    *,
    scope: str | None = None,
    category: str | None = None,
    time_range: str = "created",
    time_from: int | None = None,
    time_to: int | None = None,
) -> QuerySet[Restriction]:
    """Oldest first; ``from``/``to`` are inclusive unix seconds on created or updated."""
    rows = Restriction.objects.order_by("id")
    if scope:
        rows = rows.filter(scope=scope)
    if category:
        rows = rows.filter(category=category)
    column = f"{time_range}_at"
    if time_from is not None:
        rows = rows.filter(**{f"{column}__gte": _unix(time_from, "admin.restriction.invalid_from")})
    if time_to is not None:
        # Inclusive to the second: anything before the start of the next second.
        until = _unix(time_to + 1, "admin.restriction.invalid_to")
        rows = rows.filter(**{f"{column}__lt": until})
    return rows
