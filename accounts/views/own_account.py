"""Resource API of the own account: ``users/me``, ``users/activity``, ``users/password`` and
the four ``otp/*`` operations."""

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts import resource_serializers as s
from accounts import services
from accounts.authentication import SESSION_CLAIM
from accounts.full_info import user_full_info
from accounts.serializers import EmptySerializer, UserWithFullInfoSerializer
from accounts.services import otp
from accounts.services.step_up import reauthentication_check
from accounts.sessions import user_session_key_find
from activities.selectors import user_own_activities
from barong.api.errors import ApiError
from barong.api.pagination import BarongPagination
from barong.api.views import ResourceViewSet, barong_schema, status_only

ACTIVITY_TOPICS = ("all", "session", "otp", "password", "account")
UNAUTHORIZED = "Invalid bearer token or session"
REAUTHENTICATE = (
    f"{UNAUTHORIZED}; resource.session.reauthentication_required (the session authenticated"
    " longer than BARONG_REAUTH_MAX_AGE seconds ago: step up at /resource/sessions/step_up)"
)
NO_STORE = {"Cache-Control": "no-store"}
PAGE_PARAMETERS = [
    OpenApiParameter("page", OpenApiTypes.INT, description="Page number (defaults to 1)."),
    OpenApiParameter(
        "limit",
        OpenApiTypes.INT,
        description="Number of items per page (defaults to 100, maximum is 100).",
    ),
]


def current_session_key(request) -> str | None:
    """The key of the session this call came from: the one its Bearer token is bound to
    (``sid``), else the cookie's when it belongs to the caller. A password change or 2FA
    switched on ends the user's other sessions, and keeps this one."""
    claims = getattr(request, "auth", None)
    if isinstance(claims, dict) and isinstance(claims.get(SESSION_CLAIM), str):
        return user_session_key_find(request.user.uid, session_id=claims[SESSION_CLAIM])
    django_request = getattr(request, "_request", request)
    if settings.SESSION_COOKIE_NAME not in django_request.COOKIES:
        return None
    session = django_request.session
    if session.get("uid") != request.user.uid:
        return None
    return session.session_key


class UserResourceViewSet(ResourceViewSet):
    """``/resource/users/me`` (GET, PUT, DELETE), ``users/activity/{topic}``, ``users/password``."""

    error_prefix = "resource.user"

    @barong_schema(
        summary="Returns current user",
        output=UserWithFullInfoSerializer,
        errors={401: UNAUTHORIZED, 404: "User of the token is not found"},
    )
    @action(detail=False, methods=["get"], url_path="me")
    def me(self, request):
        return Response(user_full_info(request.user))

    @barong_schema(
        summary="Updates current user data field (other fields of the body are ignored)",
        input=s.UserDataInput,
        output=UserWithFullInfoSerializer,
        status=201,
        errors={
            401: UNAUTHORIZED,
            422: "resource.user.missing_data, empty_data, data.invalid_format, data.too_long",
            429: "resource.user.too_many_requests",
        },
    )
    @me.mapping.put
    def me_update(self, request):
        params = self.parse(s.UserDataInput)
        user = services.user_own_data_set(user=request.user, data=params["data"], request=request)
        return Response(user_full_info(user), status=status.HTTP_201_CREATED)

    @barong_schema(
        summary="Deletes the current account (password and, with 2FA on, otp_code)",
        input=s.UserDeleteInput,
        output=EmptySerializer,
        query=True,
        errors={
            401: UNAUTHORIZED,
            422: "resource.user.invalid_password, missing_otp_code, empty_otp_code, invalid_otp",
            429: "resource.user.too_many_requests",
        },
    )
    @me.mapping.delete
    def me_delete(self, request):
        params = self.parse(s.UserDeleteInput)
        services.user_self_delete(
            user=request.user, password=params["password"], otp_code=params.get("otp_code")
        )
        if current_session_key(request) is not None:
            request.session.flush()  # this very session ends too; the cookie is cleared
        return status_only(status.HTTP_200_OK)

    @barong_schema(
        summary="Returns user activity (newest first)",
        output=s.ActivityRowSerializer,
        many=True,
        parameters=[
            OpenApiParameter(
                "topic",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                enum=list(ACTIVITY_TOPICS),
                description="Topic of user activity",
            ),
            *PAGE_PARAMETERS,
        ],
        errors={
            401: UNAUTHORIZED,
            422: "resource.user.wrong_topic, resource.user.no_activity, pagination keys",
        },
    )
    @action(detail=False, methods=["get"], url_path=r"activity/(?P<topic>[^/]+)")
    def activity(self, request, topic: str):
        BarongPagination().parse(self.params)  # Barong validates page/limit before the body
        if topic not in ACTIVITY_TOPICS:
            raise ApiError("resource.user.wrong_topic")
        # Newest first in the order of the (user, created_at, id) index: an operator's own
        # list (a row for each of their actions) reads one page of it, not every row.
        rows = user_own_activities(request.user).order_by("-created_at", "-id")
        if topic != "all":
            rows = rows.filter(topic=topic)
        if not rows.values_list("pk", flat=True)[:1]:  # in order: the user's index
            raise ApiError("resource.user.no_activity")
        return self.paginated(rows, s.ActivityRowSerializer)

    @barong_schema(
        summary="Sets new account password",
        input=s.PasswordChangeInput,
        output=EmptySerializer,
        status=201,
        errors={
            400: "resource.password.prev_pass_not_correct, resource.password.no_change_provided",
            401: UNAUTHORIZED,
            422: "resource.password.doesnt_match, password.requirements|weak|too_long",
            429: "resource.password.too_many_requests",
        },
    )
    @action(detail=False, methods=["put"], url_path="password")
    def password(self, request):
        params = self.parse(s.PasswordChangeInput)
        services.user_password_change(
            user=request.user,
            old_password=params["old_password"],
            new_password=params["new_password"],
            confirm_password=params["confirm_password"],
            request=request,
            keep_session=current_session_key(request),
            lang=params.get("lang"),
        )
        return status_only(status.HTTP_201_CREATED)


