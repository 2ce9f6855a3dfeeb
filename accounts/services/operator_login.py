"""The back-office login (``/admin/login/``): the API's login, for active operators only.

It is the API login's path, not a copy of it: the one login policy
(``accounts.services.login_policy``), the password step (``user_password_login``: unknown e-mails
and wrong passwords cost and record the same, through the worker), then the second
factor the account has (``user_login_complete``: none, a TOTP code, a recovery code)
or, for an account with a passkey, a passkey flow (``webauthn_login_options`` /
``webauthn_login``) that only a verified assertion completes. The activity rows and
events are therefore the API's, refusals and successes alike. A back-office login also
leaves an admin audit row.

Nothing here signs anyone in on the password alone when the account has a second
factor: the outcome of the password step is either a completed login or a passkey flow.
"""

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from accounts.models import User
from accounts.services.login import (
    login_failure_record,
    login_methods,
    user_has_passkey,
    user_login_complete,
    user_password_login,
)
from accounts.services.login_policy import (
    LoginAttempt,
    login_attempt,
    login_failed,
    login_succeeded,
)
from accounts.services.passkeys import webauthn_login, webauthn_login_options
from accounts.sessions import AMR_OTP, AMR_PASSKEY, AMR_PWD, AMR_RECOVERY, amr_of
from activities.services import admin_activity_record
from barong.api.errors import ApiError

DOOR = "backoffice"
NOT_OPERATOR = "The account may not log in to the back-office"
# The audit row's name of the second factor, by the session's ``amr``.
FACTORS = ((AMR_PASSKEY, "passkey"), (AMR_OTP, "totp"), (AMR_RECOVERY, "recovery_code"))


@dataclass(frozen=True)
class PasskeyStep:
    """The password was right and the account's passkey is asked for: the flow to hold."""

    flow_id: str
    public_key: dict[str, Any]
    totp: bool  # the account has TOTP too, so a code may be given instead


def _operator_only(user: User, action: str, request: HttpRequest) -> None:
    """Refuse a right password (or passkey) of an account that is not an active operator,
    with the answer of a wrong password and a row in the account's own log."""
    if not user.is_staff:
        login_failure_record(user, action, NOT_OPERATOR, request)
        raise ApiError("identity.session.invalid_params", 401)


def _signed_in(user: User, attempt: LoginAttempt, amr: list[str], request: HttpRequest) -> User:
    """The login is complete: the account's failures forgotten, the operator audited.

    The user returned carries ``amr``, the methods of this login, which the back-office
    records on its session once Django has logged the operator in (barong/admin_site.py).
    """
    login_succeeded(attempt)
    user.amr = amr_of(amr)
    factor = next((name for method, name in FACTORS if method in amr), "none")
    admin_activity_record(
        admin=user,
        topic="session",
        action="login",
        request=request,
        data={"via": DOOR, "factor": factor},
    )
    return user


def operator_login(
    *,
    request: HttpRequest,
    email: str,
    password: str,
    otp_code: str | None = None,
    recovery_code: str | None = None,
) -> User | PasskeyStep:
    """The login form's step: the operator, signed in, or the passkey step to take.

    An account with a passkey gets the passkey step unless it has TOTP too and a code
    (or recovery code) was typed; every other account completes here as at the API.
    Raises ``ApiError`` as the API login does (``identity.session.…``); the form shows
    every refusal but too many attempts as one message.
    """
    attempt = login_attempt(request=request, email=email, captcha=False)
    try:
        user = user_password_login(email=email, password=password, request=request)
    except ApiError as exc:
        if exc.keys == ["identity.session.invalid_params"]:
            login_failed(attempt)
        raise
    _operator_only(user, "login", request)
    code_given = bool((otp_code or "").strip() or (recovery_code or "").strip())
    if user_has_passkey(user) and not (user.otp and code_given):
        options = webauthn_login_options(user=user, account=attempt.account, door=DOOR)
        return PasskeyStep(
            flow_id=options["flow_id"], public_key=options["publicKey"], totp=bool(user.otp)
        )
    user = user_login_complete(
        user=user, otp_code=otp_code, recovery_code=recovery_code, request=request
    )
    amr = login_methods(user=user, otp_code=otp_code, recovery_code=recovery_code)
    return _signed_in(user, attempt, amr, request)


def operator_passkey_login(*, request: HttpRequest, flow_id: Any, credential: Any) -> User:
    """The passkey step: an assertion over the challenge of a back-office flow signs the
    operator in (``webauthn_login``: the flow used up, the policy's counters)."""
    user, attempt = webauthn_login(
        request=request, flow_id=flow_id, credential=credential, door=DOOR
    )
    # Demoted or deactivated since the password step: refused as any failure.
    _operator_only(user, "login::webauthn", request)
    return _signed_in(user, attempt, [AMR_PWD, AMR_PASSKEY], request)
