"""``/resource/sessions`` (own sessions); ``/admin/users/{uid}/sessions`` and ``…/passkeys``."""

import re
from collections.abc import Callable
from typing import Any

from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts import security_serializers as s
from accounts.selectors import admin_user_get
from accounts.services import sessions as services
from accounts.services import step_up
from accounts.services.passkeys import webauthn_credentials_admin_delete
from accounts.sessions import user_sessions_list
from accounts.views.own_account import NO_STORE, UNAUTHORIZED, current_session_key
from barong.api.errors import ApiError
from barong.api.views import ADMIN_ACCESS_ERRORS, AdminViewSet, ResourceViewSet, barong_schema

SESSION_ID_RE = re.compile(r"\A[0-9a-f]{32}\Z")
ANY_SEGMENT = r"[^/]{1,512}"


def _session_id(value: str, *, key: str) -> str:
    """A well-formed public id, else the not-found key (nothing to look up)."""
    if not SESSION_ID_RE.match(value):
        raise ApiError(key, 404)
    return value


class SessionResourceViewSet(ResourceViewSet):
    """GET list, DELETE one by id, DELETE all but the current one."""

    error_prefix = "resource.session"
    lookup_field = "id"
    lookup_value_regex = ANY_SEGMENT

    @barong_schema(
        summary="The caller's live sessions (newest first)",
        output=s.SessionSerializer,
        many=True,
        errors={401: UNAUTHORIZED, 429: "resource.session.too_many_requests"},
    )
    def list(self, request):
        rows = services.session_list(user=request.user, current=current_session_key(request))
        return Response(s.SessionSerializer(rows, many=True).data)

    @barong_schema(
        summary="End one of the caller's sessions",
        output=s.SessionsEndedSerializer,
        errors={
            401: UNAUTHORIZED,
            404: "resource.session.not_found (unknown, ended, or another user's id)",
            429: "resource.session.too_many_requests",
        },
    )
    def destroy(self, request, id: str):
        session_id = _session_id(id, key="resource.session.not_found")
        services.session_end(user=request.user, session_id=session_id, request=request)
        return Response({"ended": 1}, status=status.HTTP_200_OK)

    @barong_schema(
        summary="End every session of the caller but the current one",
        output=s.SessionsEndedSerializer,
        errors={401: UNAUTHORIZED, 429: "resource.session.too_many_requests"},
    )
    def destroy_by_id(self, request):
        ended = services.sessions_end_others(
            user=request.user, keep=current_session_key(request), request=request
        )
        return Response({"ended": ended}, status=status.HTTP_200_OK)

    @barong_schema(
        summary="Step up the current session with a TOTP code, or the password for a user"
        " without a second factor (refreshes amr and auth_time)",
        description="For rules that ask for a recent second factor: authz answers 401"
        " `authz.step_up_required` until the session's `auth_time` is recent enough."
        " A code is good once. For a change of an authentication factor the resource API"
        " answers 401 `resource.session.reauthentication_required` until the session"
        " authenticated within `BARONG_REAUTH_MAX_AGE` seconds: a code, a passkey or, for"
        " a user with neither TOTP nor a passkey, `password` (amr `pwd`; counted as every"
        " password check of the account) satisfies it.",
        input=s.StepUpInput,
        output=s.StepUpSerializer,
        errors={
            401: UNAUTHORIZED,
            422: "resource.session.missing_otp_code, invalid_otp, otp_not_enabled, no_session,"
            " empty_password, invalid_password, second_factor_required",
            # Both fields are optional: a multipart body may then hold no field at all,
            # which the parser can refuse as a media type it does not take.
            415: "request.unsupported_media_type",
            429: "resource.session.too_many_requests",
        },
    )
    @action(detail=False, methods=["post"], url_path="step_up")
    def step_up(self, request):
        if "otp_code" not in self.params and "password" in self.params:
            password = self.parse(s.StepUpPasswordInput)["password"]
            return self._stepped_up(step_up.step_up_password, password=password)
        data = self.parse(s.StepUpTotpInput)
        return self._stepped_up(step_up.step_up_totp, code=data["otp_code"])

    def _stepped_up(self, method: Callable[..., dict], **proof: Any) -> Response:
        """Every way to step up: the caller's current session, and the same answer."""
        request = self.request
        result = method(
            user=request.user, session_key=current_session_key(request), request=request, **proof
        )
        return Response(result, status=status.HTTP_200_OK)

    @barong_schema(
        summary="Options for navigator.credentials.get() to step up the current session",
        output=s.OptionsSerializer,
        errors={
            401: UNAUTHORIZED,
            403: "resource.session.webauthn_not_registered",
            422: "resource.session.no_session",
            429: "resource.session.too_many_requests",
        },
    )
    @action(detail=False, methods=["post"], url_path="step_up/options")
    def step_up_options(self, request):
        options = step_up.step_up_passkey_options(
            user=request.user, session_key=current_session_key(request)
        )
        return Response(options, status=status.HTTP_200_OK, headers=NO_STORE)

    @barong_schema(
        summary="Step up the current session with a passkey's assertion (the options' challenge)",
        input=s.StepUpVerifyInput,
        output=s.StepUpSerializer,
        errors={
            401: UNAUTHORIZED,
            422: "resource.session.missing_credential, challenge_expired, invalid_webauthn,"
            " no_session",
            429: "resource.session.too_many_requests",
        },
    )
    @action(detail=False, methods=["post"], url_path="step_up/verify")
    def step_up_verify(self, request):
        data = self.parse(s.StepUpVerifyInput)
        return self._stepped_up(step_up.step_up_passkey_verify, credential=data["credential"])


