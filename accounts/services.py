"""Every change to a user goes through here: views, admin, commands and tasks alike."""

import json
import re
import secrets

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction

from accounts import tokens
from accounts.events import (
    confirmation_token_event,
    session_event_created,
    user_event_created,
    user_event_json,
    user_event_system,
    user_event_updated,
)
from accounts.hashers import barong_digest_encoded, barong_digest_valid
from accounts.models import User
from accounts.passwords import password_error
from accounts.sessions import ACTIVE_STATES, user_sessions_revoke
from activities.services import activity_record, admin_activity_record
from barong.api.errors import ApiError
from barong.hooks import hook
from barong.ratelimit import rate_limit_hit

# A Barong uid: letters and digits only (``ID30DD0DD986``), as imported from another server.
UID_RE = re.compile(r"\A[A-Z0-9]{4,32}\Z")
# Barong's strict rule: 1 to 64 of letters, digits, - + . _ ; labels ; a TLD of ≥ 2 letters.
EMAIL_RE = re.compile(r"\A[\w\-+.]{1,64}@(?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_]{2,}\Z", re.UNICODE)


def _user_changed(user: User) -> None:
    """Authz caches a snapshot of the user; every change drops it (now and on commit)."""
    hook("user_cache_invalidate")(user.uid)


def email_normalize(email: str) -> str:
    """Stored and compared lower-case; surrounding whitespace is not part of the address."""
    return email.strip().lower()


def _email_errors(email: str) -> list[str]:
    if not email:
        return ["email.blank"]
    if len(email) > 255:
        return ["email.too_long"]
    if not EMAIL_RE.match(email):
        return ["email.invalid"]
    if User.objects.filter(email=email).exists():
        return ["email.taken"]
    return []


def _password_key(password: str) -> str | None:
    """The first broken password rule, ``password.blank`` included."""
    return "password.blank" if not password else password_error(password)


def _data_errors(data: str | None) -> list[str]:
    if data in (None, ""):
        return []
    if len(data) > 1024:
        return ["data.too_long"]
    try:
        json.loads(data)
    except ValueError:
        return ["data.invalid_format"]
    return []


def user_create(
    *,
    email: str,
    password: str,
    data: str | None = None,
    referral: User | None = None,
    role: str = "member",
    state: str = User.State.PENDING,
    password_digest: str | None = None,
    uid: str | None = None,
) -> User:
    """Register a user; every broken rule is reported at once, in Barong's order.

    ``password_digest`` (instead of ``password``) keeps a bcrypt hash moved over from Barong,
    re-hashed with argon2id at the user's first login; ``uid`` keeps their Barong uid.
    """
    email = email_normalize(email)
    errors = _email_errors(email)
    if password_digest is not None:
        if not barong_digest_valid(password_digest):
            errors.append("password_digest.invalid")
    elif key := _password_key(password):
        errors.append(key)
    errors += _data_errors(data)
    if not hook("role_exists")(role):
        errors.append("role.doesnt_exist")
    if uid is not None and not UID_RE.match(uid):
        errors.append("uid.invalid")
    elif uid is not None and User.objects.filter(uid=uid).exists():
        errors.append("uid.taken")
    if errors:
        raise ApiError(errors)
    user = User(email=email, data=data or None, referral=referral, role=role, state=state)
    if uid is not None:
        user.uid = uid
    if password_digest is not None:
        user.password = barong_digest_encoded(password_digest)
    else:
        user.set_password(password)
    for _ in range(5):  # a uid collision is astronomically rare; a new uid fixes it
        try:
            with transaction.atomic():
                user.save()
                user_event_created(user=user)
            return user
        except IntegrityError as exc:
            if User.objects.filter(email=email).exists():
                raise ApiError("email.taken") from exc  # a concurrent sign-up won
            if uid is not None:
                raise ApiError("uid.taken") from exc
            user.uid = f"{user.uid[:-10]}{secrets.token_hex(5).upper()}"
    raise ApiError("uid.taken")


@transaction.atomic
def superuser_create(*, email: str, password: str | None) -> User:
    """``createsuperuser``: an active superadmin with a verified e-mail."""
    if not password:
        raise ApiError("password.blank")
    user = user_create(email=email, password=password, role="superadmin", state="active")
    hook("label_set")(user=user, key="email", value="verified", scope="private")
    return user


