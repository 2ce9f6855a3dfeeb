"""Identity API (public): general endpoints, sessions and users."""

import time

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts import serializers as s
from accounts import services
from accounts.captcha import captcha_verify, geetest_register
from accounts.full_info import user_full_info
from accounts.passwords import password_entropy, password_regexp
from accounts.services.login import login_methods, user_login
from accounts.services.login_policy import (
    login_account,
    login_attempt,
    login_failed,
    login_reset_ops,
)
from accounts.sessions import AMR_EMAIL, session_destroy, session_open
from barong import jwt as barong_jwt
from barong.api.errors import ApiError
from barong.api.net import remote_ip
from barong.api.views import BarongViewSet, barong_schema, status_only
from barong.metrics import LOGINS
from barong.ratelimit import rate_limit_hit, rate_limits_hit

START_TIME = timezone.now()


class GeneralViewSet(BarongViewSet):
    """``/identity/ping``, ``time``, ``version``, ``configs``, ``password/validate``, ``jwks``."""

    error_prefix = "identity.general"

    @barong_schema(summary="Test connectivity", output=s.PingSerializer)
    @action(detail=False, methods=["get"], url_path="ping")
    def ping(self, request):
        return Response({"ping": "pong"})

    @barong_schema(summary="Current server time (unix seconds)", output=s.TimeSerializer)
    @action(detail=False, methods=["get"], url_path="time")
    def server_time(self, request):
        return Response({"time": int(time.time())})

    @barong_schema(summary="Running version", output=s.VersionSerializer)
    @action(detail=False, methods=["get"], url_path="version")
    def version(self, request):
        return Response(
            {
                "git_tag": settings.BARONG_GIT_TAG,
                "git_sha": settings.BARONG_GIT_SHA or "unknown",
                "build_date": settings.BARONG_BUILD_DATE or START_TIME.isoformat(),
                "version": settings.BARONG_GIT_TAG,
            }
        )

    @barong_schema(summary="Public configuration for front ends", output=s.ConfigsSerializer)
    @action(detail=False, methods=["get"], url_path="configs")
    def configs(self, request):
        body = {
            "session_expire_time": settings.BARONG_SESSION_EXPIRE_TIME,
            "captcha_type": settings.BARONG_CAPTCHA,
            "phone_verification_type": settings.BARONG_PHONE_VERIFICATION,
            "password_min_entropy": settings.BARONG_PASSWORD_MIN_ENTROPY,
            "password_regexp": password_regexp(),
        }
        if settings.BARONG_CAPTCHA == "recaptcha":
            body["captcha_id"] = settings.BARONG_RECAPTCHA_SITE_KEY
        return Response(body)

    @barong_schema(
        summary="Password strength (log2 of zxcvbn guesses)",
        input=s.PasswordValidateInput,
        output=s.EntropySerializer,
        status=201,
        errors={422: "Missing password"},
    )
    @action(detail=False, methods=["post"], url_path="password/validate")
    def password_validate(self, request):
        data = self.parse(s.PasswordValidateInput)
        return Response(
            {"entropy": password_entropy(data["password"])}, status=status.HTTP_201_CREATED
        )

    @barong_schema(summary="Public keys that verify Barong's JWTs", output=s.JWKSetSerializer)
    @action(detail=False, methods=["get"], url_path="jwks")
    def jwks(self, request):
        return Response(barong_jwt.jwks())


USER_EXAMPLE = {
    "email": "ada@example.com",
    "uid": "ID0A1B2C3D4E",
    "role": "member",
    "level": 1,
    "otp": False,
    "state": "active",
    "referral_uid": None,
    "csrf_token": "8e1f6b6d4a3c2b1a0f9e",
    "data": None,
    "created_at": "2026-01-01T12:00:00Z",
    "updated_at": "2026-01-01T12:00:00Z",
    "labels": [{"key": "email", "value": "verified", "scope": "private"}],
    "phones": [],
    "profiles": [],
    "data_storages": [],
}
CREDENTIALS = {"email": "ada@example.com", "password": "Correct-Horse-Battery-9"}


