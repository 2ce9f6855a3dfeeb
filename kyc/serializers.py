"""KYC entities, the user views that carry KYC data, and the inputs of kyc's API."""

from datetime import date
from typing import Any

from django.core.files.storage import default_storage
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.serializers import (
    USER_FIELDS,
    AdminLabelViewSerializer,
    UserSerializer,
    UserWithFullInfoSerializer,
)
from barong.api.fields import EntityTime, RawTime
from barong.api.params import Bool, Str, date_parse
from kyc.models import PROFILE_PERSON, DataStorage, Document, Phone, Profile


class ProfileSerializer(serializers.ModelSerializer):
    dob = serializers.DateField(format="%Y-%m-%d", read_only=True, allow_null=True)
    created_at = EntityTime()
    updated_at = EntityTime()

    class Meta:
        model = Profile
        fields = [*PROFILE_PERSON, "state", "metadata", "created_at", "updated_at"]


class PhoneSerializer(serializers.ModelSerializer):
    validated_at = RawTime(allow_null=True)  # null until the code is verified

    class Meta:
        model = Phone
        fields = ["country", "number", "validated_at"]


@extend_schema_field(
    {"type": "object", "properties": {"url": {"type": "string", "nullable": True}}}
)
class UploadField(serializers.Field):
    """``{"url": …}``: a signed storage URL, never a public path."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("source", "*")
        super().__init__(**kwargs)

    def to_representation(self, document: Document) -> dict[str, str | None]:
        if not document.upload:
            return {"url": None}
        return {"url": default_storage.url(document.upload.name)}


class DocumentSerializer(serializers.ModelSerializer):
    upload = UploadField()
    doc_expire = serializers.DateField(format="%Y-%m-%d", read_only=True, allow_null=True)
    created_at = EntityTime()
    updated_at = EntityTime()

    class Meta:
        model = Document
        fields = [
            "upload",
            "doc_type",
            "doc_number",
            "doc_expire",
            "metadata",
            "created_at",
            "updated_at",
        ]


class DataStorageSerializer(serializers.ModelSerializer):
    created_at = EntityTime()
    updated_at = EntityTime()

    class Meta:
        model = DataStorage
        fields = ["title", "data", "created_at", "updated_at"]


class UserWithProfileSerializer(UserSerializer):
    profiles = ProfileSerializer(many=True, read_only=True)
    created_at = EntityTime()
    updated_at = EntityTime()

    class Meta(UserSerializer.Meta):
        fields = [*USER_FIELDS, "data", "profiles", "referral_uid", "created_at", "updated_at"]


# The lists the user with KYC shows (its admin and management readers prefetch them).
KYC_RELATIONS = ("profiles", "labels", "phones", "documents", "data_storages")


class UserWithKYCSerializer(UserSerializer):
    profiles = ProfileSerializer(many=True, read_only=True)
    labels = AdminLabelViewSerializer(many=True, read_only=True)
    phones = PhoneSerializer(many=True, read_only=True)
    documents = DocumentSerializer(many=True, read_only=True)
    data_storages = DataStorageSerializer(many=True, read_only=True)
    created_at = EntityTime()
    updated_at = EntityTime()

    class Meta(UserSerializer.Meta):
        fields = [*USER_FIELDS, "data", *KYC_RELATIONS, "referral_uid", "created_at", "updated_at"]


# ---------------------------------------------------------------- inputs (resource, admin)


def required(**kwargs: Any) -> Str:
    """A required non-blank String parameter: ``<prefix>.missing_<name>`` and ``empty_<name>``."""
    return Str(allow_blank=False, **kwargs)


@extend_schema_field(OpenApiTypes.DATE)
class DateParam(serializers.Field):
    """Barong ``Date``: ``YYYY-MM-DD`` (a full ISO timestamp gives its date) or the other
    forms ``barong.api.params.date_parse`` takes (``DD/MM/YYYY``); blank is no date."""

    default_error_messages = {"invalid": "invalid"}

    def to_internal_value(self, data: Any) -> date | None:
        if data is None or (isinstance(data, str) and not data.strip()):
            return None
        parsed = date_parse(data) if isinstance(data, str) else None
        if parsed is None:
            self.fail("invalid")
        return parsed

    def to_representation(self, value: date | None) -> str | None:
        return value.isoformat() if value else None


class ProfileInput(serializers.Serializer):
    first_name = Str(required=False, allow_blank=True, allow_null=True)
    last_name = Str(required=False, allow_blank=True, allow_null=True)
    dob = DateParam(
        required=False,
        allow_null=True,
        error_messages={"invalid": "resource.profile.invalid_dob"},
        help_text="Date of birth, YYYY-MM-DD",
    )
    address = Str(required=False, allow_blank=True, allow_null=True)
    postcode = Str(required=False, allow_blank=True, allow_null=True)
    city = Str(required=False, allow_blank=True, allow_null=True)
    country = Str(
        required=False, allow_blank=True, allow_null=True, help_text="ISO alpha-2 or alpha-3"
    )
    metadata = Str(required=False, allow_blank=True, allow_null=True, help_text="JSON text")
    confirm = Bool(required=False, default=False, help_text="true submits it for review")


class DocumentCreateInput(serializers.Serializer):
    doc_type = required(help_text="One of BARONG_DOCUMENT_TYPES")
    doc_number = required()
    upload = serializers.ListField(
        child=serializers.FileField(allow_empty_file=True),
        allow_empty=False,
        error_messages={
            "required": "resource.document.missing_upload",
            "empty": "resource.document.missing_upload",
        },
        help_text="One or more files, multipart field upload[] (or upload)",
    )
    doc_expire = Str(
        required=False, allow_blank=True, allow_null=True, help_text="YYYY-MM-DD, not past"
    )
    metadata = Str(required=False, allow_blank=True, allow_null=True, help_text="JSON text")


class DocumentEntrySerializer(serializers.ModelSerializer):
    """GET /resource/documents shows only these four fields of a document."""

    upload = UploadField()
    doc_expire = serializers.DateField(format="%Y-%m-%d", read_only=True)

    class Meta:
        model = Document
        fields = ["upload", "doc_type", "doc_number", "doc_expire"]


class PhoneSendInput(serializers.Serializer):
    phone_number = required()
    channel = serializers.ChoiceField(
        choices=["sms", "call"],
        required=False,
        default="sms",
        error_messages={
            "invalid_choice": "resource.phone.invalid_channel",
            "blank": "resource.phone.invalid_channel",
            "null": "resource.phone.invalid_channel",
            "invalid": "resource.phone.invalid_channel",
        },
    )


class PhoneVerifyInput(serializers.Serializer):
    phone_number = required()
    verification_code = required(max_length=64)


class PhoneMessageSerializer(serializers.Serializer):
    message = serializers.CharField()


class DataStorageCreateInput(serializers.Serializer):
    title = required(help_text="One of BARONG_USER_STORAGE_TITLES")
    data = required(help_text="JSON text, at most 5120 chars")


class AdminDate(serializers.DateField):
    """Barong's ``Date``: ISO ``YYYY-MM-DD``; blank clears the field; junk is ``invalid``."""

    default_error_messages = {"invalid": "invalid", "datetime": "invalid"}

    def to_internal_value(self, value: Any):
        if value in ("", None):
            return None
        if not isinstance(value, str) or len(value) > 32:
            self.fail("invalid")
        return super().to_internal_value(value.strip())


