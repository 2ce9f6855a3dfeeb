"""``/resource/otp/recovery_codes``: 2FA recovery codes of the own account."""

from rest_framework import status
from rest_framework.response import Response

from accounts import security_serializers as s
from accounts.services import recovery
from accounts.services.step_up import reauthentication_check
from accounts.views.own_account import NO_STORE, REAUTHENTICATE, UNAUTHORIZED, current_session_key
from barong.api.views import ResourceViewSet, barong_schema


class RecoveryCodeViewSet(ResourceViewSet):
    """POST a TOTP code for ten new codes (the old set void); GET how many are left."""

    error_prefix = "resource.recovery_code"

    @barong_schema(
        summary="How many unused recovery codes are left",
        output=s.RecoveryCodesCountSerializer,
        errors={401: UNAUTHORIZED, 429: "resource.recovery_code.too_many_requests"},
    )
    def list(self, request):
        return Response({"count": recovery.recovery_codes_count(user=request.user)})

    @barong_schema(
        summary="Ten new single-use recovery codes (shown once); the previous ones stop working",
        input=s.RecoveryCodesInput,
        output=s.RecoveryCodesSerializer,
        status=201,
        errors={
            400: "resource.recovery_code.not_enabled (2FA is off)",
            401: REAUTHENTICATE,
            422: "resource.recovery_code.missing_code, empty_code, invalid_otp",
            429: "resource.recovery_code.too_many_requests",
        },
    )
    def create(self, request):
        reauthentication_check(request=request, session_key=current_session_key(request))
        params = self.parse(s.RecoveryCodesInput)
        codes = recovery.recovery_codes_generate(
            user=request.user, code=params["code"], request=request
        )
        return Response({"codes": codes}, status=status.HTTP_201_CREATED, headers=NO_STORE)