def user_password_set(*, user: User, password: str) -> User:
    """Set a new password that meets the rules."""
    if key := _password_key(password):
        raise ApiError(key)
    before = user_event_json(user)
    user.set_password(password)
    user.save(update_fields=["password", "updated_at"])
    _user_changed(user)
    user_event_updated(user=user, before=before, changed=True)
    return user


@transaction.atomic
def user_data_set(*, user: User, data: str) -> User:
    """Replace the user's free ``data`` document: JSON text of at most 1024 characters."""
    if errors := _data_errors(data):
        raise ApiError(errors)
    if user.data == (data or None):
        return user  # nothing changes, nothing to report (as Rails skips an unchanged save)
    before = user_event_json(user)
    user.data = data or None
    user.save(update_fields=["data", "updated_at"])
    _user_changed(user)
    user_event_updated(user=user, before=before, changed=True)  # data is not in the snapshot
    return user


@transaction.atomic
def user_state_set(*, user: User, state: str) -> User:
    """Move a user to ``state``; any state but active switches off their API keys."""
    if user.state == state:
        return user
    before = user_event_json(user)
    user.state = state
    user.save(update_fields=["state", "updated_at"])
    _user_changed(user)
    user_event_updated(user=user, before=before)
    if state != User.State.ACTIVE:
        hook("api_keys_deactivate")(user=user)
    return user


@transaction.atomic
def user_otp_set(*, user: User, enabled: bool) -> User:
    """Switch 2FA and its private ``otp`` label (2.4.17); off also switches off API keys."""
    before = user_event_json(user)
    user.otp = enabled
    user.save(update_fields=["otp", "updated_at"])
    _user_changed(user)
    user_event_updated(user=user, before=before)
    if enabled:
        hook("label_set")(user=user, key="otp", value="enabled", scope="private")
    else:
        hook("api_keys_deactivate")(user=user)
        for label in user.labels.filter(key="otp", scope="private"):
            hook("label_delete")(label=label)
    return user


@transaction.atomic
def user_role_set(*, user: User, role: str) -> User:
    """Give a user another role that exists in the permission table."""
    if not hook("role_exists")(role):
        raise ApiError("role.doesnt_exist")
    before = user_event_json(user)
    user.role = role
    user.save(update_fields=["role", "updated_at"])
    _user_changed(user)
    user_event_updated(user=user, before=before)
    return user


def user_level_save(*, user: User, level: int, state: str) -> User:
    """Store a recomputed level/state (called by the label service inside its transaction)."""
    changed_state = user.state != state
    if user.level == level and not changed_state:
        return user
    if changed_state:
        user_state_set(user=user, state=state)
    before = user_event_json(user)
    user.level = level
    user.save(update_fields=["level", "updated_at"])
    _user_changed(user)
    user_event_updated(user=user, before=before)
    return user


# ------------------------------------------------------------ operators (admin API, back office)
SUPERADMIN = "superadmin"


def user_admin_guard(
    *, admin: User, user: User, key: str = "admin.user.superadmin_change", himself: bool = True
) -> None:
    """Only a superadmin changes a superadmin; an operator never changes their own account."""
    if user.role == SUPERADMIN and admin.role != SUPERADMIN:
        raise ApiError(key)
    if himself and user.pk == admin.pk:
        raise ApiError("admin.user.update_himself")


def _locked(user: User) -> User:
    """The user's row, locked for the rest of the transaction (two operators, one answer)."""
    return User.objects.select_for_update().get(pk=user.pk)


@transaction.atomic
def user_state_admin_set(*, admin: User, user: User, state: str, request=None) -> User:
    """An operator moves a user to one of the known states; the change is audited."""
    user = _locked(user)
    user_admin_guard(admin=admin, user=user)
    if user.state == state:
        raise ApiError("admin.user.state_no_change")
    if state not in User.State.values:
        raise ApiError("state.inclusion")
    previous = user.state
    user = user_state_set(user=user, state=state)
    admin_activity_record(
        admin=admin,
        topic="users",
        action="update",
        target=user,
        request=request,
        data={"uid": user.uid, "state": state, "previous_state": previous},
    )
    return user


