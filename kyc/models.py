"""KYC: profiles, phones, documents and data storage (labels and levels live in accounts)."""

import uuid
from pathlib import PurePath

from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower, Upper

from accounts.models import validate_json_text
from barong.db.models import Stamped

# What the user fills in (the API, the back office, an import): the rest is the review's.
PROFILE_PERSON = ("first_name", "last_name", "dob", "address", "postcode", "city", "country")
PROFILE_FIELDS = (*PROFILE_PERSON, "metadata")


class Profile(Stamped):
    """Personal details; the drafted one is editable, the submitted one awaits review."""

    class State(models.TextChoices):
        DRAFTED = "drafted"
        SUBMITTED = "submitted"
        VERIFIED = "verified"
        REJECTED = "rejected"

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="profiles")
    first_name = models.CharField(max_length=255, null=True, blank=True)
    last_name = models.CharField(max_length=255, null=True, blank=True)
    dob = models.DateField(null=True, blank=True)
    address = models.CharField(max_length=255, null=True, blank=True)
    postcode = models.CharField(max_length=255, null=True, blank=True)
    city = models.CharField(max_length=255, null=True, blank=True)
    country = models.CharField(max_length=3, null=True, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.DRAFTED)
    metadata = models.TextField(null=True, blank=True, validators=[validate_json_text])

    class Meta(Stamped.Meta):
        db_table = "profiles"
        indexes = [
            # Case-insensitive equality of the admin API's user search (``first_name=``…).
            models.Index(Upper("first_name"), name="profiles_first_name_upper"),
            models.Index(Upper("last_name"), name="profiles_last_name_upper"),
            # ``country=`` matches many users: read in user order, a semi-join to users. The
            # column itself is included so PostgreSQL can answer from the index alone (an
            # expression index does not allow an index-only scan otherwise): the users of a
            # country are then a cheap hash for the KYC queue's ``country=`` filter.
            models.Index(
                Upper("country"), "user", name="profiles_country_cover", include=["country"]
            ),
            models.Index(fields=["updated_at", "id"], name="profiles_updated_id"),
            models.Index(
                fields=["updated_at", "id"],
                name="profiles_submitted",
                condition=models.Q(state="submitted"),
            ),
        ]

    # What the back-office shows for a row (inline captions, titles, history): no internal
    # ids, which mean nothing to an operator; the page around it names the user.
    def __str__(self) -> str:
        return f"profile ({self.state})"


class Phone(Stamped):
    """A phone number being verified by a code; verified once ``validated_at`` is set."""

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="phones")
    country = models.CharField(max_length=2)
    number = models.CharField(max_length=32, db_index=True)
    code = models.CharField(max_length=16, null=True, blank=True)
    code_sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    validated_at = models.DateTimeField(null=True, blank=True)

    class Meta(Stamped.Meta):
        db_table = "phones"
        constraints = [
            models.UniqueConstraint(fields=["user", "number"], name="phones_user_number_unique"),
            models.UniqueConstraint(
                fields=["number"],
                condition=models.Q(validated_at__isnull=False),
                name="phones_verified_number_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"+{self.number}"


def document_upload_to(instance: "Document", filename: str) -> str:
    """A random folder per file, so names never collide or reveal other uploads."""
    name = PurePath(filename).name[-100:] or "upload"
    return f"uploads/document/upload/{uuid.uuid4().hex}/{name}"


class Document(Stamped):
    """One uploaded KYC file; never served publicly."""

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="documents")
    upload = models.FileField(upload_to=document_upload_to, max_length=255)
    doc_type = models.CharField(max_length=255)
    doc_number = models.CharField(
        max_length=128, validators=[RegexValidator(r"\A[A-Za-z0-9\-\s]+\Z", code="invalid")]
    )
    doc_expire = models.DateField(null=True, blank=True)
    metadata = models.TextField(null=True, blank=True, validators=[validate_json_text])

    class Meta(Stamped.Meta):
        db_table = "documents"

    def __str__(self) -> str:
        return f"{self.doc_type} {self.doc_number}"


class DataStorage(Stamped):
    """Free-form JSON a user keeps under one of the allowed titles."""

    user = models.ForeignKey(
        "accounts.User", on_delete=models.CASCADE, related_name="data_storages"
    )
    title = models.CharField(max_length=64)
    data = models.TextField(max_length=5120, validators=[validate_json_text])

    class Meta(Stamped.Meta):
        db_table = "data_storages"
        constraints = [
            models.UniqueConstraint(
                "user",
                Lower("title"),
                name="data_storages_user_title_ci_unique",
                violation_error_code="taken",
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} data"
