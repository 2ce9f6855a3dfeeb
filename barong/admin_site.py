"""The operator back-office at ``/admin/``: login by Barong role, 2FA, and KYC review entries."""

import time
from functools import wraps

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.forms import AdminAuthenticationForm, AdminPasswordChangeForm
from django.contrib.admin.views.main import SEARCH_VAR
from django.contrib.auth import logout
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponseBadRequest, HttpResponseRedirect
from django.urls import NoReverseMatch, reverse

from barong.api.errors import ApiError
from barong.api.net import remote_ip
from barong.ratelimit import rate_limit_hit, rate_limit_reset

SEEN_KEY = "backoffice_seen"  # last back-office request, for the idle timeout


class OperatorLoginForm(AdminAuthenticationForm):
    """E-mail, password and, for an operator with 2FA on, the current TOTP code.

    Attempts count against the same per-IP and per-account limits as the API login, and
    every failure (unknown e-mail, wrong password, wrong or missing code, not an active
    operator) gives the same message, so the form reveals nothing about an account.
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

    def clean(self):
        email = (self.cleaned_data.get("username") or "").strip().lower()
        try:
            if self.request is not None:
                rate_limit_hit("login_ip", remote_ip(self.request), error_key="too_many")
            if email:
                rate_limit_hit("login_account", email, error_key="too_many")
        except ApiError as exc:
            raise ValidationError(self.error_messages["too_many"], code="too_many") from exc
        cleaned = super().clean()
        user = self.get_user()
        if user is not None and user.otp:
            from accounts.otp import otp_verify

            try:  # the API login's budget of code attempts (identity.session.too_many_requests)
                rate_limit_hit("otp_account", user.uid, error_key="too_many")
            except ApiError as exc:
                self.user_cache = None
                raise ValidationError(self.error_messages["too_many"], code="too_many") from exc
            if not otp_verify(user=user, code=self.cleaned_data.get("otp_code")):
                # The same answer as a wrong password: no hint that the password was right.
                self.user_cache = None
                raise self.get_invalid_login_error()
        if user is not None and email:
            rate_limit_reset("login_account", email)
        return cleaned


class OperatorPasswordChangeForm(AdminPasswordChangeForm):
    """The admin's password page, with Barong's rules through ``user_password_change``.

    Django's own form would store any password (no validators are configured) and
    leave the operator's API sessions alive; the service checks the old password
    against the account's rate limit, applies the password rules, records the
    ``password change`` activity and ends the other sessions.
    """

    request = None  # bound per request by BarongAdminSite.password_change

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
        from accounts.services import user_password_change

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


class BarongAdminSite(admin.AdminSite):
    """``admin.site`` for this project: the KYC review queues head the KYC section."""

    site_header = "Barong back-office"
    site_title = "Barong back-office"
    index_title = "Operations"
    site_url = None  # no public site behind "View site": the front end is elsewhere
    login_form = OperatorLoginForm
    login_template = "admin/barong_login.html"  # adds the 2FA code row

    # Display names Django derives badly from app labels and model names.
    APP_NAMES = {"kyc": "KYC", "apikeys": "API keys"}
    MODEL_NAMES = {"Activity": "Activities", "APIKey": "API keys"}

    def admin_view(self, view, cacheable=False):
        """Every back-office view refuses NUL in its URL or query with a 400.

        PostgreSQL rejects NUL in text, so a list filter such as ``?topic=%00`` would
        otherwise fail as a 500 inside the query. The search box is left to Django's own
        form, which refuses NUL with a message on the page.
        """
        wrapped = super().admin_view(view, cacheable)

        @wraps(wrapped)
        def guarded(request, *args, **kwargs):
            given = [
                *(str(value) for value in kwargs.values()),
                *(v for k, vs in request.GET.lists() if k != SEARCH_VAR for v in [k, *vs]),
            ]
            if any("\x00" in text for text in given):
                return HttpResponseBadRequest("NUL characters are not accepted.")
            return wrapped(request, *args, **kwargs)

        return guarded

    def has_permission(self, request) -> bool:
        """Staff, and the back-office session not idle longer than Barong's session lifetime."""
        if not super().has_permission(request):
            return False
        now = int(time.time())
        seen = request.session.get(SEEN_KEY)
        if isinstance(seen, int) and now - seen > settings.BARONG_SESSION_EXPIRE_TIME:
            logout(request)
            return False
        if seen != now:
            request.session[SEEN_KEY] = now
        return True

    def password_change(self, request, extra_context=None):
        """Django's view with ``OperatorPasswordChangeForm`` bound to this request."""
        from django.contrib.auth.views import PasswordChangeView

        form_class = type(
            "BoundOperatorPasswordChangeForm", (OperatorPasswordChangeForm,), {"request": request}
        )
        request.current_app = self.name
        return PasswordChangeView.as_view(
            form_class=form_class,
            success_url=reverse("admin:password_change_done", current_app=self.name),
            extra_context={**self.each_context(request), **(extra_context or {})},
        )(request)

    def login(self, request, extra_context=None):
        """Django's login view; a successful operator login leaves an admin audit row."""
        response = super().login(request, extra_context)
        if request.method == "POST" and response.status_code == 302 and request.user.is_staff:
            from activities.services import admin_activity_record

            admin_activity_record(
                admin=request.user,
                topic="session",
                action="login",
                request=request,
                data={"via": "backoffice"},
            )
        return response

    def get_app_list(self, request, app_label=None):
        app_list = super().get_app_list(request, app_label)
        queues = self._review_queues(request)
        for app in app_list:
            app["name"] = self.APP_NAMES.get(app["app_label"], app["name"])
            for model in app["models"]:
                model["name"] = self.MODEL_NAMES.get(model["object_name"], model["name"])
            if app["app_label"] == "kyc" and queues:
                app["models"] = [*queues, *app["models"]]
        return app_list

    def _review_queues(self, request) -> list[dict]:
        """Index entries for the document and profile review queues the operator may open."""
        from kyc.admin import pending_documents_count, submitted_profiles_count

        entries = []
        for model, url_name, label, count in (
            ("document", "kyc_document_review", "Document review queue", pending_documents_count),
            ("profile", "kyc_profile_review", "Profile review queue", submitted_profiles_count),
        ):
            if not request.user.has_perm(f"kyc.view_{model}"):
                continue
            try:
                url = reverse(f"admin:{url_name}", current_app=self.name)
            except NoReverseMatch:
                continue
            can_decide = request.user.has_perm(f"kyc.change_{model}")
            entries.append(
                {
                    "name": f"{label} ({count()})",
                    "object_name": f"{model}review",
                    "perms": {"view": True, "change": can_decide, "add": False, "delete": False},
                    "admin_url": url,
                    "add_url": None,
                    "view_only": not can_decide,
                }
            )
        return entries


