"""End to end in Chromium with a virtual authenticator: register a passkey, log in with it."""

import pytest

from accounts.models import WebAuthnCredential
from tests.backoffice.test_browser import page as browser_page  # noqa: F401  (fixture)
from tests.browser import BROWSER_MARKS
from tests.factories import DEFAULT_PASSWORD

pytestmark = BROWSER_MARKS
AUTHENTICATOR = {
    "protocol": "ctap2",
    "transport": "internal",
    "hasResidentKey": True,
    "hasUserVerification": True,
    "isUserVerified": True,
}


@pytest.fixture
def passkey_page(browser_page, live_server, settings):  # noqa: F811
    """The test page at the live server's origin, the relying party set to match it."""
    assert live_server.url.startswith("http://localhost:")
    settings.ROOT_URLCONF = "tests.security.browser_urls"
    settings.BARONG_WEBAUTHN_RP_ID = "localhost"
    settings.BARONG_WEBAUTHN_ORIGINS = [live_server.url]
    page = browser_page
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    authenticator = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})
    page.goto(f"{live_server.url}/passkey-test")
    return page, cdp, authenticator["authenticatorId"]


def test_register_a_passkey_and_log_in_with_it(passkey_page, transactional_db, make_user):
    page, cdp, authenticator_id = passkey_page
    user = make_user()

    registered = page.evaluate("([e, p]) => registerPasskey(e, p)", [user.email, DEFAULT_PASSWORD])

    assert registered["login"] == 200
    assert registered["verified"]["status"] == 201, registered
    assert registered["logout"] == 200
    stored = WebAuthnCredential.objects.get(user=user)
    assert stored.name == "virtual"
    held = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})
    assert len(held["credentials"]) == 1

    result = page.evaluate("([e, p]) => loginWithPasskey(e, p)", [user.email, DEFAULT_PASSWORD])

    assert result["plain"]["status"] == 403
    assert result["plain"]["body"] == {"errors": ["identity.session.webauthn_required"]}
    assert result["options"] == 200
    assert result["verified"]["status"] == 200, result
    assert result["verified"]["body"]["uid"] == user.uid
    assert result["replay"]["status"] == 403
    assert result["replay"]["body"] == {"errors": ["identity.session.invalid_webauthn"]}
    assert result["me"]["status"] == 200
    assert result["me"]["body"]["uid"] == user.uid
    stored.refresh_from_db()
    assert stored.last_used_at is not None
    after = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})
    assert after["credentials"][0]["signCount"] > held["credentials"][0]["signCount"]
    assert stored.sign_count == after["credentials"][0]["signCount"]


def test_a_page_on_another_origin_cannot_use_the_passkey(
    passkey_page, transactional_db, make_user, live_server, settings
):
    page, _, _ = passkey_page
    user = make_user()
    page.evaluate("([e, p]) => registerPasskey(e, p)", [user.email, DEFAULT_PASSWORD])
    settings.BARONG_WEBAUTHN_ORIGINS = ["https://exchange.example"]

    result = page.evaluate("([e, p]) => loginWithPasskey(e, p)", [user.email, DEFAULT_PASSWORD])

    assert result["verified"]["status"] == 403
    assert result["me"]["status"] == 401
