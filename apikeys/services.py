"""API keys: creation with an encrypted secret, state changes, and the HMAC check."""

from apikeys.models import APIKey


def api_keys_deactivate(*, user) -> int:
    """A banned user, or one who turned 2FA off, keeps no working key (MODELS.md, users)."""
    return APIKey.objects.filter(user=user, state=APIKey.State.ACTIVE).update(
        state=APIKey.State.INACTIVE
    )
