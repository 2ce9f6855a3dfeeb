"""Confirmations bound to an operation: the upstream's management calls and the user's
resource calls (the page is management/pages.py). Each handler calls one service."""

from typing import Any

from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.models import User
from barong.api.errors import ApiError
from barong.api.views import ResourceViewSet, barong_schema
from management import confirmations
from management.base import ManagementView, user_by_uid
from management.models import Confirmation
from management.params import Param
from management.schema import management_operation

NO_STORE = {"Cache-Control": "no-store"}
UNAUTHORIZED = "Invalid bearer token or session"


class OperationSerializer(serializers.Serializer):
    """The normalised operation, exactly as hashed (management/confirmations.py)."""

    type = serializers.CharField()
    asset = serializers.CharField()
    amount = serializers.CharField(help_text="Canonical decimal: no exponent, no trailing zeros")
    destination = serializers.CharField()
    nonce = serializers.CharField()
    uid = serializers.CharField()


class ConfirmationSerializer(serializers.Serializer):
    """What the user's client and the page show: the operation and how to confirm it."""

    cid = serializers.CharField()
    state = serializers.SerializerMethodField(
        help_text="pending, confirmed, rejected, failed or expired"
    )
    operation = OperationSerializer()
    digest = serializers.CharField(help_text="SHA-256 (hex) of the canonical operation")
    expires_at = serializers.DateTimeField()
    methods = serializers.SerializerMethodField(
        help_text="otp and/or hwk (a passkey), RFC 8176 names as in the session JWT's amr"
    )

    def get_state(self, row: Confirmation) -> str:
        return confirmations.confirmation_state(row)

    def get_methods(self, row: Confirmation) -> list[str]:
        return confirmations.confirmation_methods(user=row.user)


class ConfirmationTokenSerializer(ConfirmationSerializer):
    """A confirmed operation with its signed confirmation."""

    method = serializers.CharField()
    confirmation = serializers.CharField(
        source="token", help_text="JWT signed with the key of GET /api/v2/management/jwks"
    )


class ConfirmationStatusSerializer(ConfirmationSerializer):
    """The upstream's view: also who, how, when, and the signed confirmation once given."""

    uid = serializers.CharField(source="user.uid")
    method = serializers.CharField()
    attempts = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    path = serializers.SerializerMethodField(help_text="The confirmation page on this server")
    confirmation = serializers.SerializerMethodField(help_text="The signed JWT, once confirmed")

    def get_path(self, row: Confirmation) -> str:
        return f"/confirmations/{row.cid}"

    def get_confirmation(self, row: Confirmation) -> str | None:
        return row.token or None


# ---------------------------------------------------------------- management API

REQUEST_PARAMS = (
    Param("uid", type="raw", required=True),
    Param("type", type="raw", required=True),
    Param("asset", type="raw", required=True),
    Param("amount", type="raw", required=True),
    Param("destination", type="raw", required=True),
    Param("nonce", type="raw", required=True),
)
GET_PARAMS = (Param("cid", type="raw", required=True),)


def _user(params: dict[str, Any]) -> User:
    uid = params.get("uid")
    if uid in (None, ""):
        raise ApiError("management.confirmation.missing_uid")
    if not isinstance(uid, str) or len(uid) > 64 or "\x00" in uid:
        raise ApiError("management.confirmation.invalid_uid")
    return user_by_uid(uid, missing=ApiError("management.confirmation.user_not_found", 404))


class ConfirmationsView(ManagementView):
    @management_operation(
        scope="write_confirmations",
        summary="Ask the user to confirm one operation (a passkey or TOTP bound to its hash)",
        params=REQUEST_PARAMS,
        output=ConfirmationStatusSerializer,
        status=201,
    )
    def post(self, request):
        return confirmations.confirmation_request(
            user=_user(self.params), fields=self.params, signers=self.signers, request=request
        )


