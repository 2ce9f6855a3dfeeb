"""Reads of the permission and restriction tables shared by services and views."""

from django.db.models import QuerySet

from barong.api.timebounds import time_bounded
from permissions.models import Permission, Restriction


def role_exists(role: str) -> bool:
    """Roles known to the system are the distinct roles of the permission table."""
    return Permission.objects.filter(role=role).exists()


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
    return time_bounded(
        rows,
        f"{time_range}_at",
        time_from,
        time_to,
        from_key="admin.restriction.invalid_from",
        to_key="admin.restriction.invalid_to",
    )
