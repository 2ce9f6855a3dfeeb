"""2FA recovery codes: ten single-use codes, shown once, kept only as HMACs.

A code carries 50 random bits, so a keyed HMAC-SHA256 (Django's ``salted_hmac`` over
``SECRET_KEY``) is as good as a slow password hash here and lets a login compare all
of a user's codes at once, each in constant time. Generating a new set voids the old
one; switching 2FA off voids them all (``accounts.services.user_otp_set``).
"""

import secrets

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import salted_hmac

from accounts.models import RecoveryCode, User
from accounts.services.security_lock import security_lock_start
from activities.services import activity_failure_record, activity_record
from barong.api.errors import ApiError
from barong.crypto import constant_time_equals
from barong.ratelimit import rate_limit_hit

COUNT = 10
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read off paper without doubt
HALF = 5
MAX_INPUT = 64


def _digest(code: str) -> str:
    return salted_hmac("accounts.recovery_code", code, algorithm="sha256").hexdigest()


def _normalized(code: object) -> str:
    """What the user typed, without case, spaces or dashes; "" when it cannot be a code."""
    text = str(code or "")[:MAX_INPUT].lower().replace("-", "").replace(" ", "").strip()
    return text if len(text) == 2 * HALF and all(c in ALPHABET for c in text) else ""


def _new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(2 * HALF))
    return f"{raw[:HALF]}-{raw[HALF:]}"


def recovery_codes_generate(
    *, user: User, code: str, request: HttpRequest | None = None
) -> list[str]:
    """A current TOTP code buys a fresh set of codes (answered once); the old set is void."""
    from accounts.services.otp import otp_attempt

    action = "generate recovery codes"
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if not locked.otp:
            failure = ("2FA has not been enabled for this account", "not_enabled", 400)
        elif not otp_attempt(
            user=locked, code=code, error_key="resource.recovery_code.too_many_requests"
        ):
            failure = ("OTP code is invalid", "invalid_otp", 422)
        else:
            failure = None
            codes = [_new_code() for _ in range(COUNT)]
            RecoveryCode.objects.filter(user=locked).delete()
            RecoveryCode.objects.bulk_create(
                RecoveryCode(user=locked, digest=_digest(_normalized(c))) for c in codes
            )
    if failure is not None:
        reason, key, status = failure
        activity_failure_record(
            user=user, topic="otp", action=action, reason=reason, request=request
        )
        raise ApiError(f"resource.recovery_code.{key}", status)
    activity_record(user=user, topic="otp", action=action, request=request)
    return codes


def recovery_codes_count(*, user: User) -> int:
    """How many unused codes the user has left; counted per user, as the other account reads."""
    rate_limit_hit(
        "recovery_code_count_account",
        user.uid,
        error_key="resource.recovery_code.too_many_requests",
    )
    return RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()


@transaction.atomic
def recovery_code_use(*, user: User, code: object, error_key: str) -> int | None:
    """Spend one code: the number of codes left, or None when it is not an unused code.
    A spent code starts the security lock (accounts/services/security_lock.py).

    Counted against the account's budget (429 ``error_key`` past it); the rows are locked,
    so two concurrent logins with one code cannot both succeed.
    """
    rate_limit_hit("recovery_code_account", user.uid, error_key=error_key)
    normalized = _normalized(code)
    digest = _digest(normalized or "-")
    unused = list(RecoveryCode.objects.select_for_update().filter(user=user, used_at__isnull=True))
    match = None
    for row in unused:  # every row compared, in constant time, whichever matches
        if constant_time_equals(row.digest, digest) and normalized:
            match = row
    if match is None:
        return None
    match.used_at = timezone.now()
    match.save(update_fields=["used_at"])
    security_lock_start(user=user, reason="recovery_code_used")
    return len(unused) - 1
