"""Role-based rules and IP/geo restrictions that the authz endpoint applies."""

from django.db import models

from permissions.scopes import SCOPES


class Permission(models.Model):
    """Role, verb and path prefix → ACCEPT / DROP / AUDIT; DROP beats ACCEPT, AUDIT only logs."""

    class Action(models.TextChoices):
        ACCEPT = "ACCEPT"
        DROP = "DROP"
        AUDIT = "AUDIT"

    class Verb(models.TextChoices):
        GET = "GET"
        POST = "POST"
        PUT = "PUT"
        DELETE = "DELETE"
        PATCH = "PATCH"
        HEAD = "HEAD"
        ALL = "ALL"

    action = models.CharField(max_length=16, choices=Action.choices)
    role = models.CharField(max_length=64, db_index=True)
    verb = models.CharField(max_length=16, choices=Verb.choices)
    path = models.CharField(max_length=255)
    topic = models.CharField(max_length=255, null=True, blank=True, db_index=True)
    # A second factor (TOTP or passkey) from at most this many seconds ago, or authz answers
    # 401 authz.step_up_required (accounts/services/step_up.py); empty: no such requirement.
    step_up_max_age = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Seconds: ask for a second factor this recent (a step-up); empty for none.",
    )
    # Refuses users under a security lock (2FA off, password changed, recovery code used).
    security_lock = models.BooleanField(default=False, db_default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "permissions"
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["role", "verb", "path", "action"], name="permissions_rule_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.role} {self.verb} {self.path} {self.action}"


class Restriction(models.Model):
    """Traffic rule matched on the client IP: whitelist, maintenance or blacklist (2.4.17)."""

    class Category(models.TextChoices):
        WHITELIST = "whitelist"
        MAINTENANCE = "maintenance"
        BLACKLIST = "blacklist"

    # One member per entry of permissions/scopes.py (ALL, IP, IP_SUBNET, CONTINENT, COUNTRY).
    Scope = models.TextChoices("Scope", [(scope.name.upper(), scope.name) for scope in SCOPES])

    class State(models.TextChoices):
        ENABLED = "enabled"
        DISABLED = "disabled"

    category = models.CharField(max_length=16, choices=Category.choices)
    scope = models.CharField(max_length=16, choices=Scope.choices)
    value = models.CharField(max_length=64)
    code = models.PositiveIntegerField(null=True, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.ENABLED)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "restrictions"
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["category", "scope", "value"], name="restrictions_value_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.category} {self.scope}={self.value} ({self.state})"
