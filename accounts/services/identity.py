"""Identity flows: logout, sign-up, e-mail confirmation, password reset (login:
accounts.services.login)."""

from django.conf import settings
from django.db import transaction

from accounts import tokens
from accounts.events import confirmation_token_event, user_event_system
from accounts.models import User
from accounts.services.constant_work import (
    email_request_queue,
)
from accounts.services.users import (
    email_normalize,
    label_set,
    password_key,
    user_create,
    user_password_replace,
)
from accounts.sessions import user_sessions_revoke
from activities.services import activity_record
from barong.api.errors import ApiError


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


def user_email_confirmation_request(*, email: str, lang: str | None = None, request=None) -> None:
    """Resend: only a registered user who is not active yet gets a new token (no enumeration)."""
    email_request_queue(email=email, name="email_confirmation", lang=lang, request=request)


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
    label_set(user=user, key="email", value="verified", scope="private")
    # Used up last: a concurrent use of the same token loses here and its label rolls back.
    tokens.token_consume(claims=claims, purpose=tokens.CONFIRMATION)
    user.refresh_from_db()
    user_event_system(user=user, name="system.user.email.confirmed", lang=lang)
    return user


def user_password_reset_request(*, email: str, lang: str | None = None, request=None) -> None:
    """Any registered user may ask for a reset token; unknown e-mails are ignored silently."""
    email_request_queue(email=email, name="password_reset", lang=lang, request=request)


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
    if key := password_key(password):
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
        user_password_replace(
            user=user,
            password=password,
            event="system.user.password.reset",
            lang=lang,
            reason="password_reset",
        )
    activity_record(user=user, topic="password", action="password reset", request=request)
    user_sessions_revoke(user.uid)
    return user
