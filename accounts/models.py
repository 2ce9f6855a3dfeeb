"""The Barong user (uid, e-mail, role, level, state), its labels, the level table, 2FA."""

import json
import secrets
import time

from django.apps import apps
from django.conf import settings
from django.contrib import auth
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.core.validators import MinLengthValidator, RegexValidator
from django.db import models, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django_otp.models import Device, ThrottlingMixin, TimestampMixin
from django_otp.oath import TOTP

from accounts.roles import OPERATOR_ROLES, SUPERADMIN
from barong.api.parsers import json_refusal
from barong.crypto import decrypt
from barong.db.models import Stamped


def generate_uid() -> str:
    """``<PREFIX><10 upper-case hex>``, as Barong's uids look (``ID30DD0DD986``)."""
    return f"{settings.BARONG_UID_PREFIX}{secrets.token_hex(5).upper()}"


def validate_json_text(value: str | None) -> None:
    if value in (None, ""):
        return
    if json_refusal(str(value).encode(errors="replace")) is not None:
        raise ValidationError("not JSON", code="invalid_format")
    try:
        json.loads(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError("not JSON", code="invalid_format") from exc


class UserManager(BaseUserManager):
    """Creation goes through ``accounts.services.user_create``, so the rules hold here too.

    The services stand above the model: it reaches them through the app's config
    (accounts/apps.py), which Django's ``createsuperuser`` finds through this manager.
    """

    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra):
        accounts = apps.get_app_config(self.model._meta.app_label)
        return accounts.user_create(email=email, password=password or "", **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        accounts = apps.get_app_config(self.model._meta.app_label)
        return accounts.superuser_create(email=email, password=password)

    def get_by_natural_key(self, username: str):
        return self.get(email=(username or "").strip().lower())  # stored normalised


class User(AbstractBaseUser):
    """A person or service account; its level and state follow its private labels."""

    class State(models.TextChoices):
        PENDING = "pending"
        ACTIVE = "active"
        BANNED = "banned"
        DELETED = "deleted"
        LOCKED = "locked"

    uid = models.CharField(max_length=32, unique=True, default=generate_uid, editable=False)
    email = models.CharField(max_length=255)
    role = models.CharField(max_length=64, default="member", db_index=True)
    data = models.TextField(null=True, blank=True, max_length=1024, validators=[validate_json_text])
    level = models.PositiveIntegerField(default=0)
    otp = models.BooleanField(default=False)
    state = models.CharField(max_length=255, default=State.PENDING)
    # Set when an operator chose the state by hand: label recomputation and level resyncs
    # keep it until an operator changes the state again (docs/compatibility.md).
    state_manual = models.BooleanField(default=False, db_default=False)
    # Until when rules marked ``security_lock`` refuse the user, after 2FA was switched off,
    # the password changed or reset, or a recovery code used (accounts/services/security_lock.py).
    security_lock_until = models.DateTimeField(null=True, blank=True)
    referral = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="referees"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        db_table = "users"
        # E-mails are stored lower-case (``email_normalize``): one plain unique index serves
        # every ``email = x`` lookup, and the check keeps a mixed-case copy out.
        constraints = [
            models.UniqueConstraint(fields=["email"], name="users_email_unique"),
            models.CheckConstraint(condition=Q(email=Lower("email")), name="users_email_lower"),
        ]
        indexes = [
            models.Index(fields=["level", "id"], name="users_level_id"),
            models.Index(fields=["state", "id"], name="users_state_id"),
        ]

    def __str__(self) -> str:
        return f"{self.uid} <{self.email}>"

    @property
    def is_active(self) -> bool:  # Django auth: pending users may log in, as in Barong
        return self.state in (self.State.ACTIVE, self.State.PENDING)

    @property
    def is_staff(self) -> bool:
        return self.state == self.State.ACTIVE and self.role in OPERATOR_ROLES

    @property
    def is_superuser(self) -> bool:
        return self.is_staff and self.role == SUPERADMIN

    @property
    def referral_uid(self) -> str | None:
        return self.referral.uid if self.referral_id else None

    @property
    def language(self) -> str:
        try:
            value = json.loads(self.data or "{}").get("language")
        except (ValueError, AttributeError):
            value = None
        return str(value or settings.BARONG_DEFAULT_LANGUAGE).lower()

    # Asked of AUTHENTICATION_BACKENDS (accounts.backends: the operator's role), as Django's
    # PermissionsMixin asks them; the model itself imports no backend.
    def has_perm(self, perm: str, obj=None) -> bool:
        return any(
            backend.has_perm(self, perm, obj)
            for backend in auth.get_backends()
            if hasattr(backend, "has_perm")
        )

    def has_module_perms(self, app_label: str) -> bool:
        return any(
            backend.has_module_perms(self, app_label)
            for backend in auth.get_backends()
            if hasattr(backend, "has_module_perms")
        )


LABEL_RE = RegexValidator(r"\A[a-z0-9_-]+\Z", code="invalid")


class Label(Stamped):
    """A tag on a user; private labels are set by flows and operators and decide the level."""

    class Scope(models.TextChoices):
        PUBLIC = "public"
        PRIVATE = "private"

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="labels")
    key = models.CharField(max_length=255, validators=[MinLengthValidator(3), LABEL_RE])
    value = models.CharField(max_length=255, validators=[MinLengthValidator(3), LABEL_RE])
    scope = models.CharField(max_length=16, choices=Scope.choices, default=Scope.PUBLIC)
    description = models.CharField(max_length=255, null=True, blank=True)

    class Meta(Stamped.Meta):
        db_table = "labels"
        constraints = [
            models.UniqueConstraint(
                fields=["user", "key", "scope"],
                name="labels_user_key_scope_unique",
                violation_error_code="taken",
            )
        ]
        indexes = [
            # Users having a label (admin API ``users/labels``), in user order; private-only
            # counts (``labels/list``, metrics) read the same index.
            models.Index(fields=["key", "value", "user", "scope"], name="labels_key_value_user"),
            # The KYC queue: private ``document`` labels waiting for a decision, oldest first.
            models.Index(
                fields=["updated_at", "user"],
                name="labels_document_waiting",
                condition=models.Q(
                    key="document", scope="private", value__in=("pending", "replaced")
                ),
            ),
            # /admin/metrics' ``pending_applications``: an index-only count of narrow entries
            # (250k at 10M users: 73 ms through ``labels_key_value_user``).
            models.Index(
                fields=["user"],
                name="labels_document_pending",
                condition=models.Q(key="document", scope="private", value="pending"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key}:{self.value} ({self.scope})"


class Level(Stamped):
    """Level N is reached when levels 1…N each have a matching private label."""

    id = models.PositiveIntegerField(primary_key=True)
    key = models.CharField(max_length=255)
    value = models.CharField(max_length=255)
    description = models.CharField(max_length=255)

    class Meta(Stamped.Meta):
        db_table = "levels"
        constraints = [
            models.UniqueConstraint(fields=["key", "value"], name="levels_key_value_unique")
        ]

    def __str__(self) -> str:
        return f"{self.id}: {self.key}:{self.value}"


class OTPDevice(TimestampMixin, ThrottlingMixin, Device):
    """A user's TOTP seed (RFC 6238, SHA1, 30 s, 6 digits), encrypted at rest with AES-GCM.

    A django-otp device in full: ``verify_token`` decrypts the seed, checks the code with
    django-otp's ``TOTP`` (one step either side), accepts each time step once (``last_t``,
    RFC 6238, 5.2) and counts failures through ``ThrottlingMixin``, so the framework's own
    tools (``django_otp.match_token``, ``OTPTokenForm``) and the API (accounts/services/otp.py) take
    one path. ``confirmed`` turns true when 2FA is enabled with a code from this seed.
    """

    STEP = 30
    DIGITS = 6
    TOLERANCE = 1

    encrypted_key = models.TextField()
    last_t = models.BigIntegerField(default=-1)

    class Meta(Device.Meta):
        db_table = "otp_devices"
        constraints = [models.UniqueConstraint(fields=["user"], name="otp_device_one_per_user")]

    def __str__(self) -> str:
        return f"TOTP device of {self.user_id}"

    def get_throttle_factor(self) -> int:
        return 1

    @staticmethod
    def seed_context(uid: str) -> str:
        """What the sealed seed is bound to: its owner, so a seed copied to another user's
        row does not decrypt."""
        return f"otp:{uid}"

    def seed(self) -> bytes:
        """The raw seed; ``ValueError`` if the ciphertext was altered or moved."""
        return bytes.fromhex(decrypt(self.encrypted_key, context=self.seed_context(self.user.uid)))

    def totp(self, now: float | None = None) -> TOTP:
        totp = TOTP(self.seed(), self.STEP, 0, self.DIGITS, 0)
        totp.time = now if now is not None else time.time()
        return totp

    def verify_token(self, token: object, *, now: float | None = None) -> bool:
        """True once per valid code (django-otp's device API).

        The row is re-read under a lock, so two requests with one code cannot both pass; a
        throttled device refuses without looking; a wrong code counts a failure.
        """
        text = str(token or "").strip()
        if len(text) != self.DIGITS or not (text.isascii() and text.isdigit()):  # "²" is a digit
            return False
        owner = self._meta.get_field("user").get_cached_value(self, default=None)
        with transaction.atomic():
            try:
                self.refresh_from_db(from_queryset=type(self).objects.select_for_update())
            except type(self).DoesNotExist:
                return False
            if owner is not None and owner.pk == self.user_id:
                self.user = owner  # refresh_from_db forgets it; the seed's context needs its uid
            allowed, _ = self.verify_is_allowed()
            if not allowed:
                return False
            try:
                totp = self.totp(now)
            except ValueError:
                return False
            if totp.verify(int(text), self.TOLERANCE, self.last_t + 1):
                self.last_t = totp.t()
                self.throttle_reset(commit=False)
                self.set_last_used_timestamp(commit=False)
                self.save(
                    update_fields=[
                        "last_t",
                        "last_used_at",
                        "throttling_failure_count",
                        "throttling_failure_timestamp",
                    ]
                )
                return True
            self.throttle_increment(commit=True)
            return False


class ResyncJob(models.Model):
    """One recomputation of every user's level and state after a level or rule change.

    A Celery task walks the users in primary-key order, batch after batch; ``last_user_id``
    is the resume point, so a job picked up again after a crash continues where it stopped
    and re-running a batch changes nothing (accounts/services/resync.py).
    """

    class State(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    reason = models.CharField(max_length=255)
    from_level = models.PositiveIntegerField(default=0)
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    last_user_id = models.BigIntegerField(default=0)
    max_user_id = models.BigIntegerField(default=0)
    processed = models.BigIntegerField(default=0)
    changed = models.BigIntegerField(default=0)
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "resync_jobs"
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"resync #{self.pk} ({self.state}, {self.progress_percent}%)"

    @property
    def progress_percent(self) -> int:
        if self.state == self.State.DONE:
            return 100
        if self.max_user_id <= 0:
            return 0
        return min(99, int(100 * self.last_user_id / self.max_user_id))


# Users per block of this many ids; fixed by migration 0008, which writes it into the trigger.
USER_ID_BLOCK = 10_000
USER_ID_SHARDS = 8


class UserIdBlock(models.Model):
    """How many users have an id in ``[block * USER_ID_BLOCK, (block + 1) * USER_ID_BLOCK)``.

    The admin user list is paged by position in id order; on PostgreSQL this table gives any
    position's block without walking a million index entries, and an exact total
    (accounts/selectors.py ``user_ids_page``). A trigger on ``users`` keeps it in the
    inserting transaction, so it is exactly as visible as the rows it counts. Each block is
    split over ``USER_ID_SHARDS`` rows (``id % shards``) so concurrent sign-ups do not queue
    on one row lock. docs/architecture.md ("Deep pages of the user list") says why.
    """

    block = models.BigIntegerField()
    shard = models.SmallIntegerField()
    users = models.BigIntegerField(default=0)

    class Meta:
        db_table = "user_id_blocks"
        constraints = [
            models.UniqueConstraint(fields=["block", "shard"], name="user_id_blocks_block_shard")
        ]

    def __str__(self) -> str:
        return f"block {self.block}/{self.shard}: {self.users} users"


class RecoveryCode(models.Model):
    """One single-use 2FA recovery code, kept only as an HMAC of the code
    (accounts.services.recovery)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="recovery_codes")
    digest = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "recovery_codes"
        indexes = [models.Index(fields=["user", "used_at"])]

    def __str__(self) -> str:
        return f"recovery code of {self.user_id}"


class WebAuthnCredential(models.Model):
    """A passkey (WebAuthn public-key credential) registered as a second factor."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="webauthn_credentials")
    credential_id = models.CharField(max_length=1400, unique=True, help_text="base64url")
    public_key = models.BinaryField()
    sign_count = models.BigIntegerField(default=0)
    transports = models.JSONField(default=list, blank=True)
    name = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "webauthn_credentials"

    def __str__(self) -> str:
        return f"passkey {self.name or self.pk} of {self.user_id}"

    @property
    def public_id(self) -> str:
        return self.credential_id
