"""Management users, profiles, documents, otp/sign and timestamp endpoints."""

import base64
import binascii
import time
from typing import Any, ClassVar

from django.core.files.base import ContentFile
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from accounts.selectors import user_ids_page
from accounts.serializers import JWKSetSerializer, UserSerializer
from accounts.services import email_normalize
from barong.api.errors import ApiError
from kyc.models import Phone
from kyc.phones import phone_number_parse
from kyc.selectors import users_for_entity
from kyc.serializers import UserWithKYCSerializer, UserWithProfileSerializer
from management import services
from management.base import (
    ManagementView,
    management_exception_handler,
    sentence_error,
    time_bounds,
    user_by_uid,
    users_page,
)
from management.keys import management_jwks
from management.params import (
    EXTENDED,
    PAGINATION,
    RANGES,
    TIME_PERIOD,
    USER_UID,
    ManagementError,
    Param,
)
from management.schema import management_operation

PROFILE_PARAMS = (
    Param("first_name", allow_blank=False),
    Param("last_name", allow_blank=False),
    Param("dob", type="date", allow_blank=False),
    Param("address", allow_blank=False),
    Param("postcode", allow_blank=False),
    Param("city", allow_blank=False),
    Param("country", allow_blank=False),
    Param("state", allow_blank=False),
)


# ---------------------------------------------------------------- users


USER_GET_PARAMS = (
    Param("uid", allow_blank=False),
    Param("email", allow_blank=False),
    Param("phone_num", allow_blank=False),
)


def _user_by_phone(raw: str) -> User:
    parsed = phone_number_parse(raw)
    phones = Phone.objects.filter(number=parsed.number) if parsed else Phone.objects.none()
    phone = phones.filter(validated_at__isnull=False).first() or phones.order_by("id").first()
    if phone is None:
        raise ManagementError("Record is not found", 404)
    return phone.user


class UsersGetView(ManagementView):
    @management_operation(
        scope="read_users",
        summary="One user with KYC details, by exactly one of uid, email or phone_num",
        params=USER_GET_PARAMS,
        exactly_one_of=("uid", "email", "phone_num"),
        output=UserWithKYCSerializer,
        status=201,
    )
    def post(self, request):
        data = self.params
        if "phone_num" in data:
            user = _user_by_phone(data["phone_num"])
        elif "uid" in data:
            user = user_by_uid(data["uid"])
        else:
            user = User.objects.filter(email=email_normalize(data["email"])).first()
            if user is None:
                raise ManagementError("Record is not found", 404)
        return users_for_entity(User.objects.filter(pk=user.pk), UserWithKYCSerializer).get()


USER_LIST_PARAMS = (
    EXTENDED,
    Param("range", default="created", values=RANGES, values_message="Non positive page"),
    *TIME_PERIOD,
    *PAGINATION,
)


class UsersListView(ManagementView):
    @management_operation(
        scope="read_users",
        summary="Every user, optionally within a created/updated time range (paginated)",
        params=USER_LIST_PARAMS,
        output=UserSerializer(many=True),
        status=200,
    )
    def post(self, request):
        data = self.params
        users = time_bounds(User.objects.order_by("id"), data)
        # All users: the per-block counts give the total and the page's ids (as /admin/users).
        narrowed = "from" in data or "to" in data
        return users_page(users, data, positions=None if narrowed else user_ids_page)


USER_CREATE_PARAMS = (
    Param("email", required=True, allow_blank=False),
    Param("password", required=True, allow_blank=False),
    Param("referral_uid", allow_blank=False),
)


class UsersView(ManagementView):
    @management_operation(
        scope="write_users",
        summary="Create a pending member with a password",
        params=USER_CREATE_PARAMS,
        output=UserWithProfileSerializer,
        status=201,
    )
    def post(self, request):
        data = self.params
        return services.user_management_create(
            email=data["email"],
            password=data["password"],
            referral_uid=data.get("referral_uid"),
            signers=self.signers,
            request=request,
        )


USER_IMPORT_PARAMS = (
    Param("email", required=True, allow_blank=False),
    Param("password_digest", required=True, allow_blank=False),
    Param("referral_uid", allow_blank=False),
    Param("phone", allow_blank=False),
    *PROFILE_PARAMS,
)


class UsersImportView(ManagementView):
    @management_operation(
        scope="write_users",
        summary="Import a Barong user with their bcrypt password_digest, phone and profile",
        params=USER_IMPORT_PARAMS,
        output=UserWithProfileSerializer,
        status=201,
    )
    def post(self, request):
        data = self.params
        profile = {p.name: data[p.name] for p in PROFILE_PARAMS if p.name in data}
        user = services.user_management_import(
            email=data["email"],
            password_digest=data["password_digest"],
            referral_uid=data.get("referral_uid"),
            phone=data.get("phone"),
            profile=profile,
            signers=self.signers,
            request=request,
        )
        return users_for_entity(User.objects.filter(pk=user.pk), UserWithProfileSerializer).get()


USER_UPDATE_PARAMS = (
    Param("uid", required=True, allow_blank=False),
    Param("data", required=True, allow_blank=False),
)


