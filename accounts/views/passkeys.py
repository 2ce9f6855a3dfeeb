"""Passkeys: ``/resource/webauthn/...`` (register, list, delete) and
``/identity/sessions/webauthn/...`` (log in with one after the password)."""

from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts import security_serializers as s
from accounts.full_info import user_full_info
from accounts.serializers import EmptySerializer, UserWithFullInfoSerializer
from accounts.services import passkeys
from accounts.services.login import user_password_login
from accounts.services.login_policy import login_attempt, login_failed, login_reset_ops
from accounts.services.step_up import reauthentication_check
from accounts.sessions import AMR_PASSKEY, AMR_PWD, session_open
from accounts.views.identity import LOGIN_ERRORS
from accounts.views.own_account import NO_STORE, REAUTHENTICATE, UNAUTHORIZED, current_session_key
from barong.api.errors import ApiError
from barong.api.views import BarongViewSet, ResourceViewSet, barong_schema, status_only


class PasskeyViewSet(ResourceViewSet):
    """Register a passkey in two steps; list and delete the caller's passkeys."""

    error_prefix = "resource.webauthn"

    @barong_schema(
        summary="Options for navigator.credentials.create() (a fresh challenge)",
        output=s.OptionsSerializer,
        status=201,
        errors={
            401: REAUTHENTICATE,
            422: "resource.webauthn.too_many_credentials",
            429: "resource.webauthn.too_many_requests",
        },
    )
    @action(detail=False, methods=["post"], url_path="register/options")
    def register_options(self, request):
        reauthentication_check(request=request, session_key=current_session_key(request))
        options = passkeys.webauthn_register_options(user=request.user)
        return Response(options, status=status.HTTP_201_CREATED, headers=NO_STORE)

    @barong_schema(
        summary="Verify the new credential and keep it as a passkey",
        input=s.WebAuthnRegisterVerifyInput,
        output=s.WebAuthnCredentialSerializer,
        status=201,
        errors={
            401: REAUTHENTICATE,
            422: "resource.webauthn.missing_credential, challenge_expired, invalid_credential,"
            " already_registered",
            429: "resource.webauthn.too_many_requests",
        },
    )
    @action(detail=False, methods=["post"], url_path="register/verify")
    def register_verify(self, request):
        reauthentication_check(request=request, session_key=current_session_key(request))
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
            401: REAUTHENTICATE,
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
        reauthentication_check(request=request, session_key=current_session_key(request))
        passkeys.webauthn_credential_delete(
            user=request.user, credential_id=credential_id, request=request
        )
        return status_only(status.HTTP_200_OK)


class PasskeyLoginViewSet(BarongViewSet):
    """``/identity/sessions/webauthn/options`` (password) and ``…/verify`` (assertion).

    Both steps follow the one login policy (``accounts.services.login_policy``): options counts
    the address and a wrong password as the API login does; verify counts the address,
    and a failed assertion against the account only inside a flow the caller holds.
    """

    error_prefix = "identity.session"

    @barong_schema(
        summary="Password first; answers a flow id and options for navigator.credentials.get()",
        description="Checks the password as `POST /identity/sessions` does (same limits and"
        " captcha) and starts a passkey login flow: `flow_id` names it, `publicKey` carries"
        " its challenge. Send `flow_id` back to `verify` within"
        " `BARONG_WEBAUTHN_CHALLENGE_TTL` seconds; it is good for one verify. Each call"
        " starts a flow of its own, so flows in other tabs or devices stay valid.",
        input=s.WebAuthnLoginOptionsInput,
        output=s.WebAuthnLoginOptionsSerializer,
        errors={**LOGIN_ERRORS, 403: "identity.session.webauthn_not_registered"},
    )
    @action(detail=False, methods=["post"], url_path="options")
    def login_options(self, request):
        data = self.parse(s.WebAuthnLoginOptionsInput)
        attempt = login_attempt(
            request=request, email=data["email"], captcha_response=data.get("captcha_response")
        )
        try:
            user = user_password_login(
                email=data["email"], password=data["password"], request=request
            )
        except ApiError as exc:
            if exc.keys == ["identity.session.invalid_params"]:
                login_failed(attempt)
            raise
        options = passkeys.webauthn_login_options(user=user, account=attempt.account)
        return Response(options, headers=NO_STORE)

    @barong_schema(
        summary="Log in with a passkey's assertion over the flow's challenge: opens a session",
        description="`flow_id` from `options` and the assertion from"
        " `navigator.credentials.get()`. The flow is used up by this call whatever its"
        " outcome. The e-mail is not a parameter (an `email` sent is ignored): an unknown"
        " flow is refused alike for every account, counted against the caller's address"
        " only; a failed assertion in a held flow counts as a failed login of its account.",
        input=s.WebAuthnLoginVerifyInput,
        output=UserWithFullInfoSerializer,
        errors={
            403: "identity.session.invalid_webauthn (unknown, expired or used flow, unknown"
            " passkey, bad signature, origin or counter)",
            422: "identity.session.missing_flow_id, empty_flow_id, missing_credential",
            429: "identity.session.too_many_requests (this address, or the flow's account)",
        },
    )
    @action(detail=False, methods=["post"], url_path="verify")
    def verify(self, request):
        data = self.parse(s.WebAuthnLoginVerifyInput)
        user, attempt = passkeys.webauthn_login(
            request=request, flow_id=data["flow_id"], credential=data["credential"]
        )
        # The flow began with the password (``options``), the assertion completed it.
        amr = [AMR_PWD, AMR_PASSKEY]
        csrf_token = session_open(request, user, amr=amr, also=login_reset_ops(attempt))
        return Response(user_full_info(user, csrf_token=csrf_token), status=status.HTTP_200_OK)
