"""Every page of this server that asks for a password masks it and lets a password manager
fill it: ``type="password"``, an ``autocomplete`` hint, no paste blocking (docs/security.md,
ASVS 6.2.6 and 6.2.7). The API has no pages; these are the back-office login and the
password-reset link's page."""

import re

import pytest
from django.test import Client

from accounts import tokens
from tests.conftest import BROWSER_UA

pytestmark = pytest.mark.django_db

INPUT_RE = re.compile(r"<input[^>]*>")


def _password_inputs(html: str) -> list[str]:
    return [tag for tag in INPUT_RE.findall(html) if 'name="password' in tag or "_password" in tag]


def _check(html: str) -> None:
    inputs = _password_inputs(html)
    assert inputs, "the page asks for no password"
    for tag in inputs:
        assert 'type="password"' in tag, tag
        assert "autocomplete=" in tag, tag
    assert "onpaste" not in html.lower()


def test_the_back_office_login_masks_the_password():
    response = Client(HTTP_USER_AGENT=BROWSER_UA).get("/admin/login/")

    assert response.status_code == 200
    _check(response.content.decode())


def test_the_password_reset_page_masks_both_passwords(make_user):
    token = tokens.token_issue(user=make_user(), purpose=tokens.RESET)

    response = Client(HTTP_USER_AGENT=BROWSER_UA).get(
        f"/accounts/password_reset?reset_token={token}&lang=en"
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert len(_password_inputs(html)) == 2
    _check(html)
