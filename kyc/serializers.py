"""KYC entities and the user views that carry KYC data."""

from django.core.files.storage import default_storage
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.serializers import (
    AdminLabelViewSerializer,
    UserSerializer,
    UserWithFullInfoSerializer,
)
from barong.api.fields import EntityTime, RawTime
from kyc.models import DataStorage, Document, Phone, Profile


class ProfileSerializer(serializers.ModelSerializer):
    dob = serializers.DateField(format="%Y-%m-%d", read_only=True, allow_null=True)
    created_at = EntityTime()
    updated_at = EntityTime()

    class Meta:
        model = Profile
        fields = [
            "first_name",
            "last_name",
            "dob",
            "address",
            "postcode",
            "city",
            "country",
            "state",
            "metadata",
            "created_at",
            "updated_at",
        ]


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
        fields = [
            "email",
            "uid",
            "role",
            "level",
            "otp",
            "state",
            "data",
            "profiles",
            "referral_uid",
            "created_at",
            "updated_at",
        ]


class UserWithKYCSerializer(UserSerializer):
    profiles = ProfileSerializer(many=True, read_only=True)
    labels = AdminLabelViewSerializer(many=True, read_only=True)
    phones = PhoneSerializer(many=True, read_only=True)
    documents = DocumentSerializer(many=True, read_only=True)
    data_storages = DataStorageSerializer(many=True, read_only=True)
    created_at = EntityTime()
    updated_at = EntityTime()

    class Meta(UserSerializer.Meta):
        fields = [
            "email",
            "uid",
            "role",
            "level",
            "otp",
            "state",
            "data",
            "profiles",
            "labels",
            "phones",
            "documents",
            "data_storages",
            "referral_uid",
            "created_at",
            "updated_at",
        ]


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
