"""The confirmation page in Chromium: a front end sends the browser there, the user reads
the operation, types a TOTP code, and is sent back; the upstream then holds a signed
confirmation of exactly that operation."""

import json
import os
from urllib.parse import quote

import pytest

from management import confirmations
from management.models import Confirmation
from tests.backoffice.test_browser import page as browser_page  # noqa: F401  (fixture)
from tests.browser import BROWSER_MARKS, chromium_page
from tests.factories import DEFAULT_PASSWORD
from tests.management.test_confirmations import WITHDRAW
from tests.resource_account import helpers
from tests.resource_account.helpers import two_factor_on
from tests.security.test_passkey_browser import passkey_page  # noqa: F401  (fixture)

clock = helpers.clock
SCREENSHOTS = os.environ.get("BACKOFFICE_SCREENSHOTS")  # a directory, to look at the page
pytestmark = BROWSER_MARKS


@pytest.fixture
def page(live_server, monkeypatch, settings):
    settings.BARONG_CONFIRMATION_RETURN_ORIGINS = [live_server.url]
    with chromium_page(live_server, monkeypatch, settings, width=800, height=800) as new_page:
        yield new_page


def test_confirm_a_withdrawal_with_a_code(page, live_server, transactional_db, make_user, clock):
    user = two_factor_on(make_user(email="browser-withdraw@example.com"), clock)
    row = confirmations.confirmation_request(user=user, fields=WITHDRAW, signers=("applogic",))
    # The user is logged in to the exchange (the session cookie of the identity API).
    login = page.request.post(
        f"{live_server.url}/api/v2/identity/sessions",
        data=json.dumps(
            {"email": user.email, "password": DEFAULT_PASSWORD, "otp_code": clock.next_code(user)}
        ),
        headers={"Content-Type": "application/json"},
    )
    assert login.status == 200, login.text()

    back = f"{live_server.url}/accounts/confirmation?confirmation_token=back-at-the-front"
    page.goto(f"{live_server.url}/confirmations/{row.cid}?return_url={quote(back, safe='')}")
    assert page.title() == "Confirm this operation | Barong"
    assert page.locator("#op-amount").inner_text() == "0.5"
    assert page.locator("#op-asset").inner_text() == "BTC"
    assert page.locator("#op-destination").inner_text() == WITHDRAW["destination"]
    # The whole address is on screen: wrapped inside the page, not cut off.
    cell = page.locator("#op-destination code").bounding_box()
    card = page.locator("#content").bounding_box()
    assert cell["x"] + cell["width"] <= card["x"] + card["width"]
    code = page.get_by_label("Code from your authenticator app")
    assert code.evaluate("node => node === document.activeElement")  # focused on arrival
    row.refresh_from_db()
    assert row.state == Confirmation.State.PENDING  # opening the page did nothing

    if SCREENSHOTS:
        page.screenshot(path=f"{SCREENSHOTS}/confirmation.png", full_page=True)
    code.fill("000000")
    page.get_by_role("button", name="Confirm with my code").click()
    page.wait_for_selector("#page-error")
    assert "not right" in page.locator("#page-error").inner_text()
    helpers.unthrottle(user)

    page.get_by_label("Code from your authenticator app").fill(clock.next_code(user))
    page.get_by_role("button", name="Confirm with my code").click()
    page.wait_for_url(back)
    row.refresh_from_db()
    assert (row.state, row.method, row.attempts) == ("confirmed", "otp", 1)
    assert row.token
    assert page.outside == []


def test_confirm_with_a_passkey(live_server, transactional_db, make_user, settings, passkey_page):  # noqa: F811
    """Chromium's virtual authenticator signs the page's challenge: the operation's hash."""
    page, _cdp, _authenticator_id = passkey_page
    user = make_user(email="passkey-withdraw@example.com")
    registered = page.evaluate("([e, p]) => registerPasskey(e, p)", [user.email, DEFAULT_PASSWORD])
    assert registered["verified"]["status"] == 201, registered
    logged_in = page.evaluate("([e, p]) => loginWithPasskey(e, p)", [user.email, DEFAULT_PASSWORD])
    assert logged_in["me"]["status"] == 200, logged_in
    row = confirmations.confirmation_request(user=user, fields=WITHDRAW, signers=("applogic",))

    page.goto(f"{live_server.url}/confirmations/{row.cid}")
    assert page.locator("#op-amount").inner_text() == "0.5"
    assert page.locator("#otp-form").count() == 0  # no 2FA app on this account
    page.get_by_role("button", name="Confirm with my passkey").click()
    page.wait_for_selector("#page-done")
    assert page.locator("#page-done").inner_text() == "This operation is confirmed."
    row.refresh_from_db()
    assert (row.state, row.method) == ("confirmed", "hwk")
