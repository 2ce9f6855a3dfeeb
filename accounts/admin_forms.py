"""The operator back-office forms: login with the second factor, and the password page.

Named in settings (``BARONG_ADMIN_LOGIN_FORM``, ``BARONG_ADMIN_PASSKEY_FORM``,
``BARONG_ADMIN_PASSWORD_CHANGE_FORM``) and used by barong/admin_site.py.
"""

import json

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm, AdminPasswordChangeForm
from django.core.exceptions import ValidationError

from accounts.services import user_password_change
from accounts.services.login_policy import TOO_MANY
from accounts.services.operator_login import PasskeyStep, operator_login, operator_passkey_login
from accounts.services.passkeys import FLOW_ID_MAX
from accounts.services.recovery import MAX_INPUT as RECOVERY_CODE_MAX
from barong.api.errors import ApiError

CREDENTIAL_MAX = 16_384  # an assertion's JSON is well under 2 KB; anything this long is junk

LOGIN_MESSAGES = {
    "too_many": "Too many login attempts. Try again later.",
    "passkey_required": "Confirm with your passkey to finish logging in.",
    "passkey_failed": "The passkey could not be verified. Log in again.",
}


class OperatorLoginForm(AdminAuthenticationForm):
    """E-mail, password and, for an operator with 2FA, the current TOTP code or a recovery
    code; an operator with a passkey is asked for it next (``passkey``).

    The work is ``accounts.services.operator_login.operator_login``: the API login's policy,
    password step, second factors and activity rows. Every refusal (unknown e-mail,
    wrong password, wrong or missing code, not an active operator; too many attempts
    aside) gives the same message, so the form reveals nothing about an account; only a
    right password of an operator with a passkey leads on, to the passkey step.
    """

    otp_code = forms.CharField(
        label="2FA code",
        required=False,
        max_length=6,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
        help_text="Required when two-factor authentication is enabled on your account.",
    )
    recovery_code = forms.CharField(
        label="Recovery code",
        required=False,
        max_length=RECOVERY_CODE_MAX,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        help_text="Instead of the 2FA code, when the authenticator is lost (used once).",
    )

    error_messages = {**AdminAuthenticationForm.error_messages, **LOGIN_MESSAGES}

    passkey: PasskeyStep | None = None  # set when the passkey step comes next

    def clean(self):
        email = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if email is None or not password:
            return self.cleaned_data  # Django's required-field errors already say it
        try:
            outcome = operator_login(
                request=self.request,
                email=email,
                password=password,
                otp_code=self.cleaned_data.get("otp_code"),
                recovery_code=self.cleaned_data.get("recovery_code"),
            )
        except ApiError as exc:
            raise self._refusal(exc) from exc
        if isinstance(outcome, PasskeyStep):
            self.passkey = outcome
            raise ValidationError(self.error_messages["passkey_required"], code="passkey_required")
        self.confirm_login_allowed(outcome)
        self.user_cache = outcome
        return self.cleaned_data

    def _refusal(self, exc: ApiError) -> ValidationError:
        self.user_cache = None
        if exc.keys == [TOO_MANY]:
            return ValidationError(self.error_messages["too_many"], code="too_many")
        return self.get_invalid_login_error()


class OperatorPasskeyForm(forms.Form):
    """The passkey step: the flow the login form started and the browser's assertion
    (``navigator.credentials.get()``, JSON-encoded by accounts/static/accounts/
    passkey_login.js). Only a verified assertion signs the operator in
    (``operator_passkey_login``)."""

    flow_id = forms.CharField(max_length=FLOW_ID_MAX)
    credential = forms.CharField(max_length=CREDENTIAL_MAX)

    error_messages = LOGIN_MESSAGES

    def __init__(self, request, *args, **kwargs):
        self.request = request
        self.user_cache = None
        super().__init__(*args, **kwargs)

    def clean(self):
        if self.errors:
            raise ValidationError(self.error_messages["passkey_failed"], code="passkey_failed")
        try:
            credential = json.loads(self.cleaned_data["credential"])
        except (ValueError, RecursionError):
            credential = None  # refused by the verification, within the flow, as junk is
        try:
            self.user_cache = operator_passkey_login(
                request=self.request, flow_id=self.cleaned_data["flow_id"], credential=credential
            )
        except ApiError as exc:
            code = "too_many" if exc.keys == [TOO_MANY] else "passkey_failed"
            raise ValidationError(self.error_messages[code], code=code) from exc
        return self.cleaned_data

    def get_user(self):
        return self.user_cache


class OperatorPasswordChangeForm(AdminPasswordChangeForm):
    """The admin's password page, with Barong's rules through ``user_password_change``.

    Django's form applies the password rules (``AUTH_PASSWORD_VALIDATORS``) but would
    leave the operator's API sessions alive; the service checks the old password
    against the account's rate limit, applies the same rules, records the
    ``password change`` activity and ends the other sessions.
    """

    request = None  # bound per request by barong.admin_site.BarongAdminSite.password_change

    FIELD_OF_KEY = {
        "resource.password.prev_pass_not_correct": "old_password",
        "resource.password.no_change_provided": "new_password1",
        "resource.password.doesnt_match": "new_password2",
    }

    def clean_old_password(self):
        # Checked by the service, where wrong guesses count against the rate limit.
        return self.cleaned_data["old_password"]

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            user_password_change(
                user=self.user,
                old_password=cleaned["old_password"],
                new_password=cleaned["new_password1"],
                confirm_password=cleaned["new_password2"],
                request=self.request,
                keep_session=self.request.session.session_key if self.request else None,
            )
        except ApiError as exc:
            for key in exc.keys:
                field = self.FIELD_OF_KEY.get(key, "new_password1" if "password." in key else None)
                self.add_error(field, f"{PASSWORD_MESSAGES.get(key, 'Refused')} ({key})")
        return cleaned

    def save(self, commit=True):
        return self.user  # the service stored it in clean()


PASSWORD_MESSAGES = {
    "resource.password.prev_pass_not_correct": "The current password is not correct",
    "resource.password.no_change_provided": "The new password is the current one",
    "resource.password.doesnt_match": "The two new passwords differ",
    "resource.password.too_many_requests": "Too many attempts; try again later",
    "password.requirements": "At least 8 characters",
    "password.too_long": "At most 128 characters",
    "password.weak": "Too weak or too common",
}