class ServiceAdminMixin:
    """Admin classes whose writes go through services (STYLE §2).

    A service refuses with ``ApiError``; the change or delete view then rolls back (the
    admin wraps both in a transaction) and returns to the page with the Barong keys as
    an error message instead of a 500. ``bulk_delete`` = False removes "delete selected"
    where deleting many rows at once makes no sense.
    """

    bulk_delete = True

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ApiError as exc:
            return self._refused(request, exc)

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except ApiError as exc:
            return self._refused(request, exc)

    def changelist_view(self, request, extra_context=None):
        if request.method == "POST" and not self._selection_valid(request):
            self.message_user(request, "Not saved: the selection is not valid.", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
        # Actions (bulk delete included) are all-or-nothing: one refusal rolls back the rest.
        try:
            if request.method == "POST":
                with transaction.atomic():
                    return super().changelist_view(request, extra_context)
            return super().changelist_view(request, extra_context)
        except ApiError as exc:
            return self._refused(request, exc)

    def _selection_valid(self, request) -> bool:
        """Selected ids an action can look up: Django's query would 500 on ``x`` or 10**30."""
        pk = self.model._meta.pk
        try:
            for value in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME):
                pk.run_validators(pk.to_python(value))
        except ValidationError:
            return False
        return True

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not self.bulk_delete:
            actions.pop("delete_selected", None)
        return actions

    def _refused(self, request, exc: ApiError):
        self.message_user(request, f"Not saved: {', '.join(exc.keys)}", messages.ERROR)
        return HttpResponseRedirect(request.get_full_path())
