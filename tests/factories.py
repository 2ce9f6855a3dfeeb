"""Users and their KYC made through the services, never by writing rows directly."""

import itertools

from accounts.models import User
from accounts.services import label_set, user_create, user_role_set

DEFAULT_PASSWORD = "Correct-Horse-Battery-9"
_counter = itertools.count(1)


def make_user_with(
    *,
    email: str | None = None,
    password: str = DEFAULT_PASSWORD,
    role: str = "member",
    verified: bool = True,
    labels: dict[str, str] | None = None,
) -> User:
    """A member (or any role) whose e-mail is confirmed unless ``verified=False``."""
    user = user_create(email=email or f"user{next(_counter)}@example.com", password=password)
    if role != "member":
        user_role_set(user=user, role=role)
    if verified:
        label_set(user=user, key="email", value="verified", scope="private")
    for key, value in (labels or {}).items():
        label_set(user=user, key=key, value=value, scope="private")
    user.refresh_from_db()
    return user


def make_admin_user(*, role: str = "superadmin", **kwargs) -> User:
    return make_user_with(role=role, **kwargs)


def totp_code(user: User, now: float | None = None) -> str:
    """The current TOTP code of a user's (encrypted) seed, as an authenticator app shows it."""
    import time

    from django_otp.oath import TOTP

    from accounts.models import OTPDevice
    from barong.crypto import decrypt

    device = OTPDevice.objects.get(user=user)
    key = bytes.fromhex(decrypt(device.encrypted_key, context=f"otp:{user.uid}"))
    totp = TOTP(key, 30, 0, 6, 0)
    totp.time = now if now is not None else time.time()
    return f"{totp.token():06d}"
