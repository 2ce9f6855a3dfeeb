"""The e-mail links' pages in Chromium: keyboard focus, labels, and the POST doing the work."""

import pytest

from accounts import tokens
from accounts.models import User
from tests.browser import BROWSER_MARKS, chromium_page

NEW_PASSWORD = "Another-Strong-Pass-77"

pytestmark = BROWSER_MARKS


@pytest.fixture
def page(live_server, monkeypatch, settings):
    with chromium_page(live_server, monkeypatch, settings, width=800, height=700) as new_page:
        yield new_page


def test_confirm_by_keyboard(page, live_server, transactional_db, make_user):
    user = make_user(verified=False)
    token = tokens.token_issue(user=user, purpose=tokens.CONFIRMATION)
    page.goto(f"{live_server.url}/accounts/confirmation?confirmation_token={token}&lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.title() == "Confirm your e-mail address | Barong"
    button = page.get_by_role("button", name="Confirm my e-mail address")
    assert button.evaluate("node => node === document.activeElement")  # focused on arrival
    user.refresh_from_db()
    assert user.state == User.State.PENDING  # opening the page did nothing
    page.keyboard.press("Enter")
    page.wait_for_selector("#page-done")
    assert user.email in page.locator("#page-done").inner_text()
    user.refresh_from_db()
    assert user.state == User.State.ACTIVE
    assert page.outside == []


def test_reset_with_labelled_fields(page, live_server, transactional_db, make_user):
    user = make_user()
    token = tokens.token_issue(user=user, purpose=tokens.RESET)
    page.goto(f"{live_server.url}/accounts/password_reset?reset_token={token}")
    first = page.get_by_label("New password", exact=True)
    assert first.evaluate("node => node === document.activeElement")
    first.fill(NEW_PASSWORD)
    page.get_by_label("New password, again").fill(NEW_PASSWORD + "typo")
    page.get_by_role("button", name="Set the new password").click()
    page.wait_for_selector("#id_confirm_password-error")
    assert "differ" in page.locator("#id_confirm_password-error").inner_text()

    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password, again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set the new password").click()
    page.wait_for_selector("#page-done")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert page.outside == []
