"""The security lock: for ``BARONG_SECURITY_LOCK_HOURS`` after a change an attacker who took
over an account would make (2FA switched off, the password changed or reset, a recovery
code used), permission rules marked ``security_lock`` (withdrawals) refuse the user.

The end is stored on the user (``security_lock_until``); saving it drops the authz snapshot
(permissions/signals.py), so the next gateway call sees it, and the JWT authz mints carries
it (``security_lock_until``, docs/compatibility.md). The user is told by e-mail through the
outbox, with the time the lock lifts.
"""

import datetime

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import User
from accounts.notifications import security_notify

# Why a lock started: the word recorded in the lock's event. The lock has no e-mail of its
# own: the e-mail of the change that started it says it too (``security_lock_record``).
REASONS = ("otp_disabled", "password_changed", "password_reset", "recovery_code_used")


def security_lock_start(
    *, user: User, reason: str, request: HttpRequest | None = None
) -> datetime.datetime | None:
    """Lock the user's marked rules for the configured hours from now (never shortening a
    later end) and tell them; the end, or None when the lock is switched off (0 hours).

    Called inside the change's transaction, so the lock and its notice commit with it.
    """
    if reason not in REASONS:
        raise ValueError(f"unknown security lock reason {reason!r}")
    hours = settings.BARONG_SECURITY_LOCK_HOURS
    if hours <= 0:
        return None
    until = (timezone.now() + datetime.timedelta(hours=hours)).replace(microsecond=0)
    current = User.objects.filter(pk=user.pk).values_list("security_lock_until", flat=True).first()
    if current is not None and current > until:
        until = current
    user.security_lock_until = until
    user.save(update_fields=["security_lock_until"])  # post_save drops the authz snapshot
    security_notify(
        user=user,
        notice="security_lock_started",
        request=request,
        record={"reason": reason, "lock_until": until.isoformat()},
    )
    return until


def security_lock_record(user: User) -> dict[str, str]:
    """``{"lock_until": ISO time}`` while the user's lock holds, else nothing: the hint the
    event of the change that started it (password changed or reset, 2FA off, a recovery
    code used) carries to its e-mail (not in the event, whose record is Barong's), so that
    one e-mail tells the change and the lock."""
    if security_lock_end(user) is None:
        return {}
    return {"lock_until": user.security_lock_until.isoformat()}


def security_lock_end(user: User | dict, now: float | None = None) -> int | None:
    """The lock's end as a unix time while it holds, else None (``user``: a row or an authz
    snapshot with ``security_lock_until`` as a unix time)."""
    if isinstance(user, dict):
        until = user.get("security_lock_until")
    else:
        end = user.security_lock_until
        until = int(end.timestamp()) if end is not None else None
    if until is None:
        return None
    now = timezone.now().timestamp() if now is None else now
    return until if until > now else None
