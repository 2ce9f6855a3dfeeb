"""OpenDAX's web front end (baseapp, branch 2-4-stable) as this server sees it.

``Baseapp`` sends each call the way baseapp's request builder (``src/api/requestBuilder.ts``,
axios) and its sagas (``src/modules/**/sagas``) send it: under ``/api/v2/barong`` (its
``authUrl``), a JSON body with ``content-type: application/json``, or a ``FormData``
(multipart) for documents; the ``_barong_session`` cookie (``withCredentials``); and
``X-CSRF-Token`` from ``localStorage.csrfToken`` on the calls whose saga adds it. In front
of the server stands the gateway: it asks ``/api/v2/auth/<path>`` with the call's headers
first, answers the client with a refusal, and otherwise forwards the call with the
``Authorization`` header authz gave.

An error answer becomes what baseapp's ``formatError`` makes of it: ``Failure(code,
message)`` with ``message`` the body's ``errors`` list; the sagas branch on those two. Each
method mirrors one saga: its request, and the branch it takes on the answer.
"""

import json
from dataclasses import dataclass
from typing import Any

from django.http import HttpResponse

from tests.accounts.conftest import CommittingAPIClient
from tests.conftest import BROWSER_UA

BARONG = "/api/v2/barong"  # baseapp's authUrl behind the gateway


class Failure(Exception):
    """``formatError(responseError)``: ``{code: status, message: errors}``."""

    def __init__(self, code: int, message: list[str]) -> None:
        super().__init__(code, message)
        self.code, self.message = code, message

    @classmethod
    def of(cls, response: HttpResponse) -> "Failure":
        body = response.json() if response.content else {}
        return cls(response.status_code, body.get("errors") or [body.get("error")])


def alert(failure: Failure) -> str:
    """What ``handleAlertSaga`` does with an error alert: ``reset`` (logs the user out of
    the UI), ``shown`` (an alert), or ``silent`` (a 403 it does not know)."""
    text = ",".join(map(str, failure.message))  # ``message.indexOf(key)`` on the list
    if failure.code == 401:
        if "identity.session.not_active" in text or "authz.invalid_session" in text:
            return "reset"
        if "authz.client_session_mismatch" in text or "authz.csrf_token_mismatch" in text:
            return "reset"
        return "shown"
    if failure.code == 403:
        shown = ("identity.session.invalid_otp", "jwt.decode_and_verify")
        return "shown" if any(key in failure.message for key in shown) else "silent"
    return "shown"


@dataclass
class FormData:
    """A browser ``FormData``: sent as multipart (axios lets the browser set the boundary)."""

    fields: dict[str, Any]


@dataclass
class SignIn:
    """What ``signInSaga`` leaves in the store."""

    user: dict | None = None
    require2fa: bool = False
    require_verification: bool = False
    language: str | None = None
    failure: Failure | None = None


