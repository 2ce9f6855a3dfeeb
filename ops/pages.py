"""The pages the confirmation and reset e-mails link to, for deployments without a front end.

A GET only shows a form: link scanners and mail previews fetch links, and a fetch must
not use up the token. The POST calls the same services as ``identity/users/email/
confirm_code`` and ``identity/users/password/confirm_code``, so the rules, activity rows
and token handling are the API's.
"""

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from accounts import services
from barong.api.errors import ApiError

MAX_TOKEN = 4096  # a Barong JWT is well under 1 KiB; anything longer is not one

MESSAGES = {
    "jwt.decode_and_verify": "This link is invalid or has expired. Ask for a new e-mail.",
    "identity.user.utilized_token": "This link was already used, or a newer e-mail replaced it.",
    "identity.user.active_or_doesnt_exist": "This e-mail address is already confirmed.",
    "record.not_found": "The account of this link no longer exists.",
    "password.blank": "Please enter a new password.",
    "password.weak": "This password is too weak: try a longer one.",
    "password.requirements": "This password is too short (8 characters at least) or does not"
    " match the rules of this server.",
    "password.too_long": "This password is too long.",
}


class TokenForm(forms.Form):
    token = forms.CharField(max_length=MAX_TOKEN, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")  # labels read "New password", not "…:"
        super().__init__(*args, **kwargs)


class PasswordForm(TokenForm):
    password = forms.CharField(
        label="New password",
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "autofocus": True}),
    )
    confirm_password = forms.CharField(
        label="New password, again",
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("password") != data.get("confirm_password"):
            self.add_error("confirm_password", "The two passwords differ.")
        return data


def _message(exc: ApiError) -> str:
    return MESSAGES.get(exc.keys[0], "This request could not be completed.")


def _token_from_link(request: HttpRequest, param: str) -> str | None:
    token = request.GET.get(param, "")
    return token if token and len(token) <= MAX_TOKEN and "\x00" not in token else None


def _link_opened(
    request: HttpRequest, context: dict, param: str, form_class: type, template: str
) -> HttpResponse:
    """An e-mail link opened (GET): the page's form holding the link's token, or 400 for a
    link whose token is missing or malformed."""
    token = _token_from_link(request, param)
    if token is None:
        return render(request, "ops/link_invalid.html", context, status=400)
    context["form"] = form_class(initial={"token": token})
    return render(request, template, context)


@require_http_methods(["GET", "HEAD", "POST"])
def confirmation_page(request: HttpRequest) -> HttpResponse:
    """``/accounts/confirmation?confirmation_token=…``: a button that confirms the e-mail."""
    context: dict = {"title": "Confirm your e-mail address"}
    if request.method == "POST":
        form = TokenForm(request.POST)
        if not form.is_valid():
            return render(request, "ops/link_invalid.html", context, status=400)
        try:
            user = services.user_email_confirm(token=form.cleaned_data["token"])
        except ApiError as exc:
            context["error"] = _message(exc)
            return render(request, "ops/confirmation.html", context, status=exc.status_code)
        context.update(done=True, email=user.email)
        return render(request, "ops/confirmation.html", context)
    return _link_opened(request, context, "confirmation_token", TokenForm, "ops/confirmation.html")


@require_http_methods(["GET", "HEAD", "POST"])
def password_reset_page(request: HttpRequest) -> HttpResponse:
    """``/accounts/password_reset?reset_token=…``: choose a new password."""
    context: dict = {"title": "Choose a new password"}
    if request.method == "POST":
        form = PasswordForm(request.POST)
        context["form"] = form
        if "token" in form.errors:
            return render(request, "ops/link_invalid.html", context, status=400)
        if not form.is_valid():
            return render(request, "ops/password_reset.html", context, status=422)
        try:
            services.user_password_reset(
                token=form.cleaned_data["token"],
                password=form.cleaned_data["password"],
                request=request,
            )
        except ApiError as exc:
            context["error"] = _message(exc)
            return render(request, "ops/password_reset.html", context, status=exc.status_code)
        context["done"] = True
        return render(request, "ops/password_reset.html", context)
    return _link_opened(request, context, "reset_token", PasswordForm, "ops/password_reset.html")
