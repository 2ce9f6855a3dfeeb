"""baseapp 2-4-stable's calls replayed as it sends them, and the fields its components read.

Each test walks one part of the front end in its sagas' order (tests/compat/baseapp.py):
sign-up to a verified profile, 2FA and API keys, password reset, and the answers it
branches on (the status and the error key). A change that would break OpenDAX's front
end fails here.
"""

import json
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from kyc.phones import MOCK_CODE
from tests.accounts.conftest import CommittingAPIClient, last_token
from tests.authz.conftest import signed_headers
from tests.compat.baseapp import Baseapp, Failure, FormData, alert
from tests.conftest import BROWSER_UA, bearer_for
from tests.factories import DEFAULT_PASSWORD, totp_code
from tests.kyc.conftest import pdf, png
from tests.resource_account.helpers import unthrottle

pytestmark = pytest.mark.django_db

PASSWORD = "Harbour-Falcon-Meadow-57"
NEW_PASSWORD = "Orchard-Lantern-Comet-84"
ENTITY_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def _ddmmyyyy(days: int) -> str:
    """A date as baseapp's date inputs write it (``formatDate``: DD/MM/YYYY)."""
    return (timezone.now() + timedelta(days=days)).strftime("%d/%m/%Y")


def assert_user(user: dict, **expected) -> None:
    """The fields baseapp's ``User`` type and components read (profile, sidebar, API-key
    and verification pages), with their types."""
    assert isinstance(user["email"], str)
    assert isinstance(user["uid"], str)
    assert isinstance(user["level"], int)
    assert isinstance(user["otp"], bool)
    assert isinstance(user["role"], str)
    assert isinstance(user["state"], str)
    assert isinstance(user["profiles"], list)
    assert user["data"] is None or isinstance(json.loads(user["data"]), dict)
    for name, value in expected.items():
        assert user[name] == value, name


def private(labels: list[dict]) -> dict[str, str]:
    """``ProfileVerification`` finds labels by key, scope ``private`` and value."""
    for label in labels:
        assert {"key", "value", "scope", "created_at", "updated_at"} <= set(label)
    return {x["key"]: x["value"] for x in labels if x["scope"] == "private"}


# ---------------------------------------------------------------- a new user, to level 3


def test_sign_up_confirm_and_verify_a_profile_as_baseapp_does(mailoutbox, make_admin):
    app = Baseapp()
    email = "opendax.user@example.com"
    configs = app.configs()
    assert configs["captcha_type"] == "none"
    assert isinstance(configs["password_min_entropy"], int | float)
    assert app.entropy(PASSWORD) >= configs["password_min_entropy"]

    app.sign_up(email=email, password=PASSWORD, language="ru")
    pending = app.sign_in(email=email, password=PASSWORD)
    assert pending.require_verification  # state pending: the "confirm your e-mail" screen
    app.email_verification(email)  # "resend"
    app.verification(last_token(mailoutbox, "confirmation", to=email))

    signed = app.sign_in(email=email, password=PASSWORD)
    assert (signed.require2fa, signed.require_verification, signed.language) == (False, False, "ru")
    assert_user(signed.user, email=email, level=1, state="active", otp=False, role="member")
    assert app.csrf_token == signed.user["csrf_token"]
    assert private(app.labels()) == {"email": "verified"}

    # The sidebar's language switch: the whole user object back, with data replaced.
    changed = app.change_language(app.user(), "en")
    assert_user(changed, email=email, level=1)
    assert json.loads(changed["data"]) == {"language": "en"}
    assert app.user()["data"] == changed["data"]

    # Phone: add, a second "send" of the same number resends, then verify: level 2.
    assert app.send_code("+447418084106") == "sent"
    assert app.send_code("+447418084106") == "resent"
    app.confirm_phone(phone_number="+447418084106", code=MOCK_CODE)
    assert_user(app.user(), level=2)
    assert private(app.labels())["phone"] == "verified"

    # Identity: dates as baseapp's inputs write them, metadata as JSON text, confirm: true.
    app.send_identity(
        {
            "first_name": "Grace",
            "last_name": "Hopper",
            "dob": "09/12/1990",
            "address": "12 Harbour Street",
            "postcode": "SW1Y 4LE",
            "city": "London",
            "country": "GB",
            "metadata": json.dumps({"nationality": "GB"}),
            "confirm": True,
        }
    )
    profile = app.user()["profiles"][0]
    assert (profile["dob"], profile["state"]) == ("1990-12-09", "submitted")
    assert private(app.labels())["profile"] == "submitted"

    form = FormData(
        {
            "upload[]": [png("front.png"), pdf("back.pdf")],
            "doc_expire": _ddmmyyyy(800),
            "doc_type": "Passport",
            "doc_number": "AB1234567",
        }
    )
    app.send_documents(form)
    assert private(app.labels())["document"] == "pending"  # "isDocumentPending"

    back_office = CommittingAPIClient(HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR="198.51.100.8")
    back_office.credentials(HTTP_AUTHORIZATION=f"Bearer {bearer_for(make_admin())}")
    back_office.post(
        "/api/v2/admin/users/labels/update",
        {"uid": signed.user["uid"], "key": "document", "value": "verified", "scope": "private"},
    )
    assert_user(app.user(), level=3, state="active")

    rows, total = app.user_activity(page=0, limit=25)
    assert total >= len(rows) > 0
    for row in rows:  # ProfileAccountActivity
        assert {"created_at", "action", "result", "user_ip", "user_agent"} <= set(row)
    actions = [row["action"] for row in rows]
    assert {"login", "signup", "data update"} <= set(actions)

    app.change_password(old=PASSWORD, new=NEW_PASSWORD)
    app.logout()
    assert app.csrf_token is None
    with pytest.raises(Failure) as gone:
        app.user()
    assert (gone.value.code, alert(gone.value)) == (401, "reset")
    assert app.sign_in(email=email, password=PASSWORD).failure.code == 401
    assert_user(app.sign_in(email=email, password=NEW_PASSWORD).user, level=3)