def _examples(request: dict, response: dict, status: int) -> list[OpenApiExample]:
    return [
        OpenApiExample("request", value=request, request_only=True),
        OpenApiExample(
            "answer (send csrf_token back as X-CSRF-Token with the cookie)",
            value=response,
            response_only=True,
            status_codes=[str(status)],
        ),
    ]


LOGIN_ERRORS = {
    401: "Unknown e-mail, wrong password (identity.session.invalid_params), the account is"
    " banned, deleted or not active, or 2FA is on and no code came"
    " (identity.session.missing_otp: ask for the code and send it again)",
    403: "2FA is on and the code is wrong (identity.session.invalid_otp, invalid_recovery_code)",
    422: "Missing parameters, invalid captcha format or failed captcha",
    400: "Captcha required or incomplete",
    429: "Too many login attempts from this address or for this account",
}


class SessionViewSet(BarongViewSet):
    """``/identity/sessions``: log in (POST) and log out (DELETE) with the session cookie."""

    error_prefix = "identity.session"

    @barong_schema(
        summary="Log in: opens a session cookie and answers the user with its CSRF token",
        input=s.SessionCreateInput,
        output=s.UserWithFullInfoSerializer,
        status=200,
        errors=LOGIN_ERRORS,
        examples=_examples({**CREDENTIALS, "otp_code": "123456"}, USER_EXAMPLE, 200),
    )
    def create(self, request):
        try:
            response = self._login(request)
        except ApiError as exc:
            LOGINS.labels(outcome=exc.keys[0]).inc()
            raise
        LOGINS.labels(outcome="success").inc()
        return response

    def _login(self, request) -> Response:
        data = self.parse(s.SessionCreateInput)
        # The one login policy (accounts/services/login_policy.py), as at the passkey and
        # back-office doors: the address counted, the account's failure budgets read.
        attempt = login_attempt(
            request=request, email=data["email"], captcha_response=data.get("captcha_response")
        )
        try:
            user = user_login(
                email=data["email"],
                password=data["password"],
                otp_code=data.get("otp_code"),
                recovery_code=data.get("recovery_code"),
                request=request,
            )
        except ApiError as exc:
            if exc.keys == ["identity.session.invalid_params"]:
                login_failed(attempt)
            raise
        amr = login_methods(
            user=user, otp_code=data.get("otp_code"), recovery_code=data.get("recovery_code")
        )
        # The resets are written with the session, in one round trip.
        csrf_token = session_open(request, user, amr=amr, also=login_reset_ops(attempt))
        return Response(user_full_info(user, csrf_token=csrf_token), status=status.HTTP_200_OK)

    @barong_schema(
        summary="Log out: ends the session of the cookie",
        output=s.EmptySerializer,
        errors={404: "No session (identity.session.not_found)"},
    )
    def destroy_by_id(self, request):
        services.user_logout(uid=request.session.get("uid"), request=request)
        session_destroy(request)
        return status_only(status.HTTP_200_OK)


# The two e-mailed codes (confirmation, password reset) take and answer the same.
EMAIL_CODE = {
    "input": s.UserEmailInput,
    "output": s.EmptySerializer,
    "status": 201,
    "errors": {400: "Captcha required", 422: "Missing e-mail", 429: "Too many requests"},
}


