"""Passkeys: ``/resource/webauthn/...`` (register, list, delete) and
``/identity/sessions/webauthn/...`` (log in with one after the password)."""

from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts import passkeys
from accounts import security_serializers as s
from accounts.login import user_for_second_factor, user_password_login
from accounts.login_policy import login_account as _account
from accounts.resource_views import NO_STORE, UNAUTHORIZED
from accounts.serializers import EmptySerializer, UserWithFullInfoSerializer
from accounts.sessions import session_open
from accounts.views import LOGIN_ERRORS, _full_info
from barong.api.net import remote_ip
from barong.api.views import BarongViewSet, ResourceViewSet, barong_schema, status_only
from barong.ratelimit import rate_limit_hit, rate_limit_reset


class PasskeyViewSet(ResourceViewSet):
    """Register a passkey in two steps; list and delete the caller's passkeys."""

    error_prefix = "resource.webauthn"

    @barong_schema(
        summary="Options for navigator.credentials.create() (a fresh challenge)",
        output=s.OptionsSerializer,
        status=201,
        errors={
            401: UNAUTHORIZED,
            422: "resource.webauthn.too_many_credentials",
            429: "resource.webauthn.too_many_requests",
        },
    )
    @action(detail=False, methods=["post"], url_path="register/options")
    def register_options(self, request):
        options = passkeys.webauthn_register_options(user=request.user)
        return Response(options, status=status.HTTP_201_CREATED, headers=NO_STORE)

    @barong_schema(
        summary="Verify the new credential and keep it as a passkey",
        input=s.WebAuthnRegisterVerifyInput,
        output=s.WebAuthnCredentialSerializer,
        status=201,
        errors={
            401: UNAUTHORIZED,
            422: "resource.webauthn.missing_credential, challenge_expired, invalid_credential,"
            " already_registered",
            429: "resource.webauthn.too_many_requests",
        },
    )
    @action(detail=False, methods=["post"], url_path="register/verify")
    def register_verify(self, request):
        params = self.parse(s.WebAuthnRegisterVerifyInput)
        row = passkeys.webauthn_register_verify(
            user=request.user,
            credential=params["credential"],
            name=params.get("name") or "",
            request=request,
        )
        return Response(s.WebAuthnCredentialSerializer(row).data, status=status.HTTP_201_CREATED)

    @barong_schema(
        summary="The caller's passkeys",
        output=s.WebAuthnCredentialSerializer,
        many=True,
        errors={401: UNAUTHORIZED, 429: "resource.webauthn.too_many_requests"},
    )
    @action(detail=False, methods=["get"], url_path="credentials")
    def credentials(self, request):
        rows = passkeys.webauthn_credentials(user=request.user)
        return Response(s.WebAuthnCredentialSerializer(rows, many=True).data)

    @barong_schema(
        summary="Remove one of the caller's passkeys",
        output=EmptySerializer,
        errors={
            401: UNAUTHORIZED,
            404: "resource.webauthn.not_found",
            429: "resource.webauthn.too_many_requests",
        },
    )
    @action(
        detail=False,
        methods=["delete"],
        url_path=r"credentials/(?P<credential_id>[^/]{1,2048})",
    )
    def credential_delete(self, request, credential_id: str):
        passkeys.webauthn_credential_delete(
            user=request.user, credential_id=credential_id, request=request
        )
        return status_only(status.HTTP_200_OK)


class PasskeyLoginViewSet(BarongViewSet):
    """``/identity/sessions/webauthn/options`` (password) and ``…/verify`` (assertion)."""

    error_prefix = "identity.session"

    def _limit(self, email: str) -> None:
        key = "identity.session.too_many_requests"
        rate_limit_hit("login_ip", remote_ip(self.request), error_key=key)
        rate_limit_hit("login_account", _account(email), error_key=key)

    @barong_schema(
        summary="Password first; answers options for navigator.credentials.get()",
        input=s.WebAuthnLoginOptionsInput,
        output=s.OptionsSerializer,
        errors={**LOGIN_ERRORS, 403: "identity.session.webauthn_not_registered"},
    )
    @action(detail=False, methods=["post"], url_path="options")
    def options(self, request):
        data = self.parse(s.WebAuthnLoginOptionsInput)
        self._limit(data["email"])
        user = user_password_login(email=data["email"], password=data["password"], request=request)
        return Response(passkeys.webauthn_login_options(user=user), headers=NO_STORE)

    @barong_schema(
        summary="Log in with a passkey's assertion: opens a session cookie",
        input=s.WebAuthnLoginVerifyInput,
        output=UserWithFullInfoSerializer,
        errors={
            403: "identity.session.invalid_webauthn (no pending challenge, unknown passkey,"
            " bad signature, origin or counter)",
            422: "Missing parameters",
            429: "Too many attempts",
        },
    )
    @action(detail=False, methods=["post"], url_path="verify")
    def verify(self, request):
        data = self.parse(s.WebAuthnLoginVerifyInput)
        self._limit(data["email"])
        user = user_for_second_factor(email=data["email"])
        passkeys.webauthn_login_verify(user=user, credential=data["credential"], request=request)
        rate_limit_reset("login_account", _account(data["email"]))
        csrf_token = session_open(request, user)
        return Response(_full_info(user, csrf_token), status=status.HTTP_200_OK)