def _user_or_doesnt_exist(uid: str) -> User:
    return user_by_uid(uid, missing=ManagementError("user.doesnt_exist", 422))


class UsersUpdateView(ManagementView):
    @management_operation(
        scope="write_users",
        summary="Replace a user's data (a JSON document as text)",
        params=USER_UPDATE_PARAMS,
        output=UserWithProfileSerializer,
        status=201,
    )
    def post(self, request):
        data = self.params
        user = _user_or_doesnt_exist(data["uid"])
        return services.user_management_data_set(
            user=user, data=data["data"], signers=self.signers, request=request
        )


PROFILE_CREATE_PARAMS = (
    Param("uid", required=True, allow_blank=False),
    *PROFILE_PARAMS,
    Param("metadata", allow_blank=False),
)


class ProfilesView(ManagementView):
    @management_operation(
        scope="write_users",
        summary="Create a profile for a user, in the given state (drafted by default)",
        params=PROFILE_CREATE_PARAMS,
        output=UserWithProfileSerializer,
        status=201,
    )
    def post(self, request):
        data = self.params
        user = _user_or_doesnt_exist(data.pop("uid"))
        services.profile_management_create(
            user=user, fields=data, signers=self.signers, request=request
        )
        return users_for_entity(User.objects.filter(pk=user.pk), UserWithProfileSerializer).get()


# ---------------------------------------------------------------- tools, otp, documents


class TimestampView(ManagementView):
    @management_operation(
        scope="tools",
        summary="Server time in seconds since the Unix epoch",
        params=(),
        output={"type": "object", "properties": {"timestamp": {"type": "integer"}}},
        status=200,
    )
    def post(self, request):
        return {"timestamp": int(time.time())}


OTP_SIGN_PARAMS = (
    USER_UID,
    Param("otp_code", required=True, allow_blank=False),
    Param("jwt", type="hash", required=True, allow_blank=False),
)


class OtpSignView(ManagementView):
    @management_operation(
        scope="otp_sign",
        summary="Check the user's TOTP code once and countersign a management call's JWS "
        "(RS256, the key of /management/jwks)",
        params=OTP_SIGN_PARAMS,
        output="jws",
        status=201,
    )
    def post(self, request):
        data = self.params
        user = user_by_uid(data["user_uid"], User.objects.filter(state=User.State.ACTIVE))
        signed = services.otp_sign(
            user=user,
            otp_code=data["otp_code"],
            jws=data["jwt"],
            signers=self.signers,
            request=request,
        )
        return signed


class ManagementJwksView(APIView):
    """``GET /management/jwks``: the one unsigned management route, public on purpose.

    Services that check otp/sign's ``barong`` signature (Peatio's withdrawals) fetch or
    pin this key. It is not the JWT key's set (``/identity/jwks``): a gateway or upstream
    trusting that set must never accept what otp/sign signed.
    """

    authentication_classes: ClassVar[list] = []
    permission_classes: ClassVar[list] = []

    def get_exception_handler(self):
        return management_exception_handler

    @extend_schema(
        summary="Public key of otp/sign's barong signature (a JWK set; not the JWT key)",
        responses={200: JWKSetSerializer},
        auth=[],
    )
    def get(self, request):
        return Response(management_jwks(), status=200)


DOCUMENT_PARAMS = (
    Param("uid", required=True, allow_blank=False),
    Param("doc_type", required=True, allow_blank=False),
    Param("doc_number", required=True, allow_blank=False),
    Param("filename", required=True, allow_blank=False),
    Param("file_ext", required=True, allow_blank=False),
    Param("upload", required=True),
    Param("doc_expire", type="date", type_message="management.documents.expire_not_a_date"),
    Param(
        "update_labels",
        type="boolean",
        default=True,
        type_message="management.documents.update_labels_inalid",
    ),
    Param("metadata"),
)


def _upload_file(data: dict[str, Any]) -> ContentFile:
    """The base64 ``upload`` as a file named ``filename`` + ``file_ext``."""
    try:
        content = base64.b64decode(data["upload"], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ManagementError("upload is invalid", 422) from exc
    extension = data["file_ext"] if data["file_ext"].startswith(".") else f".{data['file_ext']}"
    return ContentFile(content, name=f"{data['filename']}{extension}")


class DocumentsView(ManagementView):
    @management_operation(
        scope="write_documents",
        summary="Push a KYC document (base64 upload) for a user (answers {})",
        params=DOCUMENT_PARAMS,
        output=None,
        status=201,
    )
    def post(self, request):
        data = self.params
        user = user_by_uid(data["uid"])
        upload = _upload_file(data)
        try:
            services.document_management_create(
                user=user,
                doc_type=data["doc_type"],
                doc_number=data["doc_number"],
                doc_expire=data.get("doc_expire"),
                metadata=data.get("metadata"),
                upload=upload,
                update_labels=data["update_labels"],
                signers=self.signers,
                request=request,
            )
        except ApiError as exc:
            raise sentence_error(exc) from exc
        return
