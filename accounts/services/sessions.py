"""Session management of the own account and, for operators, of any account.

Sessions live in the cache (``accounts.sessions``); ending one deletes its stored data, so
the next call with its cookie (resource API or ``/api/v2/auth``) is refused at once.
"""

from accounts.models import User
from accounts.sessions import (
    user_session_end,
    user_session_key_find,
    user_sessions_list,
    user_sessions_revoke,
)
from activities.services import activity_record, admin_activity_record
from barong.api.errors import ApiError
from barong.ratelimit import rate_limit_hit


def session_list(*, user: User, current: str | None = None) -> list[dict]:
    """The user's live sessions, ``current`` marking the caller's own."""
    rate_limit_hit("sessions_account", user.uid, error_key="resource.session.too_many_requests")
    return user_sessions_list(user.uid, current=current)


def session_end(*, user: User, session_id: str, request=None) -> None:
    """End one of the user's own sessions, named by its public id (another user's: 404)."""
    rate_limit_hit("sessions_account", user.uid, error_key="resource.session.too_many_requests")
    key = user_session_key_find(user.uid, session_id=session_id)
    if key is None:
        raise ApiError("resource.session.not_found", 404)
    user_session_end(user.uid, session_key=key)
    activity_record(
        user=user, topic="session", action="end session", request=request, data={"id": session_id}
    )


def sessions_end_others(*, user: User, keep: str | None, request=None) -> int:
    """End every session of the user but ``keep`` (the caller's own); answers how many."""
    rate_limit_hit("sessions_account", user.uid, error_key="resource.session.too_many_requests")
    ended = user_sessions_revoke(user.uid, keep=keep)
    activity_record(
        user=user,
        topic="session",
        action="end other sessions",
        request=request,
        data={"ended": ended},
    )
    return ended


def _admin_guard(*, admin: User, user: User) -> None:
    """Sessions of users ranked below the operator only, and the operator's own."""
    from accounts.services.operators import user_admin_guard

    user_admin_guard(admin=admin, user=user, own_account=True, topic="sessions", action="delete")


def _admin_audit(*, admin: User, user: User, request, data: dict) -> None:
    """The audit row of an operator ending sessions: ``sessions/delete`` naming the user."""
    admin_activity_record(
        admin=admin,
        topic="sessions",
        action="delete",
        target=user,
        request=request,
        data={"uid": user.uid, **data},
    )


def session_admin_end(*, admin: User, user: User, session_id: str, request=None) -> None:
    """An operator ends one session of a user; audited."""
    _admin_guard(admin=admin, user=user)
    key = user_session_key_find(user.uid, session_id=session_id)
    if key is None:
        raise ApiError("admin.session.doesnt_exist", 404)
    user_session_end(user.uid, session_key=key)
    _admin_audit(admin=admin, user=user, request=request, data={"session_id": session_id})


def sessions_admin_end_all(*, admin: User, user: User, request=None) -> int:
    """An operator ends every session of a user (a stolen device, a takeover); audited."""
    _admin_guard(admin=admin, user=user)
    ended = user_sessions_revoke(user.uid)
    _admin_audit(admin=admin, user=user, request=request, data={"ended": ended})
    return ended
