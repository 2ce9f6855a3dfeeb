"""In Chromium with a virtual authenticator: an operator whose second factor is a passkey
logs in to the back-office with it, through the login page's own script."""

import pytest

from accounts.models import WebAuthnCredential
from activities.models import Activity
from tests.backoffice.test_browser import page as browser_page  # noqa: F401  (fixture)
from tests.backoffice.test_browser import pytestmark  # noqa: F401  (browser, Chromium)
from tests.factories import DEFAULT_PASSWORD
from tests.security.test_passkey_browser import passkey_page  # noqa: F401  (fixture)


@pytest.mark.parametrize("with_totp", [False, True], ids=["passkey only", "passkey and TOTP"])
def test_an_operator_logs_in_with_the_passkey(
    passkey_page,  # noqa: F811
    transactional_db,
    make_admin,
    live_server,
    with_totp,
):
    page, cdp, authenticator_id = passkey_page
    operator = make_admin(role="compliance")
    registered = page.evaluate(
        "([e, p]) => registerPasskey(e, p)", [operator.email, DEFAULT_PASSWORD]
    )
    assert registered["verified"]["status"] == 201, registered
    if with_totp:
        from accounts.services import user_otp_set
        from accounts.services.otp import otp_secret_create

        otp_secret_create(user=operator)
        user_otp_set(user=operator, enabled=True)
    held = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})
    hosts = []
    page.on("request", lambda request: hosts.append(request.url.split("/")[2]))

    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", operator.email)
    page.fill("#id_password", DEFAULT_PASSWORD)
    page.click("#login-form input[type=submit]")
    page.wait_for_selector("#passkey-button")

    # The password alone: still on the login page, the back-office closed.
    assert "Confirm with your passkey" in page.inner_text("#passkey-step")
    assert page.locator("#login-form").count() == (1 if with_totp else 0)
    assert not Activity.objects.filter(user=operator, category="admin").exists()

    page.click("#passkey-button")
    page.wait_for_url(f"{live_server.url}/admin/")

    assert "Document review queue" in page.content()
    assert set(hosts) == {live_server.url.split("/")[2]}  # no request to another host
    stored = WebAuthnCredential.objects.get(user=operator)
    after = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})
    assert after["credentials"][0]["signCount"] > held["credentials"][0]["signCount"]
    assert stored.sign_count == after["credentials"][0]["signCount"]
    assert stored.last_used_at is not None
    logins = Activity.objects.filter(user=operator, topic="session", action__startswith="login")
    assert sorted(logins.values_list("category", "action")) == [
        ("admin", "login"),
        ("user", "login"),  # the API login of the registration
        ("user", "login::webauthn"),
    ]
