"""End to end in Chromium: an operator approves a user's documents from the review queue."""

import os
from pathlib import Path

import pytest

from accounts.models import Label
from tests.browser import BROWSER_MARKS, chromium_page
from tests.factories import DEFAULT_PASSWORD

SCREENSHOTS = os.environ.get("BACKOFFICE_SCREENSHOTS")  # a directory, to look at the pages

pytestmark = BROWSER_MARKS


@pytest.fixture
def page(live_server, monkeypatch, settings):
    with chromium_page(live_server, monkeypatch, settings, width=1400, height=1000) as new_page:
        yield new_page


def _shot(page, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("role", ["compliance", "superadmin"])
def test_operator_approves_documents_and_the_user_reaches_level_3(
    page, live_server, transactional_db, make_admin, kyc_user, role
):
    operator = make_admin(role=role)
    assert (kyc_user.level, kyc_user.state) == (2, "active")

    page.goto(f"{live_server.url}/admin/")
    page.fill("#id_username", operator.email)
    page.fill("#id_password", DEFAULT_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")

    page.click("text=Document review queue")
    page.wait_for_selector(f"#kyc-{kyc_user.uid}")
    card = page.locator(f"#kyc-{kyc_user.uid}")
    assert kyc_user.email in card.inner_text()
    assert card.locator("img").count() == 1
    _shot(page, f"queue-{role}")

    card.locator("input[name=reason]").fill("Passport matches the profile")
    card.locator("button[value=verified]").click()
    page.wait_for_selector(".messagelist .success")
    _shot(page, f"approved-{role}")

    assert "level 3" in page.locator(".messagelist").inner_text()
    assert page.locator(f"#kyc-{kyc_user.uid}").count() == 0
    kyc_user.refresh_from_db()
    assert kyc_user.level == 3
    label = Label.objects.get(user=kyc_user, key="document", scope="private")
    assert (label.value, label.description) == ("verified", "Passport matches the profile")


def test_member_cannot_log_in_to_the_back_office(page, live_server, transactional_db, make_user):
    member = make_user()

    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", member.email)
    page.fill("#id_password", DEFAULT_PASSWORD)
    page.click("input[type=submit]")

    page.wait_for_selector(".errornote")
    page.goto(f"{live_server.url}/admin/kyc/document/review/")
    assert "/admin/login/" in page.url


def test_operator_with_2fa_logs_in_with_the_code(page, live_server, transactional_db, make_admin):
    from accounts.services import user_otp_set
    from accounts.services.otp import otp_secret_create
    from tests.factories import totp_code

    operator = make_admin(role="support")
    otp_secret_create(user=operator)
    user_otp_set(user=operator, enabled=True)

    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", operator.email)
    page.fill("#id_password", DEFAULT_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector(".errornote")
    _shot(page, "login-2fa-missing")

    page.fill("#id_password", DEFAULT_PASSWORD)
    page.fill("#id_otp_code", totp_code(operator))
    page.click("input[type=submit]")

    page.wait_for_url(f"{live_server.url}/admin/")
    assert "Users" in page.locator("#content-main").inner_text()
