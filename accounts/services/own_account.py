"""The user's own account: password check and change, ``data``, self-deletion."""

from django.db import transaction

from accounts.events import user_event_system
from accounts.models import User
from accounts.passwords import password_error
from accounts.services.users import label_set, user_data_set, user_password_replace
from accounts.sessions import user_sessions_revoke
from activities.services import activity_record
from barong.api.errors import ApiError
from barong.ratelimit import rate_limit_hit

PASSWORD_REASONS = {
    "password.blank": "Password can't be blank",
    "password.requirements": "Password does not meet the minimum requirements",
    "password.too_long": "Password is too long",
    "password.weak": "Password is too weak",
}


def user_password_verify(*, user: User, password: str, error_key: str) -> bool:
    """One check of the current password, counted against the account's budget (429)."""
    rate_limit_hit("password_account", user.uid, error_key=error_key)
    return user.check_password(password)


def user_self_delete(*, user: User, password: str, otp_code: str | None = None) -> User:
    """Self-deletion: password, then the 2FA code when on; label ``delete`` → state deleted."""
    from accounts.services.otp import otp_attempt

    if not user_password_verify(
        user=user, password=password, error_key="resource.user.too_many_requests"
    ):
        raise ApiError("resource.user.invalid_password")
    if user.otp:
        if otp_code is None:
            raise ApiError("resource.user.missing_otp_code")
        if not otp_code.strip():
            raise ApiError("resource.user.empty_otp_code")
        if not otp_attempt(user=user, code=otp_code, error_key="resource.user.too_many_requests"):
            raise ApiError("resource.user.invalid_otp")
    # The private label drives the state machine: deleted, API keys inactive.
    with transaction.atomic():
        label_set(user=user, key="delete", value="by_user", scope="private")
        user.refresh_from_db()
        user_event_system(user=user, name="system.user.account.deleted", identity=False)
    user_sessions_revoke(user.uid)
    return user


def user_password_change(
    *,
    user: User,
    old_password: str,
    new_password: str,
    confirm_password: str,
    request=None,
    keep_session: str | None = None,
    lang: str | None = None,
) -> User:
    """Change the password in Barong's order of checks; the user's other sessions end."""

    def failed(reason: str, key: str, status_code: int) -> ApiError:
        activity_record(
            user=user,
            topic="password",
            action="password change",
            result="failed",
            request=request,
            data={"reason": reason},
        )
        return ApiError(key, status_code)

    if new_password != confirm_password:
        raise failed("New passwords don't match", "resource.password.doesnt_match", 422)
    if not user_password_verify(
        user=user, password=old_password, error_key="resource.password.too_many_requests"
    ):
        raise failed(
            "Previous password is not correct", "resource.password.prev_pass_not_correct", 400
        )
    if old_password == new_password:
        raise failed(
            "New password cant be the same, as old one",
            "resource.password.no_change_provided",
            400,
        )
    if key := password_error(new_password):
        raise failed(PASSWORD_REASONS.get(key, key), key, 422)
    with transaction.atomic():
        user_password_replace(
            user=user, password=new_password, event="system.user.password.change", lang=lang
        )
    activity_record(user=user, topic="password", action="password change", request=request)
    user_sessions_revoke(user.uid, keep=keep_session)
    return user


def user_own_data_set(*, user: User, data: str, request=None) -> User:
    """``PUT /resource/users/me``: the user replaces their ``data`` document (the front ends
    keep the chosen language there), under the rules of ``user_data_set``; a change is in
    their activity log and in ``model.user.updated``. Counted per account (429)."""
    rate_limit_hit("data_account", user.uid, error_key="resource.user.too_many_requests")
    before = user.data
    with transaction.atomic():
        user = user_data_set(user=user, data=data)
        if user.data != before:
            activity_record(user=user, topic="account", action="data update", request=request)
    return user