class ConfirmationsGetView(ManagementView):
    @management_operation(
        scope="read_confirmations",
        summary="A confirmation's state, and its signed JWT once the user confirmed",
        params=GET_PARAMS,
        output=ConfirmationStatusSerializer,
        status=200,
    )
    def post(self, request):
        return confirmations.confirmation_get(
            cid=self.params.get("cid"), prefix=confirmations.MANAGEMENT
        )


# ---------------------------------------------------------------- resource API


class ConfirmInput(serializers.Serializer):
    digest = serializers.CharField(max_length=64, help_text="The hash shown with the operation")
    otp_code = serializers.CharField(required=False, max_length=16)
    credential = serializers.DictField(
        required=False, help_text="PublicKeyCredential (JSON) over the challenge = digest"
    )


class RejectInput(serializers.Serializer):
    digest = serializers.CharField(max_length=64)


class EmptyInput(serializers.Serializer):
    pass


class OptionsOutput(serializers.Serializer):
    publicKey = serializers.DictField(help_text="PublicKeyCredentialRequestOptions, JSON-encoded")


COMMON_ERRORS = {
    401: UNAUTHORIZED,
    404: "resource.confirmation.not_found",
    409: "resource.confirmation.not_pending",
    410: "resource.confirmation.expired",
}


class ConfirmationViewSet(ResourceViewSet):
    """The user's side: read the operation, get passkey options, confirm or reject."""

    error_prefix = "resource.confirmation"
    lookup_value_regex = r"[A-Za-z0-9_-]{1,64}"

    @barong_schema(
        summary="One of the caller's confirmations: the operation, its hash, the methods",
        output=ConfirmationSerializer,
        errors={401: UNAUTHORIZED, 404: "resource.confirmation.not_found"},
    )
    def retrieve(self, request, pk=None):
        row = confirmations.confirmation_get(cid=pk, user=request.user)
        return Response(ConfirmationSerializer(row).data, headers=NO_STORE)

    @barong_schema(
        summary="Passkey options whose challenge is the operation's hash",
        input=EmptyInput,
        output=OptionsOutput,
        status=201,
        errors={**COMMON_ERRORS, 422: "resource.confirmation.webauthn_not_registered"},
    )
    @action(detail=True, methods=["post"], url_path="webauthn")
    def webauthn(self, request, pk=None):
        options = confirmations.confirmation_webauthn_options(user=request.user, cid=pk)
        return Response(options, status=status.HTTP_201_CREATED, headers=NO_STORE)

    @barong_schema(
        summary="Confirm with a TOTP code or a passkey assertion; answers the signed JWT",
        input=ConfirmInput,
        output=ConfirmationTokenSerializer,
        status=201,
        errors={
            **COMMON_ERRORS,
            422: "resource.confirmation.digest_mismatch, invalid_otp, invalid_webauthn, "
            "too_many_attempts, missing_factor",
            429: "resource.confirmation.too_many_requests",
            503: "resource.confirmation.unavailable",
        },
    )
    @action(detail=True, methods=["post"], url_path="confirm")
    def confirm(self, request, pk=None):
        data = self.parse(ConfirmInput)
        row = confirmations.confirmation_confirm(
            user=request.user,
            cid=pk,
            digest=data["digest"],
            otp_code=data.get("otp_code"),
            credential=data.get("credential"),
            request=request,
        )
        return Response(
            ConfirmationTokenSerializer(row).data, status=status.HTTP_201_CREATED, headers=NO_STORE
        )

    @barong_schema(
        summary="Refuse the operation: it can no longer be confirmed",
        input=RejectInput,
        output=ConfirmationSerializer,
        status=201,
        errors={**COMMON_ERRORS, 422: "resource.confirmation.digest_mismatch"},
    )
    @action(detail=True, methods=["post"], url_path="reject")
    def reject(self, request, pk=None):
        data = self.parse(RejectInput)
        row = confirmations.confirmation_reject(
            user=request.user, cid=pk, digest=data["digest"], request=request
        )
        return Response(ConfirmationSerializer(row).data, status=status.HTTP_201_CREATED)
