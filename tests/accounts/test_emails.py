"""The Celery e-mail task: templates per language, the link, no token in the logs."""

import json
import logging

import pytest

from accounts.models import User
from accounts.tasks import email_language, user_email_send
from barong import jwt as barong_jwt
from tests.accounts.conftest import token_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def user(make_user):
    return make_user(email="mail@example.com", verified=False)


def test_confirmation_email_in_english_by_default(user, mailoutbox, settings):
    settings.BARONG_DOMAIN = "exchange.example"
    settings.DEFAULT_FROM_EMAIL = "Exchange <noreply@exchange.example>"

    assert user_email_send.delay(user.pk, "email_confirmation").get() is True

    message = mailoutbox[0]
    token = token_in(message, "confirmation")
    link = f"https://exchange.example/accounts/confirmation?confirmation_token={token}&lang=en"
    assert message.subject == "Registration Confirmation"
    assert message.from_email == "Exchange <noreply@exchange.example>"
    assert message.to == ["mail@example.com"]
    assert link in message.body
    html, mime = message.alternatives[0]
    assert mime == "text/html"
    assert link.replace("&", "&amp;") in html
    assert "<script" not in html
    claims = barong_jwt.decode(token, sub="confirmation")
    assert (claims["email"], claims["uid"]) == (user.email, user.uid)


def test_reset_email_link(user, mailoutbox, settings):
    settings.BARONG_DOMAIN = "exchange.example"

    user_email_send.delay(user.pk, "password_reset", "ru")

    message = mailoutbox[0]
    token = token_in(message, "reset")
    assert (
        f"https://exchange.example/accounts/password_reset?reset_token={token}&lang=ru"
        in message.body
    )
    assert message.subject == "Сброс пароля"  # noqa: RUF001 (Russian on purpose)
    assert barong_jwt.decode(token, sub="reset")["uid"] == user.uid


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("ru", "ru"),
        ("RU", "ru"),
        (" en ", "en"),
        ("de", "en"),
        ("../../etc/passwd", "en"),
        ("ru/../en", "en"),
        ("рус", "en"),  # noqa: RUF001 (Cyrillic on purpose)
        ("x" * 10_000, "en"),
        (None, "en"),
        ("", "en"),
    ],
)
def test_language_falls_back_to_english(lang, expected):
    assert email_language("email_confirmation", lang) == expected


def test_user_language_is_used_when_no_lang_is_given(user, mailoutbox):
    User.objects.filter(pk=user.pk).update(data=json.dumps({"language": "ru"}))

    user_email_send.delay(user.pk, "email_confirmation")

    assert "&lang=ru" in mailoutbox[0].body


def test_default_language_setting(user, mailoutbox, settings):
    settings.BARONG_DEFAULT_LANGUAGE = "ru"

    user_email_send.delay(user.pk, "email_confirmation")

    assert "&lang=ru" in mailoutbox[0].body


def test_missing_user_sends_nothing(db, mailoutbox):
    assert user_email_send.delay(999_999, "email_confirmation").get() is False
    assert mailoutbox == []


def test_tokens_never_reach_the_logs(user, mailoutbox, caplog):
    caplog.set_level(logging.DEBUG)

    user_email_send.delay(user.pk, "password_reset")

    token = token_in(mailoutbox[0], "reset")
    assert caplog.records
    assert all(token not in record.getMessage() for record in caplog.records)


def test_each_email_carries_a_fresh_token(user, mailoutbox):
    user_email_send.delay(user.pk, "email_confirmation")
    user_email_send.delay(user.pk, "email_confirmation")

    assert token_in(mailoutbox[0], "confirmation") != token_in(mailoutbox[1], "confirmation")
