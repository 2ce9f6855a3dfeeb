"""Rules that keep the exchange operable whatever operators do to each other's accounts."""

from accounts.models import User
from accounts.roles import SUPERADMIN
from barong.api.errors import ApiError


def superadmins_lock() -> list[int]:
    """Lock every active superadmin's row, in id order (the one order, so no deadlock)."""
    return list(
        User.objects.select_for_update()
        .filter(role=SUPERADMIN, state=User.State.ACTIVE)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def last_superadmin_guard(*, user: User, role: str, state: str) -> None:
    """The last active superadmin is never demoted, banned or otherwise deactivated: nobody
    could reach the admin API to undo it. Every active superadmin row is locked, so two
    superadmins demoting each other at once cannot both succeed."""
    if user.role != SUPERADMIN or user.state != User.State.ACTIVE:
        return
    if role == SUPERADMIN and state == User.State.ACTIVE:
        return
    if not [pk for pk in superadmins_lock() if pk != user.pk]:
        raise ApiError("admin.user.last_superadmin")
