"""The two e-mailed codes (e-mail confirmation, password reset) read one input: its refusals."""

from http import HTTPStatus

import pytest

from tests.accounts.conftest import STRONG_PASSWORD

pytestmark = pytest.mark.django_db

EMAIL = "someone@example.com"
GENERATE_CODE = pytest.mark.parametrize(
    "url",
    [
        "/api/v2/identity/users/email/generate_code",
        "/api/v2/identity/users/password/generate_code",
    ],
    ids=["email", "password"],
)


@pytest.fixture
def someone(make_user):
    """A user the code could go to: a refusal is about the input, not an unknown address."""
    return make_user(email=EMAIL, password=STRONG_PASSWORD, verified=False)


@GENERATE_CODE
@pytest.mark.parametrize("fmt", ["json", "multipart"])
def test_missing_and_blank_email(api, someone, mailoutbox, url, fmt):
    missing = api.post(url, {}, format="json")
    blank = api.post(url, {"email": ""}, format=fmt)

    assert missing.status_code == blank.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert missing.json() == {
        "errors": ["identity.user.missing_email", "identity.user.empty_email"]
    }
    assert blank.json() == {"errors": ["identity.user.empty_email"]}
    assert mailoutbox == []


@GENERATE_CODE
@pytest.mark.parametrize(
    ("payload", "key"),
    [
        ({"email": {"$ne": 1}}, "identity.user.invalid_email"),
        ({"email": [EMAIL]}, "identity.user.invalid_email"),
        ({"email": "x" * 70_000}, "identity.user.invalid_email"),
        ({"email": EMAIL, "lang": ["ru"]}, "identity.user.invalid_lang"),
        ({"email": EMAIL, "lang": {"x": 1}}, "identity.user.invalid_lang"),
        ({"email": EMAIL, "captcha_response": 1}, "identity.user.invalid_captcha_format"),
    ],
)
def test_wrong_types(api, someone, mailoutbox, url, payload, key):
    response = api.post(url, payload, format="json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": [key]}
    assert mailoutbox == []


@GENERATE_CODE
@pytest.mark.parametrize("email", ["a" * 10_000 + "@example.com", "пользователь@пример.рф", "😀"])
def test_hostile_emails_answer_201(api, mailoutbox, url, email):
    response = api.post(url, {"email": email}, format="json")

    assert response.status_code == HTTPStatus.CREATED
    assert mailoutbox == []
