"""The operator back-office at ``/admin/``: login by Barong role with the second factor
(TOTP, recovery code or passkey), and KYC review entries."""

import time
from functools import wraps
from urllib.parse import quote, urlencode

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.views.main import SEARCH_VAR
from django.contrib.auth import REDIRECT_FIELD_NAME, logout
from django.contrib.auth import login as auth_login
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponseBadRequest, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.module_loading import import_string
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from barong.api.errors import ApiError


class ReadOnlyAdminMixin:
    """A record the back office shows and never writes: no add, change or delete (a log,
    a job, a key whose changes go through the API's services)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


SEEN_KEY = "backoffice_seen"  # last back-office request, for the idle timeout


class BarongAdminSite(admin.AdminSite):
    """``admin.site`` for this project: the KYC review queues head the KYC section."""

    site_header = "Barong back-office"
    site_title = "Barong back-office"
    index_title = "Operations"
    site_url = None  # no public site behind "View site": the front end is elsewhere
    login_template = "admin/barong_login.html"  # adds the 2FA rows and the passkey step

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
        """Staff, and the back-office session not idle longer than Barong's session lifetime
        nor older than its absolute lifetime (``BARONG_SESSION_MAX_LIFETIME``)."""
        if not super().has_permission(request):
            return False
        now = int(time.time())
        if not isinstance(request.session.get("created_at"), int):
            request.session["created_at"] = now  # signed in some other way: its clock starts
        seen = request.session.get(SEEN_KEY)
        idle = isinstance(seen, int) and now - seen > settings.BARONG_SESSION_EXPIRE_TIME
        aged = now >= request.session["created_at"] + settings.BARONG_SESSION_MAX_LIFETIME
        if idle or aged:
            logout(request)
            return False
        if seen != now:
            request.session[SEEN_KEY] = now
        return True

    def each_context(self, request):
        """The sidebar marks one entry as the current page: the longest link the path starts with.

        Django's sidebar marks every entry whose link is part of the path, so the KYC review
        queue (``/admin/kyc/document/review/``) lit "Documents" too; templates/admin/app_list.html
        reads ``current`` instead.
        """
        context = super().each_context(request)
        path = quote(request.path, safe="/")
        models = [
            model
            for app in context.get("available_apps") or ()
            for model in app["models"]
            if model.get("admin_url")
        ]
        here = max(
            (model for model in models if path.startswith(model["admin_url"])),
            key=lambda model: len(model["admin_url"]),
            default=None,
        )
        for model in models:
            model["current"] = model is here
        return context

    @property
    def login_form(self):
        """``BARONG_ADMIN_LOGIN_FORM``: the operator login form lives in accounts."""
        return import_string(settings.BARONG_ADMIN_LOGIN_FORM)

    def get_urls(self):
        return [
            path("login/passkey/", self.login_passkey, name="login_passkey"),
            *super().get_urls(),
        ]

    @method_decorator(require_POST)
    @method_decorator(sensitive_post_parameters("credential"))
    @method_decorator(csrf_protect)
    @method_decorator(never_cache)
    def login_passkey(self, request):
        """The login's passkey step (``BARONG_ADMIN_PASSKEY_FORM``): the login page posts
        the flow it was given and the browser's assertion here. A verified one signs the
        operator in (a new session key, as Django's login view gives); anything else
        goes back to the login page with one message, to start again."""
        index = reverse("admin:index", current_app=self.name)
        next_url = request.POST.get(REDIRECT_FIELD_NAME) or index
        if not url_has_allowed_host_and_scheme(
            next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            next_url = index
        form = import_string(settings.BARONG_ADMIN_PASSKEY_FORM)(request, data=request.POST)
        if form.is_valid():
            auth_login(request, form.get_user())
            self._signed_in(request)
            return HttpResponseRedirect(next_url)
        for error in form.non_field_errors():
            messages.error(request, error)
        login_url = reverse("admin:login", current_app=self.name)
        return HttpResponseRedirect(f"{login_url}?{urlencode({REDIRECT_FIELD_NAME: next_url})}")

    def login(self, request, extra_context=None):
        """Django's login view; a completed login also records how and when."""
        response = super().login(request, extra_context)
        if request.method == "POST" and getattr(request.user, "amr", None) is not None:
            self._signed_in(request)
        return response

    @staticmethod
    def _signed_in(request) -> None:
        """The operator's new session: its start (the absolute lifetime counts from it),
        the login's methods (``amr``, set by accounts.services.operator_login), as the API's
        sessions record them (accounts/sessions.py), and the cap on sessions per user."""
        now = int(time.time())
        request.session["created_at"] = now
        request.session["amr"] = list(request.user.amr)
        request.session["auth_time"] = now
        # The operator's oldest back-office sessions past BARONG_SESSIONS_PER_USER end.
        import_string(settings.BARONG_ADMIN_SESSION_OPENED)(request, request.user)

    def password_change(self, request, extra_context=None):
        """Django's view with ``BARONG_ADMIN_PASSWORD_CHANGE_FORM`` bound to this request."""
        from django.contrib.auth.views import PasswordChangeView

        base = import_string(settings.BARONG_ADMIN_PASSWORD_CHANGE_FORM)
        form_class = type(f"Bound{base.__name__}", (base,), {"request": request})
        request.current_app = self.name
        return PasswordChangeView.as_view(
            form_class=form_class,
            success_url=reverse("admin:password_change_done", current_app=self.name),
            extra_context={**self.each_context(request), **(extra_context or {})},
        )(request)

    def get_app_list(self, request, app_label=None):
        """Display names fixed; a model admin's ``index_entries(request)`` head its app.

        This is how the KYC review queues reach the index (kyc/admin.py) without this
        module knowing the kyc app.
        """
        app_list = super().get_app_list(request, app_label)
        for app in app_list:
            app["name"] = self.APP_NAMES.get(app["app_label"], app["name"])
            extra = []
            for model in app["models"]:
                model["name"] = self.MODEL_NAMES.get(model["object_name"], model["name"])
                model_admin = self._registry.get(model.get("model"))
                index_entries = getattr(model_admin, "index_entries", None)
                if index_entries is not None:
                    extra.extend(index_entries(request))
            if extra:
                app["models"] = [*extra, *app["models"]]
        return app_list


class ServiceAdminMixin:
    """Admin classes whose writes go through services, like every other state change.

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