def otp_code_schema(summary: str, answer: int, state_error: str, unauthorized=UNAUTHORIZED):
    """The OTP actions that take a code: the same input, answer and errors but the state
    (2FA on or off) each refuses with 400."""
    return barong_schema(
        summary=summary,
        input=s.OTPCodeInput,
        output=EmptySerializer,
        status=answer,
        errors={
            400: state_error,
            401: unauthorized,
            422: "resource.otp.missing_code, empty_code, invalid",
            429: "resource.otp.too_many_requests",
        },
    )


class OTPViewSet(ResourceViewSet):
    """``/resource/otp/generate_qrcode``, ``enable``, ``disable`` and ``verify`` (TOTP 2FA)."""

    error_prefix = "resource.otp"

    @barong_schema(
        summary="Generate qr code for 2FA",
        output=s.QRCodeSerializer,
        status=201,
        errors={400: "resource.otp.already_enabled", 401: UNAUTHORIZED},
    )
    @action(detail=False, methods=["post"], url_path="generate_qrcode")
    def generate_qrcode(self, request):
        data = otp.otp_qrcode_generate(user=request.user, request=request)
        return Response({"data": data}, status=status.HTTP_201_CREATED, headers=NO_STORE)

    def _code(self) -> str:
        return self.parse(s.OTPCodeInput)["code"]

    @otp_code_schema(
        "Enable 2FA",
        201,
        "resource.otp.already_enabled",
        unauthorized=f"{REAUTHENTICATE}, only with BARONG_REAUTH_OTP_ENABLE",
    )
    @action(detail=False, methods=["post"], url_path="enable")
    def enable(self, request):
        keep_session = current_session_key(request)
        reauthentication_check(request=request, session_key=keep_session, otp_enable=True)
        otp.otp_enable(
            user=request.user, code=self._code(), request=request, keep_session=keep_session
        )
        return status_only(status.HTTP_201_CREATED)

    @otp_code_schema("Disable 2FA", 200, "resource.otp.not_enabled")
    @action(detail=False, methods=["post"], url_path="disable")
    def disable(self, request):
        otp.otp_disable(user=request.user, code=self._code(), request=request)
        return status_only(status.HTTP_200_OK)

    @otp_code_schema(
        "Verify 2FA code", 201, "resource.otp.already_enabled (sic: 2FA is not enabled)"
    )
    @action(detail=False, methods=["post"], url_path="verify")
    def verify(self, request):
        otp.otp_code_check(user=request.user, code=self._code(), request=request)
        return status_only(status.HTTP_201_CREATED)
