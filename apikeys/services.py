"""API keys: creation with an encrypted secret, state changes, and deactivation rules."""

import secrets

from django.db import IntegrityError, transaction

from apikeys.models import APIKey
from barong.api.errors import ApiError
from barong.crypto import decrypt, encrypt


def _context(kid: str) -> str:
    return f"apikey:{kid}"


def api_key_secret(*, api_key: APIKey) -> str:
    """The plaintext HMAC secret, decrypted for a signature check only."""
    return decrypt(api_key.encrypted_secret, context=_context(api_key.kid))


@transaction.atomic
def api_key_create(
    *, user, algorithm: str = "HS256", kid: str | None = None, scope: list[str] | None = None
) -> tuple[APIKey, str]:
    """A new active key with a 32-hex-char secret, stored encrypted; returns (key, secret).

    HS keys always get a random 16-hex-char kid (Barong ignores a client kid for them).
    """
    errors: list[str] = []
    if "HS" in algorithm:
        kid = secrets.token_hex(8)
    if algorithm != "HS256":
        errors.append("algorithm.inclusion")
    if not kid:
        errors.append("kid.blank")
    if errors:
        raise ApiError(errors)
    secret = secrets.token_hex(16)
    try:
        with transaction.atomic():
            api_key = APIKey.objects.create(
                user=user,
                kid=kid,
                algorithm=algorithm,
                scope=list(scope or []),
                state=APIKey.State.ACTIVE,
                encrypted_secret=encrypt(secret, context=_context(kid)),
            )
    except IntegrityError as exc:
        raise ApiError("kid.taken") from exc
    return api_key, secret


def api_keys_deactivate(*, user) -> int:
    """A banned user, or one who turned 2FA off, keeps no working key (MODELS.md, users)."""
    return APIKey.objects.filter(user=user, state=APIKey.State.ACTIVE).update(
        state=APIKey.State.INACTIVE
    )
