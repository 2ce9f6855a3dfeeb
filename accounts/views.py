"""Identity API (public): general endpoints, sessions and users (§2)."""

import time

from django.conf import settings
from django.utils import timezone
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts import serializers as s
from accounts.passwords import password_entropy, password_regexp
from barong import jwt as barong_jwt
from barong.api.views import BarongViewSet, barong_schema

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
