"""The e-mail links' pages in Chromium: keyboard focus, labels, and the POST doing the work."""

import pytest
from django.db import connections

from accounts import tokens
from accounts.models import User
from tests.backoffice.test_browser import CHROMIUM, CHROMIUM_ARGS

NEW_PASSWORD = "Another-Strong-Pass-77"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium"
    ),
]


@pytest.fixture
def page(live_server, monkeypatch, settings):
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    settings.CSRF_COOKIE_SECURE = False
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 800, "height": 700})
            # Nothing may be fetched from outside this server (closed networks).
            outside: list[str] = []
            context.on(
                "request",
                lambda request: (
                    None if request.url.startswith(live_server.url) else outside.append(request.url)
                ),
            )
            new_page = context.new_page()
            new_page.outside = outside
            yield new_page
        finally:
            browser.close()
            connections.close_all()


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
