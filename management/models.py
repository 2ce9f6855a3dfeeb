"""Confirmations an upstream asks for through the management API (management/confirmations.py)."""

from django.conf import settings
from django.db import models


class Confirmation(models.Model):
    """One operation (withdraw, …) waiting for, or given, the user's bound confirmation.

    ``operation`` is the normalised operation and ``digest`` the SHA-256 of its canonical
    encoding: the passkey challenge, the value the signed confirmation carries, and what
    the upstream recomputes before it acts. A row leaves ``pending`` once, and never
    goes back.
    """

    class State(models.TextChoices):
        PENDING = "pending"
        CONFIRMED = "confirmed"
        REJECTED = "rejected"
        FAILED = "failed"  # too many wrong codes or assertions

    cid = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="confirmations"
    )
    nonce = models.CharField(max_length=64)
    operation = models.JSONField()
    digest = models.CharField(max_length=64)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    method = models.CharField(max_length=16, blank=True, default="")
    signers = models.JSONField(default=list)
    token = models.TextField(blank=True, default="")
    jti = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "confirmations"
        constraints = [
            # One nonce per user: the same operation can never be confirmed twice.
            models.UniqueConstraint(fields=["user", "nonce"], name="confirmation_nonce_per_user")
        ]

    def __str__(self) -> str:
        return f"confirmation {self.cid} ({self.state})"
