"""TOTP (RFC 6238: SHA1, 30 s, 6 digits, ±1 step) with the seed encrypted at rest.

django-otp's ``TOTP`` does the arithmetic; the seed lives AES-GCM encrypted in
``OTPDevice.encrypted_key`` and each accepted time step is remembered, so a code
is accepted once (RFC 6238 §5.2), even by two concurrent requests.
"""

import base64
import secrets
import time
from urllib.parse import quote, urlencode

from django.conf import settings
from django.db import transaction
from django_otp.oath import TOTP

from accounts.models import OTPDevice, User
from barong.crypto import decrypt, encrypt

STEP = 30
DIGITS = 6
TOLERANCE = 1
MAX_FAILURES = 5  # then django-otp's throttling doubles the wait after each failure


def _context(user: User) -> str:
    return f"otp:{user.uid}"


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


@transaction.atomic
def otp_verify(*, user: User, code: object, now: float | None = None) -> bool:
    """True once per valid code: the device row is locked and the used step stored."""
    text = str(code or "").strip()
    if len(text) != DIGITS or not text.isdigit():
        return False
    device = OTPDevice.objects.select_for_update().filter(user=user).first()
    if device is None:
        return False
    allowed, _ = device.verify_is_allowed()
    if not allowed:
        return False
    try:
        key = bytes.fromhex(decrypt(device.encrypted_key, context=_context(user)))
    except ValueError:
        return False
    totp = TOTP(key, STEP, 0, DIGITS, 0)
    totp.time = now if now is not None else time.time()
    if totp.verify(int(text), TOLERANCE, device.last_t + 1):
        device.last_t = totp.t()
        device.throttle_reset(commit=False)
        device.save(
            update_fields=["last_t", "throttling_failure_count", "throttling_failure_timestamp"]
        )
        return True
    device.throttle_increment(commit=True)
    return False


def otp_device_confirm(*, user: User) -> None:
    """Mark the seed as the one in use (2FA enabled)."""
    OTPDevice.objects.filter(user=user).update(confirmed=True)
