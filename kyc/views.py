"""Resource API for KYC: profiles, documents, phones and data storage (inputs in
kyc/serializers.py; labels are accounts', accounts/views/labels.py)."""

from typing import Any

from django.core.exceptions import TooManyFilesSent
from django.db.models import QuerySet
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.full_info import user_full_info
from accounts.serializers import UserWithFullInfoSerializer
from barong.api.errors import ApiError
from barong.api.params import validate_params
from barong.api.views import RESOURCE_ACCESS_ERRORS, ResourceViewSet, barong_schema, status_only
from kyc import services
from kyc.models import Document, Phone, Profile
from kyc.serializers import (
    DataStorageCreateInput,
    DocumentCreateInput,
    DocumentEntrySerializer,
    PhoneMessageSerializer,
    PhoneSendInput,
    PhoneSerializer,
    PhoneVerifyInput,
    ProfileInput,
    ProfileSerializer,
)

# ---------------------------------------------------------------- profiles


def _profile_fields(data: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    confirm = bool(data.pop("confirm", False))
    return {k: v for k, v in data.items() if k in services.PROFILE_FIELDS}, confirm


PROFILE_MODEL_ERRORS = (
    "first_name.invalid, first_name.too_long, last_name.*, dob.invalid, address.*, "
    "postcode.invalid, postcode.too_short, city.*, country.invalid, metadata.invalid_format, "
    "resource.profile.invalid_dob"
)


class ProfileViewSet(ResourceViewSet):
    """``/resource/profiles`` (POST create, PUT edit the draft) and ``/resource/profiles/me``."""

    error_prefix = "resource.profile"

    @barong_schema(
        summary="All profiles of the current user",
        output=ProfileSerializer,
        many=True,
        errors=RESOURCE_ACCESS_ERRORS,
    )
    @action(detail=False, methods=["get"], url_path="me")
    def me(self, request):
        profiles = Profile.objects.filter(user=request.user).order_by("id")
        return Response(ProfileSerializer(profiles, many=True).data)

    @barong_schema(
        summary="Create a profile (drafted, or submitted with confirm=true)",
        input=ProfileInput,
        output=ProfileSerializer,
        status=201,
        errors={**RESOURCE_ACCESS_ERRORS, 422: f"state.exists, {PROFILE_MODEL_ERRORS}"},
    )
    def create(self, request):
        fields, confirm = _profile_fields(self.parse(ProfileInput))
        profile = services.profile_create(user=request.user, fields=fields, confirm=confirm)
        return Response(ProfileSerializer(profile).data, status=status.HTTP_201_CREATED)

    @barong_schema(
        summary="Edit the drafted profile (only the given fields)",
        input=ProfileInput,
        output=ProfileSerializer,
        errors={
            **RESOURCE_ACCESS_ERRORS,
            404: "resource.profile.doesnt_exist_or_not_editable",
            422: PROFILE_MODEL_ERRORS,
        },
    )
    def update_by_id(self, request):
        fields, confirm = _profile_fields(self.parse(ProfileInput))
        profile = services.profile_draft_update(user=request.user, fields=fields, confirm=confirm)
        return Response(ProfileSerializer(profile).data)


# ---------------------------------------------------------------- documents


class DocumentViewSet(ResourceViewSet):
    """``/resource/documents``: list and upload KYC files."""

    error_prefix = "resource.document"

    @barong_schema(
        summary="The current user's documents (upload URLs are signed and expire)",
        output=DocumentEntrySerializer,
        many=True,
        errors=RESOURCE_ACCESS_ERRORS,
    )
    def list(self, request):
        documents = Document.objects.filter(user=request.user).order_by("id")
        return Response(DocumentEntrySerializer(documents, many=True).data)

    @barong_schema(
        summary="Upload documents: one row per file, all or none",
        input=DocumentCreateInput,
        status=201,
        errors={
            **RESOURCE_ACCESS_ERRORS,
            400: "resource.documents.limit_reached, resource.documents.limit_will_be_reached",
            422: "resource.document.missing_*, resource.documents.invalid_format, "
            "resource.documents.already_expired, resource.documents.expire_not_a_date, "
            "doc_type.inclusion, doc_number.invalid, doc_number.too_long, "
            "metadata.invalid_format, upload.blank, upload.extension_whitelist_error, "
            "upload.size_range_error, upload.integrity_error, resource.documents.storage_error",
        },
    )
    def create(self, request):
        try:
            files = request.FILES.getlist("upload[]") + request.FILES.getlist("upload")
        except TooManyFilesSent as exc:  # more parts than Django parses: far over the limit
            raise ApiError("resource.documents.limit_will_be_reached", 400) from exc
        params = {k: v for k, v in self.params.items() if k not in ("upload", "upload[]")}
        if files:
            params["upload"] = files
        elif "upload" in self.params:
            params["upload"] = self.params["upload"]  # not a file: reported as invalid_upload
        data = validate_params(DocumentCreateInput, params, self.error_prefix, {"request": request})
        services.document_create_many(
            user=request.user,
            doc_type=data["doc_type"],
            doc_number=data["doc_number"],
            doc_expire=data.get("doc_expire"),
            metadata=data.get("metadata"),
            files=data["upload"],
        )
        return status_only(status.HTTP_201_CREATED)


# ---------------------------------------------------------------- phones


PHONE_SEND_ERRORS = {
    **RESOURCE_ACCESS_ERRORS,
    400: "resource.phone.invalid_num, resource.phone.number_exist, resource.phone.exists",
    422: "resource.phone.missing_phone_number|empty_phone_number, "
    "resource.phone.invalid_channel, resource.phone.num_not_reachable, "
    "resource.phone.num_not_valid, resource.phone.sms_content_invalid, "
    "resource.phone.unsubscribed_recipient, resource.phone.twilio_unexpected",
    429: "resource.phone.too_many_requests",
}


def _sent(channel: str) -> Response:
    return Response(
        {"message": f"Code was sent successfully via {channel}"}, status=status.HTTP_201_CREATED
    )


class PhoneViewSet(ResourceViewSet):
    """``/resource/phones``: add a number, resend its code, verify it."""

    error_prefix = "resource.phone"

    @barong_schema(
        summary="The current user's phones",
        output=PhoneSerializer,
        many=True,
        errors=RESOURCE_ACCESS_ERRORS,
    )
    def list(self, request):
        phones: QuerySet[Phone] = Phone.objects.filter(user=request.user).order_by("id")
        return Response(PhoneSerializer(phones, many=True).data)

    @barong_schema(
        summary="Add a phone number and send it a verification code",
        input=PhoneSendInput,
        output=PhoneMessageSerializer,
        status=201,
        errors=PHONE_SEND_ERRORS,
    )
    def create(self, request):
        data = self.parse(PhoneSendInput)
        _, channel = services.phone_create(
            user=request.user, phone_number=data["phone_number"], channel=data["channel"]
        )
        return _sent(channel)

    @barong_schema(
        summary="Send the verification code again (a new one once it expired)",
        input=PhoneSendInput,
        output=PhoneMessageSerializer,
        status=201,
        errors={**PHONE_SEND_ERRORS, 404: "resource.phone.doesnt_exist"},
    )
    @action(detail=False, methods=["post"], url_path="send_code")
    def send_code(self, request):
        data = self.parse(PhoneSendInput)
        channel = services.phone_code_send(
            user=request.user, phone_number=data["phone_number"], channel=data["channel"]
        )
        return _sent(channel)

    @barong_schema(
        summary="Verify a phone with its code: private label phone:verified",
        input=PhoneVerifyInput,
        output=UserWithFullInfoSerializer,
        status=201,
        errors={
            **RESOURCE_ACCESS_ERRORS,
            400: "resource.phone.invalid_num, resource.phone.number_exist",
            404: "resource.phone.doesnt_exist, resource.phone.verification_invalid",
            422: "resource.phone.missing_phone_number|empty_phone_number|"
            "missing_verification_code|empty_verification_code",
            429: "resource.phone.too_many_requests",
        },
    )
    @action(detail=False, methods=["post"], url_path="verify")
    def verify(self, request):
        data = self.parse(PhoneVerifyInput)
        user = services.phone_verify(
            user=request.user,
            phone_number=data["phone_number"],
            code=data["verification_code"],
        )
        return Response(user_full_info(user), status=status.HTTP_201_CREATED)


# ---------------------------------------------------------------- data storage


class DataStorageViewSet(ResourceViewSet):
    """``/resource/data_storage``: keep one JSON document per allowed title."""

    error_prefix = "resource.datastorage"

    @barong_schema(
        summary="Store a JSON document under an allowed title (label <title>:recorded)",
        input=DataStorageCreateInput,
        status=201,
        errors={
            **RESOURCE_ACCESS_ERRORS,
            422: "resource.datastorage.missing_title|empty_title|missing_data|empty_data, "
            "title.taken, title.inclusion, title.exclusion, data.invalid_format, data.too_long",
        },
    )
    def create(self, request):
        data = self.parse(DataStorageCreateInput)
        services.data_storage_create(user=request.user, title=data["title"], data=data["data"])
        return status_only(status.HTTP_201_CREATED)