class ProfileAdminUpdateInput(serializers.Serializer):
    uid = Str(
        allow_blank=False,
        error_messages={"required": "admin.profile.missing_uid"},
        help_text="uid of the user whose submitted profile is edited",
    )
    first_name = Str(required=False, allow_blank=True)
    last_name = Str(required=False, allow_blank=True)
    dob = AdminDate(required=False, allow_null=True, help_text="YYYY-MM-DD")
    address = Str(required=False, allow_blank=True)
    postcode = Str(required=False, allow_blank=True)
    city = Str(required=False, allow_blank=True)
    country = Str(required=False, allow_blank=True, help_text="ISO 3166 alpha-2 or alpha-3")
    state = Str(
        required=False,
        allow_blank=False,
        help_text="drafted, submitted, verified or rejected (the operator's decision)",
    )
    metadata = Str(
        required=False,
        allow_blank=True,
        help_text="Any additional key: value pairs in json string format",
    )


class OptionalBool(Bool):
    """An optional Barong ``Boolean``: blank is ``<prefix>.empty_<name>``, junk is ``invalid``."""

    default_error_messages = {"blank": "This field may not be blank.", "invalid": "invalid"}

    def to_internal_value(self, data: Any) -> bool:
        if data == "":
            self.fail("blank")
        return super().to_internal_value(data)


class UserUpdateInput(serializers.Serializer):
    uid = Str(allow_blank=False, help_text="user uniq id")
    state = Str(required=False, allow_blank=False, help_text="user state")
    otp = OptionalBool(required=False, help_text="user 2fa status (only false is accepted)")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("state" in attrs) == ("otp" in attrs):
            raise serializers.ValidationError("admin.user.one_of_state_otp")
        return attrs


class UserRoleInput(serializers.Serializer):
    uid = Str(allow_blank=False, help_text="user uniq id")
    role = Str(allow_blank=False, help_text="user role")


class UserDataStorageDeleteInput(serializers.Serializer):
    uid = Str(allow_blank=False, help_text="user uniq id")
    title = Str(allow_blank=False, help_text="data storage uniq title")


def user_full_info_collections_add() -> None:
    """Login, sign-up and ``users/me`` answer the user's phones, profiles and data storage:
    declared here once, by their serializers (``accounts.full_info`` renders the same JSON
    from them)."""
    UserWithFullInfoSerializer.collection_add(
        "phones", lambda: PhoneSerializer(many=True, read_only=True)
    )
    UserWithFullInfoSerializer.collection_add(
        "profiles", lambda: ProfileSerializer(many=True, read_only=True)
    )
    UserWithFullInfoSerializer.collection_add(
        "data_storages", lambda: DataStorageSerializer(many=True, read_only=True)
    )
