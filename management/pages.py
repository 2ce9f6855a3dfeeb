"""``/confirmations/<cid>``: the page that shows an operation and takes the user's passkey
or TOTP code for it, so a front end can simply send the browser here.

The user must be logged in (the session cookie of the resource API; the form has Django's
CSRF token). GET changes nothing. The POST calls ``confirmation_confirm`` or
``confirmation_reject``, the resource API's services. ``return_url`` is followed only to
an origin listed in ``BARONG_CONFIRMATION_RETURN_ORIGINS``.
"""

import json

from django import forms
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from accounts.models import User
from accounts.services.passkeys import webauthn_assertion_options
from accounts.sessions import ACTIVE_STATES, session_check
from barong.api.errors import ApiError
from management import confirmations
from management.models import Confirmation

MESSAGES = {
    "resource.confirmation.not_found": "This confirmation does not exist, or belongs to"
    " another account.",
    "resource.confirmation.expired": "This confirmation has expired. Start the operation again.",
    "resource.confirmation.not_pending": "This operation was already confirmed or refused.",
    "resource.confirmation.digest_mismatch": "The operation changed since this page was shown."
    " Nothing was confirmed.",
    "resource.confirmation.invalid_otp": "This code is not right. Enter the current code of"
    " your authenticator app.",
    "resource.confirmation.invalid_webauthn": "The passkey's answer was not accepted.",
    "resource.confirmation.too_many_attempts": "Too many wrong attempts: this confirmation is"
    " void. Start the operation again.",
    "resource.confirmation.too_many_requests": "Too many attempts. Wait a little and try again.",
    "resource.confirmation.missing_factor": "Enter the code of your authenticator app.",
    "resource.confirmation.otp_not_enabled": "Two-factor codes are not enabled on this account.",
}
STATE_TEXT = {
    Confirmation.State.CONFIRMED: "This operation is confirmed.",
    Confirmation.State.REJECTED: "This operation was refused.",
    Confirmation.State.FAILED: "This confirmation is void after too many wrong attempts.",
    "expired": "This confirmation has expired. Start the operation again.",
}


class DecisionForm(forms.Form):
    """One decision on the displayed operation: a code, an assertion, or a refusal."""

    digest = forms.CharField(max_length=64, widget=forms.HiddenInput)
    return_url = forms.CharField(max_length=2048, required=False, widget=forms.HiddenInput)
    otp_code = forms.CharField(
        label="Code from your authenticator app",
        max_length=16,
        required=False,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )
    credential = forms.CharField(max_length=16384, required=False, widget=forms.HiddenInput)
    decision = forms.ChoiceField(choices=[("confirm", "confirm"), ("reject", "reject")])

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


def _logged_in_user(request: HttpRequest) -> User | None:
    try:
        uid = session_check(request, csrf=False)  # the form carries Django's CSRF token
    except ApiError:
        return None
    return User.objects.filter(uid=uid, state__in=ACTIVE_STATES).first()


def _decide(request: HttpRequest, user: User, cid: str, data: dict) -> Confirmation:
    if data["decision"] == "reject":
        return confirmations.confirmation_reject(
            user=user, cid=cid, digest=data["digest"], request=request
        )
    credential = None
    if data["credential"]:
        try:
            credential = json.loads(data["credential"])
        except ValueError as exc:
            raise ApiError("resource.confirmation.invalid_webauthn") from exc
    if credential is None and not data["otp_code"].strip():
        raise ApiError("resource.confirmation.missing_factor")
    return confirmations.confirmation_confirm(
        user=user,
        cid=cid,
        digest=data["digest"],
        otp_code=None if credential is not None else data["otp_code"],
        credential=credential,
        request=request,
    )


@require_http_methods(["GET", "HEAD", "POST"])
def confirmation_page(request: HttpRequest, cid: str) -> HttpResponse:
    """Show the operation; on POST confirm it with a code or passkey, or refuse it."""
    context: dict = {"title": "Confirm this operation"}
    source = request.POST if request.method == "POST" else request.GET
    return_url = source.get("return_url", "")
    if return_url and not confirmations.return_url_allowed(return_url):
        context["error"] = "This page was opened with a return address it may not send you to."
        return render(request, "management/operation.html", context, status=400)
    user = _logged_in_user(request)
    if user is None:
        context["error"] = "Log in to your account first, then open this page again."
        return render(request, "management/operation.html", context, status=401)
    try:
        row = confirmations.confirmation_get(cid=cid, user=user)
    except ApiError as exc:
        context["error"] = MESSAGES[exc.keys[0]]
        return render(request, "management/operation.html", context, status=exc.status_code)
    status = 200
    if request.method == "POST":
        form = DecisionForm(request.POST)
        if not form.is_valid():
            context["error"] = "The form was incomplete. Nothing was confirmed."
            status = 400
        else:
            try:
                row = _decide(request, user, cid, form.cleaned_data)
            except ApiError as exc:
                context["error"] = MESSAGES.get(exc.keys[0], "This could not be completed.")
                status = exc.status_code
                row.refresh_from_db()
            else:
                if return_url:
                    return HttpResponseRedirect(return_url, status=303)
    state = confirmations.confirmation_state(row)
    methods = confirmations.confirmation_methods(user=user)
    context.update(
        row=row,
        operation=row.operation,
        pending=state == Confirmation.State.PENDING,
        state_text=STATE_TEXT.get(state, ""),
        otp=("otp" in methods),
        form=DecisionForm(initial={"digest": row.digest, "return_url": return_url}),
        return_url=return_url,
    )
    if context["pending"] and "hwk" in methods:
        options = webauthn_assertion_options(user=user, challenge=bytes.fromhex(row.digest))
        context["passkey_options"] = options["publicKey"] if options else None
    return render(request, "management/operation.html", context, status=status)
