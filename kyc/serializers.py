"""KYC entities and the user views that carry KYC data."""

from django.core.files.storage import default_storage
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import User
from accounts.serializers import UserSerializer
from barong.api.fields import EntityTime, RawTime
from kyc.models import DataStorage, Document, Label, Level, Phone, Profile


class LabelSerializer(serializers.ModelSerializer):
    created_at = EntityTime()
    updated_at = EntityTime()

    class Meta:
        model = Label
        fields = ["key", "value", "scope", "created_at", "updated_at"]


class AdminLabelViewSerializer(serializers.ModelSerializer):
    created_at = EntityTime()
    updated_at = EntityTime()

    class Meta:
        model = Label
        fields = ["key", "value", "scope", "description", "created_at", "updated_at"]


class ProfileSerializer(serializers.ModelSerializer):
    dob = serializers.DateField(format="%Y-%m-%d", read_only=True)
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
    validated_at = RawTime()

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
    doc_expire = serializers.DateField(format="%Y-%m-%d", read_only=True)
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


class UserWithFullInfoSerializer(UserSerializer):
    """What login and ``users/me`` answer; ``csrf_token`` only when a session was just opened."""

    csrf_token = serializers.SerializerMethodField()
    labels = LabelSerializer(many=True, read_only=True)
    phones = PhoneSerializer(many=True, read_only=True)
    profiles = ProfileSerializer(many=True, read_only=True)
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
            "referral_uid",
            "csrf_token",
            "data",
            "created_at",
            "updated_at",
            "labels",
            "phones",
            "profiles",
            "data_storages",
        ]

    def get_csrf_token(self, user: User) -> str | None:
        return self.context.get("csrf_token")

    def to_representation(self, user: User):
        body = super().to_representation(user)
        if not self.context.get("csrf_token"):
            body.pop("csrf_token", None)
        return body


class LevelSerializer(serializers.ModelSerializer):
    """Barong's Level entity: ``id`` is the level number."""

    class Meta:
        model = Level
        fields = ["id", "key", "value"]