# ---------------------------------------------------------------- 2FA and API keys


def test_2fa_login_and_api_keys_as_baseapp_does(make_user, clock):
    user = make_user(password=PASSWORD)
    app = Baseapp()
    app.sign_in(email=user.email, password=PASSWORD)

    qr = app.generate_2fa_qr()
    assert qr["url"].startswith("otpauth://totp/")
    assert qr["barcode"]
    app.toggle_2fa(code=totp_code(user, clock.now), enable=True)
    assert app.user()["otp"] is True
    app.logout()

    # The first sign-in form has no code: 401 missing_otp switches to the code form.
    first = app.sign_in(email=user.email, password=PASSWORD)
    assert (first.require2fa, first.failure, first.user) == (True, None, None)
    wrong = app.sign_in(email=user.email, password=PASSWORD, otp_code="000000")
    assert (wrong.failure.code, wrong.failure.message) == (403, ["identity.session.invalid_otp"])
    assert alert(wrong.failure) == "shown"
    unthrottle(user)  # the one-second back-off after a wrong code, which a person waits out
    signed = app.sign_in(email=user.email, password=PASSWORD, otp_code=clock.next_code(user))
    assert signed.require2fa is True  # user.otp: the saga keeps the 2FA flag of the user
    assert_user(signed.user, otp=True, state="active")

    assert app.api_keys() == []
    created = app.api_key_create(clock.next_code(user))
    assert created["secret"]["data"]["value"]  # the creation modal's secret
    assert (created["algorithm"], created["state"]) == ("HS256", "active")
    kid, secret = created["kid"], created["secret"]["data"]["value"]
    (listed,) = app.api_keys()
    assert {k: listed[k] for k in ("kid", "algorithm", "state")} == {
        "kid": kid,
        "algorithm": "HS256",
        "state": "active",
    }
    assert ENTITY_TIME.match(listed["created_at"])
    assert ENTITY_TIME.match(listed["updated_at"])
    assert "secret" not in listed

    off = app.api_key_switch(listed, clock.next_code(user))
    assert off["kid"] == kid
    assert off["state"] != "active"
    assert ENTITY_TIME.match(off["updated_at"])
    signed_call = app.browser.get(
        "/api/v2/auth/api/v2/peatio/account/balances", **signed_headers(kid, secret)
    )
    assert signed_call.status_code == 401
    on = app.api_key_switch(off, clock.next_code(user))
    assert on["state"] == "active"

    app.api_key_delete(kid, clock.next_code(user))
    assert app.api_keys() == []
    app.toggle_2fa(code=clock.next_code(user), enable=False)
    assert app.user()["otp"] is False


# ---------------------------------------------------------------- password reset


def test_forgotten_password_as_baseapp_does(make_user, mailoutbox):
    user = make_user(password=DEFAULT_PASSWORD)
    app = Baseapp()

    app.forgot_password(user.email)
    app.forgot_password("nobody@example.com")  # the same answer for an unknown e-mail
    token = last_token(mailoutbox, "reset", to=user.email)
    app.change_forgot_password(token=token, password=PASSWORD)

    assert_user(app.sign_in(email=user.email, password=PASSWORD).user, email=user.email)
    assert mailoutbox[-1].subject == "Your password was changed"
    with pytest.raises(Failure) as used:  # the link once more
        app.change_forgot_password(token=token, password=NEW_PASSWORD)
    assert used.value.code == 422
    assert alert(used.value) == "shown"


# ---------------------------------------------------------------- answers baseapp branches on


def test_refusals_baseapp_branches_on(make_user):
    """The statuses and keys of handleAlertSaga and the sagas: a locked account is told and
    logged out of the UI; a forged confirmation link is shown; a CSRF mismatch logs out."""
    locked = make_user(password=PASSWORD)
    User.objects.filter(pk=locked.pk).update(state="locked")
    app = Baseapp()

    refused = app.sign_in(email=locked.email, password=PASSWORD).failure
    assert (refused.code, refused.message) == (401, ["identity.session.not_active"])
    assert alert(refused) == "reset"
    with pytest.raises(Failure) as forged:
        app.verification("not-a-token")
    assert (forged.value.code, forged.value.message) == (403, ["jwt.decode_and_verify"])
    assert alert(forged.value) == "shown"

    member = make_user(password=PASSWORD)
    app.sign_in(email=member.email, password=PASSWORD)
    app.csrf_token = "stale-token-of-another-session"
    with pytest.raises(Failure) as mismatch:
        app.change_language(app.user(), "en")
    assert (mismatch.value.code, mismatch.value.message) == (401, ["authz.csrf_token_mismatch"])
    assert alert(mismatch.value) == "reset"
    assert User.objects.get(pk=member.pk).data is None