class Baseapp:
    def __init__(self, *, ip: str = "198.51.100.23") -> None:
        self.browser = CommittingAPIClient(HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR=ip)
        self.csrf_token: str | None = None  # localStorage.csrfToken
        self.gateway_calls: list[tuple[str, str, int]] = []

    # ---------------------------------------------------------------- transport

    def request(
        self,
        method: str,
        url: str,
        body: Any = None,
        *,
        csrf: bool = False,
        with_headers: bool = False,
    ) -> Any:
        """One API call through the gateway; the body as ``response.data`` (and the response
        itself when the saga asks ``withHeaders``), or ``Failure``."""
        path = BARONG + url
        headers: dict[str, str] = {}
        if csrf and self.csrf_token is not None:  # axios drops an undefined header
            headers["HTTP_X_CSRF_TOKEN"] = self.csrf_token
        checked = self.browser.generic(method.upper(), "/api/v2/auth" + path, **headers)
        self.gateway_calls.append((method.upper(), url, checked.status_code))
        if checked.status_code != 200:
            raise Failure.of(checked)
        if checked.has_header("Authorization"):
            headers["HTTP_AUTHORIZATION"] = checked["Authorization"]
        send = getattr(self.browser, method)
        if isinstance(body, FormData):
            response = send(path, body.fields, format="multipart", **headers)
        elif body is None:
            response = send(path, **headers)
        else:
            response = send(path, json.dumps(body), content_type="application/json", **headers)
        if response.status_code >= 400:
            raise Failure.of(response)
        data = response.json() if response.content else None
        return (data, response) if with_headers else data

    # ---------------------------------------------------------------- public

    def configs(self) -> dict:
        return self.request("get", "/identity/configs")

    def entropy(self, password: str) -> float:
        return self.request("post", "/identity/password/validate", {"password": password})[
            "entropy"
        ]

    # ---------------------------------------------------------------- auth

    def sign_up(self, *, email: str, password: str, language: str = "en") -> None:
        """``signUpSaga`` with captcha ``none``: then the "confirm your e-mail" screen."""
        body = {"email": email, "password": password, "data": json.dumps({"language": language})}
        self.request("post", "/identity/users", body)

    def verification(self, token: str) -> None:
        """``verificationSaga``: the confirmation link's ``confirmation_token``."""
        self.request("post", "/identity/users/email/confirm_code", {"token": token})

    def email_verification(self, email: str) -> None:
        self.request("post", "/identity/users/email/generate_code", {"email": email})

    def sign_in(
        self, *, email: str, password: str, otp_code: str | None = None, language: str = "en"
    ) -> SignIn:
        """``signInSaga``: a 401 with ``missing_otp`` shows the code form; other errors alert."""
        body = {"email": email, "password": password, "data": json.dumps({"language": language})}
        if otp_code is not None:
            body["otp_code"] = otp_code
        try:
            user = self.request("post", "/identity/sessions", body)
        except Failure as failure:
            if failure.code == 401 and "identity.session.missing_otp" in failure.message:
                return SignIn(require2fa=True)
            return SignIn(failure=failure)
        outcome = SignIn(user=user)
        if user["data"] and json.loads(user["data"]).get("language"):
            outcome.language = json.loads(user["data"])["language"]
        if user["state"] == "pending":
            outcome.require_verification = True
        else:
            self.csrf_token = user["csrf_token"]
            outcome.require2fa = user["otp"]
        return outcome

    def logout(self) -> None:
        """``logoutSaga``: no CSRF header; the token leaves localStorage."""
        self.request("delete", "/identity/sessions")
        self.csrf_token = None

    def forgot_password(self, email: str) -> None:
        self.request("post", "/identity/users/password/generate_code", {"email": email})

    def change_forgot_password(self, *, token: str, password: str) -> None:
        body = {"reset_password_token": token, "password": password, "confirm_password": password}
        self.request("post", "/identity/users/password/confirm_code", body)

    # ---------------------------------------------------------------- profile

    def user(self) -> dict:
        """``userSaga`` (on every page load)."""
        return self.request("get", "/resource/users/me")

    def change_language(self, user: dict, language: str) -> dict:
        """The sidebar's language switch: the whole user it holds, ``data`` replaced."""
        payload = {**user, "data": json.dumps({"language": language})}
        return self.request("put", "/resource/users/me", payload, csrf=True)

    def change_password(self, *, old: str, new: str) -> None:
        body = {"old_password": old, "new_password": new, "confirm_password": new}
        self.request("put", "/resource/users/password", body, csrf=True)

    def generate_2fa_qr(self) -> dict:
        return self.request("post", "/resource/otp/generate_qrcode", csrf=True)["data"]

    def toggle_2fa(self, *, code: str, enable: bool) -> None:
        path = f"/resource/otp/{'enable' if enable else 'disable'}"
        self.request("post", path, {"code": code}, csrf=True)

    def user_activity(self, *, page: int, limit: int) -> tuple[list[dict], int]:
        """``userActivitySaga``: baseapp's pages count from 0, the API's from 1; the total
        comes from the ``total`` header."""
        url = f"/resource/users/activity/all?limit={limit}&page={page + 1}"
        rows, response = self.request("get", url, with_headers=True)
        return rows, int(response["Total"])

    # ---------------------------------------------------------------- KYC

    def labels(self) -> list[dict]:
        return self.request("get", "/resource/labels")

    def send_code(self, phone_number: str) -> str:
        """``sendCodeSaga``: a number already added is sent a new code instead."""
        try:
            self.request("post", "/resource/phones", {"phone_number": phone_number}, csrf=True)
        except Failure as failure:
            if ",".join(failure.message) != "resource.phone.exists":  # message.toString()
                raise
            self.resend_code(phone_number)
            return "resent"
        return "sent"

    def resend_code(self, phone_number: str) -> None:
        body = {"phone_number": phone_number}
        self.request("post", "/resource/phones/send_code", body, csrf=True)

    def confirm_phone(self, *, phone_number: str, code: str) -> None:
        body = {"phone_number": phone_number, "verification_code": code}
        self.request("post", "/resource/phones/verify", body, csrf=True)

    def send_identity(self, profile: dict) -> None:
        self.request("post", "/resource/profiles", profile, csrf=True)

    def send_documents(self, form: FormData) -> None:
        self.request("post", "/resource/documents", form, csrf=True)

    # ---------------------------------------------------------------- API keys

    def api_keys(self) -> list[dict]:
        return self.request("get", "/resource/api_keys")

    def api_key_create(self, totp_code: str) -> dict:
        """``apiKeyCreateFetch`` adds ``algorithm: 'HS256'`` to the 2FA code."""
        body = {"totp_code": totp_code, "algorithm": "HS256"}
        return self.request("post", "/resource/api_keys", body, csrf=True)

    def api_key_switch(self, api_key: dict, totp_code: str) -> dict:
        """The profile's switch: ``active`` ↔ ``disabled``, nothing else of the key sent."""
        state = "disabled" if api_key["state"] == "active" else "active"
        body = {"totp_code": totp_code, "state": state}
        return self.request("patch", f"/resource/api_keys/{api_key['kid']}", body, csrf=True)

    def api_key_delete(self, kid: str, totp_code: str) -> None:
        url = f"/resource/api_keys/{kid}?totp_code={totp_code}"
        self.request("delete", url, csrf=True)
