"""HMAC API keys: the kid is public, the secret is encrypted at rest (AES-GCM)."""

from django.db import models

from barong.db.models import Stamped


class APIKey(Stamped):
    """A user's HS256 key for signed requests; only ``active`` keys authenticate."""

    class State(models.TextChoices):
        ACTIVE = "active"
        INACTIVE = "inactive"

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="api_keys")
    kid = models.CharField(max_length=255, unique=True)
    algorithm = models.CharField(max_length=16, default="HS256")
    scope = models.JSONField(default=list, blank=True)
    state = models.CharField(max_length=255, default=State.ACTIVE)
    # Client networks (CIDRs) the key may be used from; empty: any address.
    allowed_cidrs = models.JSONField(default=list, blank=True)
    # After this the key authenticates nobody; null: no expiry.
    expires_at = models.DateTimeField(null=True, blank=True)
    # Set by an operator: scope, networks and expiry are theirs, the owner cannot change them.
    operator_restricted = models.BooleanField(default=False, db_default=False)
    encrypted_secret = models.TextField()

    class Meta(Stamped.Meta):
        db_table = "apikeys"

    def __str__(self) -> str:
        return f"{self.kid} ({self.state})"