ADMIN_ERRORS = {**ADMIN_ACCESS_ERRORS, 404: "admin.user.doesnt_exist"}


class AdminSessionViewSet(AdminViewSet):
    """``/admin/users/{uid}/sessions``: list, end one, end all; every end is audited."""

    error_prefix = "admin.session"
    lookup_field = "id"
    lookup_value_regex = ANY_SEGMENT

    def _user(self, uid: str):
        return admin_user_get(uid)

    @barong_schema(
        summary="A user's live sessions (newest first)",
        output=s.SessionSerializer,
        many=True,
        errors=ADMIN_ERRORS,
    )
    def list(self, request, uid: str):
        rows = user_sessions_list(self._user(uid).uid)
        return Response(s.SessionSerializer(rows, many=True).data)

    @barong_schema(
        summary="End one session of a user (audited)",
        output=s.SessionsEndedSerializer,
        errors={
            **ADMIN_ERRORS,
            404: "admin.user.doesnt_exist, admin.session.doesnt_exist",
            422: "admin.user.superadmin_change, admin.user.insufficient_rank",
        },
    )
    def destroy(self, request, uid: str, id: str):
        user = self._user(uid)
        session_id = _session_id(id, key="admin.session.doesnt_exist")
        services.session_admin_end(
            admin=request.user, user=user, session_id=session_id, request=request
        )
        return Response({"ended": 1})

    @barong_schema(
        summary="End every session of a user (audited)",
        output=s.SessionsEndedSerializer,
        errors={
            **ADMIN_ERRORS,
            422: "admin.user.superadmin_change, admin.user.insufficient_rank",
        },
    )
    def destroy_by_id(self, request, uid: str):
        ended = services.sessions_admin_end_all(
            admin=request.user, user=self._user(uid), request=request
        )
        return Response({"ended": ended})


class AdminPasskeyViewSet(AdminViewSet):
    """``/admin/users/{uid}/passkeys``: remove every passkey of a user (lost device)."""

    error_prefix = "admin.webauthn"

    @barong_schema(
        summary="Remove all passkeys of a user (audited); answers how many",
        output=s.PasskeysRemovedSerializer,
        errors={
            **ADMIN_ERRORS,
            404: "admin.user.doesnt_exist, admin.webauthn.doesnt_exist",
            422: "admin.user.superadmin_change, admin.user.insufficient_rank, "
            "admin.user.update_himself",
        },
    )
    def destroy_by_id(self, request, uid: str):
        removed = webauthn_credentials_admin_delete(
            admin=request.user, user=admin_user_get(uid), request=request
        )
        return Response({"removed": removed})
