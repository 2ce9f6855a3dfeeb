"""Security notices: 2FA on/off, recovery code used, API key created, passkey added, a
security lock started (accounts/services/security_lock.py).

Every notice is an event (``system.*``, see ``NOTICES``) recorded in the outbox through
``security_notify``; the events mailer (``events/mailer.py``, ``MAILS``) turns each into
an e-mail from ``templates/emails/<notice>.<lang>.txt`` and ``.html``. The "New Login"
e-mail rides on ``system.session.create``, whose record says whether the login came from
an address and browser not seen lately (``login_from_new_device``); the password e-mail
on Barong's own ``system.user.password.change`` and ``system.user.password.reset``.
"""

import datetime
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from accounts.events import user_event_system
from accounts.models import User
from activities.models import Activity
from barong.api.net import remote_ip, user_agent

NEW_DEVICE_DAYS = 30

# notice (also its e-mail's template name) → event name; the security lock's notice has no
# e-mail: the change that started the lock says it in its own.
NOTICES: dict[str, str] = {
    "security_otp_enabled": "system.user.otp.enabled",
    "security_otp_disabled": "system.user.otp.disabled",
    "security_recovery_code_used": "system.user.recovery_code.used",
    "security_api_key_created": "system.user.api_key.created",
    "security_passkey_added": "system.user.passkey.added",
    "security_lock_started": "system.user.security_lock.started",
}


def _origin(request: HttpRequest | None) -> dict[str, str | None]:
    if request is None:
        return {"user_ip": None, "user_agent": None}
    return {"user_ip": remote_ip(request), "user_agent": user_agent(request)}


def security_notify(
    *,
    user: User,
    notice: str,
    request: HttpRequest | None = None,
    record: dict[str, Any] | None = None,
    hints: dict[str, Any] | None = None,
) -> None:
    """Record the event of a sensitive change of the account; its e-mail follows the commit
    (``hints``: for that e-mail only, e.g. the security lock's end it also tells)."""
    extra = {"time": timezone.now().isoformat(), **_origin(request), **(record or {})}
    user_event_system(user=user, name=NOTICES[notice], identity=False, extra=extra, hints=hints)


# The columns of a successful action from this address and browser lately, with their
# comparison, in the order of ``device_seen_values`` (the login's user query repeats it).
DEVICE_SEEN_FILTER = (("result", "="), ("created_at", ">="), ("user_ip", "="), ("user_agent", "="))


def device_seen_values(*, request: HttpRequest | None) -> tuple[str, datetime.datetime, str, str]:
    """The values of ``DEVICE_SEEN_FILTER`` for this request (30 days back from now)."""
    since = timezone.now() - datetime.timedelta(days=NEW_DEVICE_DAYS)
    ip = remote_ip(request)[:64] if request is not None else ""
    agent = user_agent(request)[:255] if request is not None else ""
    return Activity.Result.SUCCEED.value, since, ip, agent


def device_seen_activities(*, user: Any, request: HttpRequest | None) -> QuerySet[Activity]:
    """Successful actions of ``user`` (a user or an ``OuterRef``) from this request's address
    and browser in the last 30 days."""
    lookups = {"=": "", ">=": "__gte"}
    values = device_seen_values(request=request)
    return Activity.objects.filter(
        user=user,
        **{
            f"{name}{lookups[op]}": value
            for (name, op), value in zip(DEVICE_SEEN_FILTER, values, strict=True)
        },
    )


def login_from_new_device(*, user: User, request: HttpRequest | None) -> bool:
    """No successful action of the user came from this address and browser in 30 days.

    Called before the login's own activity row is written; ``device_seen``, when the login
    read it with the user, saves the query.
    """
    if request is None:
        return False
    seen = getattr(user, "device_seen", None)
    if seen is None:
        seen = device_seen_activities(user=user, request=request).exists()
    return not seen
