"""Step-up: the user of a session proves a second factor again, now.

A permission rule may ask for a second factor from at most N seconds ago
(``Permission.step_up_max_age``); the authz endpoint then answers 401
``authz.step_up_required`` until the session's ``auth_time`` is that recent
(accounts.sessions.session_step_up_fresh). These calls refresh it for the caller's own
session: a TOTP code (``step_up_totp``), or a passkey assertion over a challenge issued
for this very session (``step_up_passkey_options`` then ``step_up_passkey_verify``).
Codes and assertions count against the account's second-factor budget (``otp_account``);
a TOTP code is good once (accounts.services.otp.otp_verify), an assertion's challenge too.

Re-authentication (ASVS 7.5.1): before an authentication factor changes (a passkey added
or removed, new recovery codes; switching 2FA on when ``BARONG_REAUTH_OTP_ENABLE``), the
session must have authenticated within ``BARONG_REAUTH_MAX_AGE`` seconds, else 401
``resource.session.reauthentication_required`` (``reauthentication_check``). The same
step-up satisfies it; a user with no second factor steps up with the password
(``step_up_password``: amr ``pwd``, the one password check and its budget).
"""

from typing import Any

from django.conf import settings
from django.core.cache import cache

from accounts.models import User
from accounts.services.login import user_has_passkey
from accounts.services.otp import otp_attempt
from accounts.services.own_account import user_password_verify
from accounts.services.passkeys import webauthn_assertion_verify, webauthn_random_options
from accounts.sessions import (
    AMR_OTP,
    AMR_PASSKEY,
    AMR_PWD,
    SECOND_FACTORS,
    session_public_id,
    session_recently_authenticated,
    session_step_up,
)
from activities.services import activity_record
from barong.api.errors import ApiError
from barong.ratelimit import rate_limit_hit

PREFIX = "resource.session"
TOO_MANY = f"{PREFIX}.too_many_requests"
REAUTHENTICATION_REQUIRED = f"{PREFIX}.reauthentication_required"


def _challenge_key(session_key: str) -> str:
    """Per session (by its public id: the cookie value is stored nowhere else)."""
    return f"webauthn:step_up:{session_public_id(session_key)}"


def _session_needed(session_key: str | None) -> str:
    if not session_key:  # an API key's token, or a session already ended
        raise ApiError(f"{PREFIX}.no_session", 422)
    return session_key


def _failed(user: User, action: str, reason: str, request, key: str) -> ApiError:
    activity_record(
        user=user,
        topic="session",
        action=action,
        result="failed",
        request=request,
        data={"reason": reason},
    )
    return ApiError(key, 422)


def _stepped_up(
    user: User, action: str, request, session_key: str, method: str, drop: frozenset = frozenset()
) -> dict:
    result = session_step_up(request, user.uid, session_key=session_key, method=method, drop=drop)
    activity_record(user=user, topic="session", action=action, request=request)
    return result


def step_up_totp(*, user: User, session_key: str | None, code: str, request) -> dict:
    """A TOTP code steps up the caller's session; answers its ``amr`` and ``auth_time``."""
    session_key = _session_needed(session_key)
    if not user.otp:
        raise ApiError(f"{PREFIX}.otp_not_enabled", 422)
    if not otp_attempt(user=user, code=code, error_key=TOO_MANY):
        raise _failed(user, "step_up::2fa", "OTP code is invalid", request, f"{PREFIX}.invalid_otp")
    return _stepped_up(user, "step_up::2fa", request, session_key, AMR_OTP)


def step_up_passkey_options(*, user: User, session_key: str | None) -> dict:
    """Options for ``navigator.credentials.get()``; their challenge is good for one verify
    from this session within ``BARONG_WEBAUTHN_CHALLENGE_TTL`` seconds."""
    session_key = _session_needed(session_key)
    rate_limit_hit("otp_account", user.uid, error_key=TOO_MANY)
    challenge, public_key = webauthn_random_options(
        user=user, error_key=f"{PREFIX}.webauthn_not_registered"
    )
    cache.set(_challenge_key(session_key), challenge, settings.BARONG_WEBAUTHN_CHALLENGE_TTL)
    return {"publicKey": public_key}


def step_up_passkey_verify(
    *, user: User, session_key: str | None, credential: Any, request
) -> dict:
    """An assertion over this session's pending challenge steps the session up; the
    challenge is used up whatever the outcome."""
    session_key = _session_needed(session_key)
    rate_limit_hit("otp_account", user.uid, error_key=TOO_MANY)
    key = _challenge_key(session_key)
    challenge = cache.get(key)
    if challenge is None or not cache.delete(key):  # of two verifies, one takes it
        raise ApiError(f"{PREFIX}.challenge_expired", 422)
    refused = webauthn_assertion_verify(user=user, credential=credential, challenge=challenge)
    if refused:
        raise _failed(user, "step_up::webauthn", refused, request, f"{PREFIX}.invalid_webauthn")
    return _stepped_up(user, "step_up::webauthn", request, session_key, AMR_PASSKEY)


def step_up_password(*, user: User, session_key: str | None, password: str, request) -> dict:
    """The password steps up the session of a user with no second factor (amr ``pwd``):
    what re-authentication asks of them. A user with TOTP or a passkey shows that instead,
    so the password alone never refreshes a session that held a second factor; the check
    is the account's one password check, on its budget (``password_account``)."""
    session_key = _session_needed(session_key)
    if user.otp or user_has_passkey(user):
        raise ApiError(f"{PREFIX}.second_factor_required", 422)
    if not user_password_verify(user=user, password=password, error_key=TOO_MANY):
        raise _failed(
            user, "step_up::password", "Password is invalid", request, f"{PREFIX}.invalid_password"
        )
    # Second factors left in the session's amr are ones the user no longer has.
    return _stepped_up(
        user, "step_up::password", request, session_key, AMR_PWD, drop=SECOND_FACTORS
    )


def reauthentication_check(*, request, session_key: str | None, otp_enable: bool = False) -> None:
    """Refuse (401 ``resource.session.reauthentication_required``) a change of an
    authentication factor from a session not authenticated within ``BARONG_REAUTH_MAX_AGE``
    seconds: a stolen session must not enrol its own factor (ASVS 7.5.1). ``otp_enable``:
    switching 2FA on, asked only with ``BARONG_REAUTH_OTP_ENABLE`` (Barong 2.4 clients)."""
    max_age = settings.BARONG_REAUTH_MAX_AGE
    if max_age <= 0 or (otp_enable and not settings.BARONG_REAUTH_OTP_ENABLE):
        return
    if not session_recently_authenticated(request, session_key, max_age=max_age):
        raise ApiError(REAUTHENTICATION_REQUIRED, 401)
