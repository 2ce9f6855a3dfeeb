"""The operator back-office forms: login with 2FA and the password page, by Barong's rules.

Named in settings (``BARONG_ADMIN_LOGIN_FORM``, ``BARONG_ADMIN_PASSWORD_CHANGE_FORM``) and
used by barong/admin_site.py.
"""

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm, AdminPasswordChangeForm
from django.core.exceptions import ValidationError

from accounts.backends import operator_credentials_check
from accounts.login_policy import login_attempt, login_failed, login_succeeded
from accounts.otp import otp_verify
from accounts.services import user_password_change
from activities.services import admin_activity_record
from barong.api.errors import ApiError
from barong.ratelimit import rate_limit_hit


class OperatorLoginForm(AdminAuthenticationForm):
    """E-mail, password and, for an operator with 2FA on, the current TOTP code.

    The login policy is the API's (``accounts.login_policy``): the same counters per
    address, per account and address and per account, keyed on the normalised e-mail,
    so guesses here count at the API and passkey logins and the other way round. A
    wrong password counts as a failure, a wrong code against the account's code budget
    (``otp_account``), as at the API; a completed login resets the account's failures.
    Every refusal (unknown e-mail, wrong password, wrong or missing code, not an active
    operator, too many attempts aside) gives the same message, so the form reveals
    nothing about an account. A successful login leaves an admin audit row.
    """

    otp_code = forms.CharField(
        label="2FA code",
        required=False,
        max_length=6,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
        help_text="Required when two-factor authentication is enabled on your account.",
    )

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "too_many": "Too many login attempts. Try again later.",
    }

    def _too_many(self) -> ValidationError:
        self.user_cache = None
        return ValidationError(self.error_messages["too_many"], code="too_many")

    def clean(self):
        email = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if email is None or not password:
            return self.cleaned_data  # Django's required-field errors already say it
        try:
            attempt = login_attempt(request=self.request, email=email, captcha=False)
        except ApiError as exc:
            raise self._too_many() from exc
        user, password_ok = operator_credentials_check(email=email, password=password)
        if not password_ok:
            login_failed(attempt)
        if user is None:
            raise self.get_invalid_login_error()
        self.confirm_login_allowed(user)
        if user.otp:
            try:  # the API login's budget of code attempts (identity.session.too_many_requests)
                rate_limit_hit("otp_account", user.uid, error_key="too_many")
            except ApiError as exc:
                raise self._too_many() from exc
            if not otp_verify(user=user, code=self.cleaned_data.get("otp_code")):
                # The same answer as a wrong password: no hint that the password was right.
                raise self.get_invalid_login_error()
        self.user_cache = user
        login_succeeded(attempt)
        # The login view signs this operator in next: audit it.
        admin_activity_record(
            admin=user,
            topic="session",
            action="login",
            request=self.request,
            data={"via": "backoffice"},
        )
        return self.cleaned_data


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
