"""TOTP (RFC 6238: SHA1, 30 s, 6 digits, ±1 step) with the seed encrypted at rest.

The device is a django-otp ``Device`` (accounts/models.py ``OTPDevice``): its
``verify_token`` decrypts the AES-GCM sealed seed, lets django-otp's ``TOTP`` do the
arithmetic, remembers each accepted time step, so a code is accepted once (RFC 6238,
5.2) even by two concurrent requests, and throttles through django-otp's mixin.
"""

import base64
import io
import secrets
import time
from urllib.parse import quote, urlencode

import qrcode
import qrcode.constants
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from PIL import Image

from accounts.models import OTPDevice, User
from accounts.services.users import user_otp_set
from accounts.sessions import user_sessions_revoke
from activities.services import activity_failure_record, activity_record
from barong.api.errors import ApiError
from barong.crypto import column_reencrypt, encrypt
from barong.ratelimit import rate_limit_hit

STEP = OTPDevice.STEP
DIGITS = OTPDevice.DIGITS


def _context(user: User) -> str:
    return OTPDevice.seed_context(user.uid)


def otp_seeds_reencrypt() -> dict[str, int]:
    """Every TOTP seed sealed again under the current encryption key (the second step of
    a key rotation, docs/operations.md)."""
    return column_reencrypt(
        OTPDevice.objects.all(),
        column="encrypted_key",
        fields=("user__uid",),
        context_of=OTPDevice.seed_context,
    )


def otp_secret_create(*, user: User) -> str:
    """A new 20-byte seed for ``user`` (replacing any unconfirmed one); returns base32."""
    raw = secrets.token_bytes(20)
    sealed = encrypt(raw.hex(), context=_context(user))
    OTPDevice.objects.update_or_create(
        user=user,
        defaults={
            "name": "totp",
            "encrypted_key": sealed,
            "last_t": -1,
            "confirmed": False,
            "throttling_failure_count": 0,
            "throttling_failure_timestamp": None,
        },
    )
    return base64.b32encode(raw).decode().rstrip("=")


def otp_url(*, user: User, secret_b32: str) -> str:
    """The otpauth:// URL Barong's front ends turn into a QR code."""
    issuer = settings.BARONG_APP_NAME
    label = quote(f"{issuer}:{user.email}")
    query = urlencode(
        {
            "algorithm": "SHA1",
            "digits": DIGITS,
            "issuer": issuer,
            "period": STEP,
            "secret": secret_b32,
        }
    )
    return f"otpauth://totp/{label}?{query}"


def otp_verify(*, user: User, code: object, now: float | None = None) -> bool:
    """True once per valid code: the user's device says so (``OTPDevice.verify_token``
    locks its row and stores the used step)."""
    device = OTPDevice.objects.filter(user=user).first()
    if device is None:
        return False
    device.user = user  # the seed is sealed to this uid: no query to read it again
    return device.verify_token(code, now=time.time() if now is None else now)


def otp_device_confirm(*, user: User) -> None:
    """Mark the seed as the one in use (2FA enabled)."""
    OTPDevice.objects.filter(user=user).update(confirmed=True)


# ---------------------------------------------------------------- 2FA of the own account

QR_SIZE = 300  # pixels, as Barong asks Vault for


def otp_qrcode_png(url: str) -> str:
    """The otpauth URL as a base64 PNG QR code, ``QR_SIZE`` pixels square."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=10, border=4)
    qr.add_data(url)
    qr.make(fit=True)
    image = qr.make_image().get_image().convert("L").resize((QR_SIZE, QR_SIZE), Image.NEAREST)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def otp_attempt(*, user: User, code: object, error_key: str) -> bool:
    """One TOTP check counted against the account's budget (429 ``error_key`` past it)."""
    rate_limit_hit("otp_account", user.uid, error_key=error_key)
    return otp_verify(user=user, code=code)


# outcome → (reason recorded in the activity row, error key, status)
OTP_FAILURES = {
    "already_enabled": (
        "2FA has been already enabled for this account",
        "resource.otp.already_enabled",
        400,
    ),
    "not_enabled": ("2FA has not been enabled for this account", "resource.otp.not_enabled", 400),
    "invalid": ("OTP code is invalid", "resource.otp.invalid", 422),
}


def _otp_failed(
    *,
    user: User,
    action: str,
    outcome: str,
    request: HttpRequest | None,
    key: str | None = None,
) -> ApiError:
    """Record the failed 2FA action in the activity log and give the error to raise."""
    reason, default_key, status = OTP_FAILURES[outcome]
    activity_failure_record(user=user, topic="otp", action=action, reason=reason, request=request)
    return ApiError(key or default_key, status)


def otp_qrcode_generate(*, user: User, request: HttpRequest | None = None) -> dict[str, str]:
    """A new seed and its QR code, refused while 2FA is on (the seed in use stays)."""
    action = "request QR code for 2FA"
    with transaction.atomic():
        # The user row lock orders this against a concurrent enable: never swap the seed in use.
        locked = User.objects.select_for_update().get(pk=user.pk)
        secret = None if locked.otp else otp_secret_create(user=locked)
    if secret is None:
        raise _otp_failed(user=user, action=action, outcome="already_enabled", request=request)
    activity_record(user=user, topic="otp", action=action, request=request)
    url = otp_url(user=user, secret_b32=secret)
    return {"barcode": otp_qrcode_png(url), "url": url}


def otp_enable(
    *, user: User, code: str, request: HttpRequest | None = None, keep_session: str | None = None
) -> User:
    """A valid code of the new seed turns 2FA on (flag, device, label ``otp``); others log out."""
    action = "enable 2FA"
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.otp:
            outcome = "already_enabled"
        elif not otp_attempt(user=locked, code=code, error_key="resource.otp.too_many_requests"):
            outcome = "invalid"  # the throttling counter written by otp_verify is kept
        else:
            user_otp_set(user=locked, enabled=True)
            otp_device_confirm(user=locked)
            outcome = "enabled"
    if outcome in OTP_FAILURES:
        raise _otp_failed(user=user, action=action, outcome=outcome, request=request)
    activity_record(user=user, topic="otp", action=action, request=request)
    user_sessions_revoke(user.uid, keep=keep_session)
    user.refresh_from_db()
    return user


def otp_disable(*, user: User, code: str, request: HttpRequest | None = None) -> User:
    """A valid code turns 2FA off: API keys go inactive, label ``otp`` goes; the seed is kept."""
    action = "disable 2FA"
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if not locked.otp:
            outcome = "not_enabled"
        elif not otp_attempt(user=locked, code=code, error_key="resource.otp.too_many_requests"):
            outcome = "invalid"
        else:
            user_otp_set(user=locked, enabled=False)
            outcome = "disabled"
    if outcome in OTP_FAILURES:
        raise _otp_failed(user=user, action=action, outcome=outcome, request=request)
    activity_record(user=user, topic="otp", action=action, request=request)
    user.refresh_from_db()
    return user


def otp_code_check(*, user: User, code: str, request: HttpRequest | None = None) -> None:
    """``otp/verify``: is this code valid now? Only failures are recorded, as in Barong."""
    action = "verify 2FA code"
    if not user.otp:
        # Barong's key for "not enabled" here is, oddly, ``already_enabled``.
        raise _otp_failed(
            user=user,
            action=action,
            outcome="not_enabled",
            request=request,
            key="resource.otp.already_enabled",
        )
    if not otp_attempt(user=user, code=code, error_key="resource.otp.too_many_requests"):
        raise _otp_failed(user=user, action=action, outcome="invalid", request=request)