@transaction.atomic
def user_otp_admin_set(*, admin: User, user: User, otp: bool, request=None) -> User:
    """Operators may only switch 2FA off (the user alone holds the seed); audited."""
    user = _locked(user)
    user_admin_guard(admin=admin, user=user)
    if otp:
        raise ApiError("admin.user.enable_2fa")
    if not user.otp:
        raise ApiError("admin.user.otp_no_change")
    user = user_otp_set(user=user, enabled=False)
    admin_activity_record(
        admin=admin,
        topic="users",
        action="update",
        target=user,
        request=request,
        data={"uid": user.uid, "otp": False, "previous_otp": True},
    )
    return user


def user_otp_admin_disable(*, admin: User, user: User, request=None) -> User:
    """Switch a user's 2FA off on their behalf (lost authenticator); audited."""
    return user_otp_admin_set(admin=admin, user=user, otp=False, request=request)


@transaction.atomic
def user_role_admin_set(*, admin: User, user: User, role: str, request=None) -> User:
    """Give a user another known role; only a superadmin grants or removes ``superadmin``."""
    user = _locked(user)
    user_admin_guard(admin=admin, user=user)
    if user.role == role:
        raise ApiError("admin.user.role_no_change")
    if role == SUPERADMIN and admin.role != SUPERADMIN:
        raise ApiError("admin.user.superadmin_change")
    previous = user.role
    user = user_role_set(user=user, role=role)
    admin_activity_record(
        admin=admin,
        topic="users",
        action="update",
        target=user,
        request=request,
        data={"uid": user.uid, "role": role, "previous_role": previous},
    )
    return user


# ---------------------------------------------------------------- Identity flows

LOGIN_FAILED = "Invalid Email or Password"
STATE_ERRORS = {
    User.State.BANNED: ("identity.session.banned", "Your account is banned"),
    User.State.DELETED: ("identity.session.deleted", "Your account is deleted"),
}


def _login_failed(user: User, action: str, reason: str, request) -> None:
    activity_record(
        user=user,
        topic="session",
        action=action,
        result="failed",
        request=request,
        data={"reason": reason},
    )


def user_login(*, email: str, password: str, otp_code: str | None, request) -> User:
    """Password first: until it is verified, an unknown, wrong or blocked login looks the same."""
    from accounts.otp import otp_attempt

    user = User.objects.filter(email=email_normalize(email)).first()
    if user is None:
        make_password(password)  # the same hashing cost whether or not the account exists
        raise ApiError("identity.session.invalid_params", 401)
    if not user.check_password(password):  # also re-hashes an outdated hash on success
        _login_failed(user, "login", LOGIN_FAILED, request)
        raise ApiError("identity.session.invalid_params", 401)
    if user.state not in ACTIVE_STATES:
        key, reason = STATE_ERRORS.get(
            user.state, ("identity.session.not_active", "Your account is not active")
        )
        _login_failed(user, "login", reason, request)
        raise ApiError(key, 401)
    if not user.otp:
        activity_record(user=user, topic="session", action="login", request=request)
        session_event_created(user=user, request=request)
        return user
    if not (otp_code or "").strip():
        _login_failed(
            user, "login::2fa", "The account has enabled 2FA but OTP code is missing", request
        )
        raise ApiError("identity.session.missing_otp", 403)
    if not otp_attempt(user=user, code=otp_code, error_key="identity.session.too_many_requests"):
        _login_failed(user, "login::2fa", "OTP code is invalid", request)
        raise ApiError("identity.session.invalid_otp", 403)
    activity_record(user=user, topic="session", action="login::2fa", request=request)
    session_event_created(user=user, request=request)
    return user


def user_logout(*, uid: str | None, request) -> User:
    """Only a session that names an existing user can be ended (log out)."""
    user = User.objects.filter(uid=uid).first() if uid else None
    if user is None:
        raise ApiError("identity.session.not_found", 404)
    activity_record(user=user, topic="session", action="logout", request=request)
    return user