class UserViewSet(BarongViewSet):
    """``/identity/users``: sign-up, e-mail confirmation, password reset, GeeTest."""

    error_prefix = "identity.user"

    def _limit_email_codes(self, email: str) -> None:
        rate_limits_hit(
            [
                ("email_code_ip", remote_ip(self.request)),
                ("email_code_account", login_account(email)),
            ],
            error_key="identity.user.too_many_requests",
        )

    @barong_schema(
        summary="Sign up: a pending user, logged in at once; a confirmation e-mail follows",
        input=s.UserCreateInput,
        output=s.UserWithFullInfoSerializer,
        status=201,
        errors={
            400: "Captcha required or incomplete",
            422: "Missing parameters, bad referral, model keys (email.taken, password.weak, …)",
            429: "Too many sign-ups from this address",
        },
        examples=_examples(CREDENTIALS, {**USER_EXAMPLE, "state": "pending", "level": 0}, 201),
    )
    def create(self, request):
        data = self.parse(s.UserCreateInput)
        rate_limit_hit("signup_ip", remote_ip(request), error_key="identity.user.too_many_requests")
        captcha_verify(endpoint="user_create", response=data.get("captcha_response"))
        refid = data.get("refid")
        referral = services.referral_find(refid=refid) if refid else None
        user = services.user_register(
            email=data["email"],
            password=data["password"],
            data=data.get("data"),
            referral=referral,
            lang=data.get("lang"),
            request=request,
        )
        csrf_token = session_open(request, user)
        return Response(user_full_info(user, csrf_token=csrf_token), status=status.HTTP_201_CREATED)

    @barong_schema(
        summary="GeeTest challenge for the captcha widget (empty challenge when unavailable)",
        output=s.GeetestRegisterSerializer,
    )
    @action(detail=False, methods=["get"], url_path="register_geetest")
    def register_geetest(self, request):
        return Response(geetest_register())

    def _email_code_send(self, endpoint: str, send) -> Response:
        """Both e-mailed codes: limited per address and account, behind the endpoint's captcha,
        201 whatever the e-mail (no enumeration)."""
        data = self.parse(s.UserEmailInput)
        self._limit_email_codes(data["email"])
        captcha_verify(endpoint=endpoint, response=data.get("captcha_response"))
        send(email=data["email"], lang=data.get("lang"), request=self.request)
        return status_only(status.HTTP_201_CREATED)

    @barong_schema(
        summary="Send the confirmation e-mail again (201 whatever the e-mail)", **EMAIL_CODE
    )
    @action(detail=False, methods=["post"], url_path="email/generate_code")
    def email_generate_code(self, request):
        return self._email_code_send("email_confirmation", services.user_email_confirmation_request)

    @barong_schema(
        summary="Confirm the e-mail with the e-mailed token; opens a session",
        input=s.UserEmailConfirmInput,
        output=s.UserWithFullInfoSerializer,
        status=201,
        errors={
            403: "Invalid or expired token (jwt.decode_and_verify)",
            422: "Missing token, user active or unknown, token already used or superseded",
        },
        examples=_examples(
            {"token": "<the confirmation_token of the e-mail's link>"}, USER_EXAMPLE, 201
        ),
    )
    @action(detail=False, methods=["post"], url_path="email/confirm_code")
    def email_confirm_code(self, request):
        data = self.parse(s.UserEmailConfirmInput)
        user = services.user_email_confirm(token=data["token"], lang=data.get("lang"))
        csrf_token = session_open(request, user, amr=[AMR_EMAIL])
        return Response(user_full_info(user, csrf_token=csrf_token), status=status.HTTP_201_CREATED)

    @barong_schema(summary="Send a password-reset e-mail (201 whatever the e-mail)", **EMAIL_CODE)
    @action(detail=False, methods=["post"], url_path="password/generate_code")
    def password_generate_code(self, request):
        return self._email_code_send("password_reset", services.user_password_reset_request)

    @barong_schema(
        summary="Set a new password with the e-mailed token; ends all the user's sessions",
        input=s.UserPasswordResetInput,
        output=s.EmptySerializer,
        status=201,
        errors={
            403: "Invalid or expired token (jwt.decode_and_verify)",
            404: "The token's user no longer exists",
            422: "Missing parameters, passwords differ, token used or superseded, weak password",
        },
    )
    @action(detail=False, methods=["post"], url_path="password/confirm_code")
    def password_confirm_code(self, request):
        data = self.parse(s.UserPasswordResetInput)
        services.user_password_reset(
            token=data["reset_password_token"],
            password=data["password"],
            lang=data.get("lang"),
            request=request,
        )
        return status_only(status.HTTP_201_CREATED)
