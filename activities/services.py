"""``activity_record``: the one way every flow writes the activity log."""

import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.http import HttpRequest

from activities.models import Activity
from barong.api.net import remote_ip, user_agent
from barong.db.rows import row_insert
from barong.request_id import current_request_id
from barong.transactions import isolated

logger = logging.getLogger(__name__)

BROWSER_RE = re.compile(
    r"(Mozilla/\d|Chrome/|Chromium/|Safari/|Firefox/|Edg/|OPR/|Opera|Trident/|"
    r"MSIE |YaBrowser/|SamsungBrowser/|Vivaldi/|Brave/)"
)
SUSPICIOUS_NOTE = "Detected suspicious browser"

METHOD_ACTIONS = {
    "POST": "create",
    "PUT": "update",
    "PATCH": "update",
    "GET": "read",
    "DELETE": "delete",
}


def _data_text(data: dict[str, Any] | None, agent: str) -> str | None:
    """JSON text of ``data``, with Barong's note when the agent is not a known browser."""
    payload = dict(data or {})
    if not BROWSER_RE.search(agent):
        payload["note"] = SUSPICIOUS_NOTE
    return json.dumps(payload, default=str, ensure_ascii=False) if payload else None


def activity_record(
    *,
    user,
    topic: str,
    action: str,
    result: str = Activity.Result.SUCCEED,
    request: HttpRequest | None = None,
    data: dict[str, Any] | None = None,
    category: str = Activity.Category.USER,
    target=None,
    user_ip: str | None = None,
    user_agent_text: str | None = None,
) -> Activity | None:
    """Append one row; it never fails the request that triggered it (a bad row is not stored)."""
    if user is None or getattr(user, "pk", None) is None:
        return None
    ip = user_ip or (remote_ip(request) if request is not None else "127.0.0.1")
    agent = (
        user_agent_text
        if user_agent_text is not None
        else (user_agent(request) if request is not None else "system")
    )
    target_uid = getattr(target, "uid", target) if category == Activity.Category.ADMIN else None
    try:
        row = Activity(
            user=user,
            target_uid=target_uid,
            category=category,
            user_ip=ip[:64],
            user_agent=(agent or "")[:255],
            topic=topic[:255],
            action=action[:255],
            result=result,
            data=_data_text(data, agent or ""),
            request_id=current_request_id(),
        )
        with isolated():  # a failed insert leaves the caller's work intact
            row_insert(row)
        return row
    except Exception:  # an audit row must not turn a committed action into a 500
        logger.exception("activity not recorded: %s/%s/%s", topic, action, result)
        return None


def activity_failure_record(*, user, topic: str, action: str, reason: str, request) -> None:
    """A refused action of a known user: a ``failed`` row with the reason in ``data`` (the one
    shape of every door's refusals: logins, 2FA, recovery codes)."""
    activity_record(
        user=user,
        topic=topic,
        action=action,
        result=Activity.Result.FAILED,
        request=request,
        data={"reason": reason},
    )


def admin_activity_record(
    *,
    admin,
    topic: str,
    action: str,
    target=None,
    request: HttpRequest | None = None,
    data: dict[str, Any] | None = None,
    result: str = Activity.Result.SUCCEED,
) -> Activity | None:
    """An operator's action on a user, for the admin audit log."""
    return activity_record(
        user=admin,
        topic=topic,
        action=action,
        result=result,
        request=request,
        data=data,
        category=Activity.Category.ADMIN,
        target=target,
    )


# ---------------------------------------------------------------- refused attempts
#
# A service refuses an operator (a rank guard) from inside its transaction, which the
# refusal then rolls back, together with anything written in it. The row of the refused
# attempt is therefore kept aside and written once the request's transactions are over
# (``activities.middleware.DeferredActivitiesMiddleware`` opens the scope per request).

_deferred: ContextVar[list[dict[str, Any]] | None] = ContextVar("deferred_rows", default=None)


@contextmanager
def activities_deferred() -> Iterator[list[dict[str, Any]]]:
    """Collect the refusals recorded inside; the caller writes them after its transactions
    (``activities_deferred_write``)."""
    pending: list[dict[str, Any]] = []
    token = _deferred.set(pending)
    try:
        yield pending
    finally:
        _deferred.reset(token)


def activities_deferred_write(
    pending: list[dict[str, Any]], *, request: HttpRequest | None = None
) -> None:
    """Write the collected refusals, with the address and agent of ``request``."""
    for row in pending:
        admin_activity_record(**row, request=request)
    pending.clear()


def admin_refusal_record(
    *, admin, topic: str, action: str, target=None, data: dict[str, Any] | None = None
) -> None:
    """An operator's attempt that a guard refused: an admin row with result ``denied``,
    as the permission table's refusals are (``permissions.api``).

    Within a request it is written after the request's transactions end, so the
    rollback of the refused change does not take it along; outside one (a shell, a
    task) it is written at once, in whatever transaction the caller holds.
    """
    row = {
        "admin": admin,
        "topic": topic,
        "action": action,
        "target": target,
        "data": data,
        "result": Activity.Result.DENIED,
    }
    pending = _deferred.get()
    if pending is None:
        admin_activity_record(**row)
    else:
        pending.append(row)