def referral_find(*, refid: str) -> User:
    """A referrer is named by uid: it carries the uid prefix and the user exists."""
    if not refid.startswith(settings.BARONG_UID_PREFIX.upper()):
        raise ApiError("identity.user.invalid_referral_format")
    referral = User.objects.filter(uid=refid).first()
    if referral is None:
        raise ApiError("identity.user.referral_doesnt_exist")
    return referral


@transaction.atomic
def user_register(
    *,
    email: str,
    password: str,
    data: str | None = None,
    referral: User | None = None,
    lang: str | None = None,
    request=None,
) -> User:
    """Sign-up: a pending member, an ``account/signup`` row and a confirmation e-mail."""
    user = user_create(email=email, password=password, data=data, referral=referral)
    activity_record(user=user, topic="account", action="signup", request=request)
    confirmation_token_event(user=user, lang=lang)
    return user


@transaction.atomic
def user_email_confirmation_request(*, email: str, lang: str | None = None) -> None:
    """Resend: only a registered user who is not active yet gets a new token (no enumeration)."""
    user = User.objects.filter(email=email_normalize(email)).first()
    if user is None or user.state == User.State.ACTIVE:
        return
    confirmation_token_event(user=user, lang=lang)


def _token_user(claims: dict) -> User | None:
    return User.objects.filter(uid=claims["uid"], email=email_normalize(claims["email"])).first()


@transaction.atomic
def user_email_confirm(*, token: str, lang: str | None = None) -> User:
    """The newest unused confirmation token verifies the e-mail (private label ``email``)."""
    claims = tokens.token_decode(token=token, purpose=tokens.CONFIRMATION)
    user = _token_user(claims)
    if user is None or user.state == User.State.ACTIVE:
        raise ApiError("identity.user.active_or_doesnt_exist")
    if not tokens.token_usable(claims=claims, purpose=tokens.CONFIRMATION):
        raise ApiError("identity.user.utilized_token")
    hook("label_set")(user=user, key="email", value="verified", scope="private")
    # Used up last: a concurrent use of the same token loses here and its label rolls back.
    tokens.token_consume(claims=claims, purpose=tokens.CONFIRMATION)
    user.refresh_from_db()
    user_event_system(user=user, name="system.user.email.confirmed", lang=lang)
    return user


@transaction.atomic
def user_password_reset_request(*, email: str, lang: str | None = None, request=None) -> None:
    """Any registered user may ask for a reset token; unknown e-mails are ignored silently."""
    user = User.objects.filter(email=email_normalize(email)).first()
    if user is None:
        return
    activity_record(user=user, topic="password", action="request password reset", request=request)
    token = tokens.token_issue(user=user, purpose=tokens.RESET)
    user_event_system(user=user, name="system.user.password.reset.token", lang=lang, token=token)


def user_password_reset(
    *, token: str, password: str, lang: str | None = None, request=None
) -> User:
    """The newest unused reset token sets a new password and ends every session of the user."""
    claims = tokens.token_decode(token=token, purpose=tokens.RESET)
    if not tokens.token_usable(claims=claims, purpose=tokens.RESET):
        raise ApiError("identity.user.utilized_token")
    user = _token_user(claims)
    if user is None:
        raise ApiError("record.not_found", 404)
    if key := _password_key(password):
        activity_record(
            user=user,
            topic="password",
            action="password reset",
            result="failed",
            request=request,
            data={"reason": key},
        )
        raise ApiError(key)
    with transaction.atomic():
        tokens.token_consume(claims=claims, purpose=tokens.RESET)
        user_password_set(user=user, password=password)
        user_event_system(user=user, name="system.user.password.reset", lang=lang)
    activity_record(user=user, topic="password", action="password reset", request=request)
    user_sessions_revoke(user.uid)
    return user


# ---------------------------------------------------------------- Own account

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
    from accounts.otp import otp_attempt

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
    # The private label drives the state machine (``delete`` label): deleted, API keys inactive.
    with transaction.atomic():
        hook("label_set")(user=user, key="delete", value="by_user", scope="private")
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
        user_password_set(user=user, password=new_password)
        user_event_system(user=user, name="system.user.password.change", lang=lang)
    activity_record(user=user, topic="password", action="password change", request=request)
    user_sessions_revoke(user.uid, keep=keep_session)
    return user
