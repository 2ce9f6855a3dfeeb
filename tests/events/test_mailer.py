"""E-mails driven by events: templates per language, the link, once per event, no token in logs."""

import json
import logging

import pytest

from accounts.models import User
from accounts.services import user_email_confirmation_request, user_password_reset_request
from barong import jwt as barong_jwt
from events.mailer import MAILS, event_email_deliver, mail_language
from events.models import OutboxEvent
from tests.accounts.conftest import token_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def user(make_user):
    return make_user(email="mail@example.com", verified=False)


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run a service as a request does: its on-commit work (relay, e-mail task) follows."""

    def run(service, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return service(**kwargs)

    return run


def test_confirmation_email_in_english_by_default(user, mailoutbox, settings, committed):
    settings.BARONG_DOMAIN = "exchange.example"
    settings.DEFAULT_FROM_EMAIL = "Exchange <noreply@exchange.example>"

    committed(user_email_confirmation_request, email=user.email)

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
    event = OutboxEvent.objects.get(routing_key="user.email.confirmation.token")
    assert message.extra_headers["Message-ID"].startswith(f"<{event.jti}@")
    assert event.delivered_at is not None
    assert event.payload["record"]["token"] is None  # delivered: the history keeps no token


def test_reset_email_link_in_the_requested_language(user, mailoutbox, settings, committed):
    settings.BARONG_DOMAIN = "https://exchange.example/"

    committed(user_password_reset_request, email=user.email, lang="ru")

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
    mail = MAILS["system.user.email.confirmation.token"]
    assert mail_language(mail, lang) == expected


def test_user_language_is_used_when_no_lang_is_given(user, mailoutbox, committed):
    User.objects.filter(pk=user.pk).update(data=json.dumps({"language": "ru"}))

    committed(user_email_confirmation_request, email=user.email)

    assert "&lang=ru" in mailoutbox[0].body


def test_default_language_setting(user, mailoutbox, settings, committed):
    settings.BARONG_DEFAULT_LANGUAGE = "ru"

    committed(user_email_confirmation_request, email=user.email)

    assert "&lang=ru" in mailoutbox[0].body


def test_a_user_gone_before_delivery_gets_nothing(user, mailoutbox):
    user_email_confirmation_request(email=user.email)  # recorded, not yet delivered
    event = OutboxEvent.objects.get(routing_key="user.email.confirmation.token")
    User.objects.filter(pk=user.pk).delete()

    assert event_email_deliver(event_id=event.pk) is False
    assert mailoutbox == []
    event.refresh_from_db()
    assert event.mailed_at is not None  # settled: nobody is left to mail


def test_a_repeated_task_sends_the_email_once(user, mailoutbox):
    user_email_confirmation_request(email=user.email)
    event = OutboxEvent.objects.get(routing_key="user.email.confirmation.token")

    assert event_email_deliver(event_id=event.pk) is True
    assert event_email_deliver(event_id=event.pk) is False

    assert len(mailoutbox) == 1
    event.refresh_from_db()
    assert event.delivered_at is not None


def test_tokens_never_reach_the_logs(user, mailoutbox, caplog, committed):
    caplog.set_level(logging.DEBUG)

    committed(user_password_reset_request, email=user.email)

    token = token_in(mailoutbox[0], "reset")
    assert caplog.records
    assert all(token not in record.getMessage() for record in caplog.records)


def test_each_email_carries_a_fresh_token(user, mailoutbox, committed):
    committed(user_email_confirmation_request, email=user.email)
    committed(user_email_confirmation_request, email=user.email)

    assert token_in(mailoutbox[0], "confirmation") != token_in(mailoutbox[1], "confirmation")
