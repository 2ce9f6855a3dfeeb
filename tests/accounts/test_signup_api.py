"""POST /identity/users: sign-up."""

import json
import re
from http import HTTPStatus
from importlib import import_module

import pytest
from django.conf import settings as django_settings

from accounts.models import User
from activities.models import Activity
from permissions.models import Permission
from tests.accounts.conftest import STRONG_PASSWORD, token_in
from tests.conftest import BROWSER_UA

pytestmark = pytest.mark.django_db

SIGNUP = "/api/v2/identity/users"
COOKIE = "_barong_session"


def no_side_effects(mailoutbox, users_before: int = 0) -> None:
    assert User.objects.count() == users_before
    assert not Activity.objects.exists()
    assert mailoutbox == []


# ---------------------------------------------------------------- success


@pytest.mark.parametrize("fmt", ["json", "multipart"])
def test_signup_creates_a_pending_user_logged_in_at_once(api, mailoutbox, fmt):
    response = api.post(
        SIGNUP, {"email": "New.User@Example.com", "password": STRONG_PASSWORD}, format=fmt
    )

    assert response.status_code == HTTPStatus.CREATED
    body = response.json()
    user = User.objects.get()
    assert body["email"] == "new.user@example.com" == user.email
    assert body["uid"] == user.uid
    assert re.fullmatch(r"ID[0-9A-F]{10}", user.uid)
    assert (body["role"], body["state"], body["level"], body["otp"]) == (
        "member",
        "pending",
        0,
        False,
    )
    assert body["referral_uid"] is None
    assert body["labels"] == []
    assert re.fullmatch(r"[0-9a-f]{20}", body["csrf_token"])
    assert user.check_password(STRONG_PASSWORD)
    store = import_module(django_settings.SESSION_ENGINE).SessionStore
    session = store(session_key=response.cookies[COOKIE].value)
    assert session["uid"] == user.uid
    assert session["csrf_token"] == body["csrf_token"]
    assert response.cookies[COOKIE]["httponly"]


def test_signup_records_activity_and_sends_confirmation_email(api, mailoutbox, settings):
    settings.BARONG_DOMAIN = "exchange.example"

    api.post(SIGNUP, {"email": "a@example.com", "password": STRONG_PASSWORD}, format="json")

    user = User.objects.get()
    row = Activity.objects.get(user=user)
    assert (row.topic, row.action, row.result) == ("account", "signup", "succeed")
    assert (row.user_ip, row.user_agent) == ("203.0.113.10", BROWSER_UA)
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["a@example.com"]
    assert message.subject == "Registration Confirmation"
    token = token_in(message, "confirmation")
    assert (
        f"https://exchange.example/accounts/confirmation?confirmation_token={token}&lang=en"
        in message.body
    )


def test_signup_with_lang_ru_sends_russian_email(api, mailoutbox):
    api.post(
        SIGNUP,
        {"email": "ru@example.com", "password": STRONG_PASSWORD, "lang": "RU"},
        format="json",
    )

    assert mailoutbox[0].subject == "Подтверждение регистрации"
    assert "&lang=ru" in mailoutbox[0].body


def test_signup_stores_data_text(api):
    data = json.dumps({"language": "ru", "nickname": "Вася"})

    response = api.post(
        SIGNUP, {"email": "d@example.com", "password": STRONG_PASSWORD, "data": data}
    )

    assert response.status_code == HTTPStatus.CREATED
    assert response.json()["data"] == data
    assert User.objects.get().data == data


def test_signup_with_referral(api, make_user):
    referrer = make_user()

    response = api.post(
        SIGNUP,
        {"email": "ref@example.com", "password": STRONG_PASSWORD, "refid": referrer.uid},
        format="json",
    )

    assert response.status_code == HTTPStatus.CREATED
    assert response.json()["referral_uid"] == referrer.uid
    assert User.objects.get(email="ref@example.com").referral == referrer


def test_blank_refid_is_ignored(api):
    response = api.post(
        SIGNUP, {"email": "r@example.com", "password": STRONG_PASSWORD, "refid": ""}
    )

    assert response.status_code == HTTPStatus.CREATED
    assert response.json()["referral_uid"] is None


def test_signup_replaces_a_previous_session(api, make_user):
    other = make_user(password=STRONG_PASSWORD)
    login = api.post(
        "/api/v2/identity/sessions", {"email": other.email, "password": STRONG_PASSWORD}
    )

    response = api.post(SIGNUP, {"email": "s@example.com", "password": STRONG_PASSWORD})

    store = import_module(django_settings.SESSION_ENGINE).SessionStore
    assert not store().exists(login.cookies[COOKIE].value)
    new_session = store(session_key=response.cookies[COOKIE].value)
    assert new_session["uid"] == User.objects.get(email="s@example.com").uid


# ---------------------------------------------------------------- parameter errors


def test_missing_parameters(api, mailoutbox):
    response = api.post(SIGNUP, {}, format="json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {
        "errors": [
            "identity.user.missing_email",
            "identity.user.empty_email",
            "identity.user.missing_password",
            "identity.user.empty_password",
        ]
    }
    no_side_effects(mailoutbox)


@pytest.mark.parametrize("fmt", ["json", "multipart"])
def test_blank_parameters(api, mailoutbox, fmt):
    response = api.post(SIGNUP, {"email": "", "password": ""}, format=fmt)

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {
        "errors": ["identity.user.empty_email", "identity.user.empty_password"]
    }
    no_side_effects(mailoutbox)


@pytest.mark.parametrize(
    ("field", "value", "key"),
    [
        ("email", {"a": 1}, "identity.user.invalid_email"),
        ("email", ["a@example.com"], "identity.user.invalid_email"),
        ("email", None, "identity.user.empty_email"),
        ("password", {"a": 1}, "identity.user.invalid_password"),
        ("password", [STRONG_PASSWORD], "identity.user.invalid_password"),
        ("password", "x" * 70_000, "identity.user.invalid_password"),
        ("refid", {"uid": "ID123"}, "identity.user.invalid_refid"),
        ("refid", ["ID123"], "identity.user.invalid_refid"),
        ("lang", {"en": True}, "identity.user.invalid_lang"),
        ("data", {"language": "ru"}, "identity.user.invalid_data"),
        ("data", ["x"], "identity.user.invalid_data"),
        ("captcha_response", 42, "identity.user.invalid_captcha_format"),
        ("captcha_response", ["x"], "identity.user.invalid_captcha_format"),
        ("captcha_response", False, "identity.user.invalid_captcha_format"),
    ],
)
def test_wrong_types_are_422_without_writes(api, mailoutbox, field, value, key):
    payload = {"email": "t@example.com", "password": STRONG_PASSWORD, field: value}

    response = api.post(SIGNUP, payload, format="json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": [key]}
    no_side_effects(mailoutbox)


def test_numbers_are_accepted_as_strings(api):
    response = api.post(
        SIGNUP,
        {"email": "n@example.com", "password": STRONG_PASSWORD, "data": 12345, "lang": 1},
        format="json",
    )

    assert response.status_code == HTTPStatus.CREATED
    assert User.objects.get().data == "12345"


# ---------------------------------------------------------------- model errors


@pytest.mark.parametrize(
    ("email", "key"),
    [
        ("not-an-email", "email.invalid"),
        ("a@b", "email.invalid"),
        ("a b@example.com", "email.invalid"),
        ("😀@example.com", "email.invalid"),
        ("<script>@example.com", "email.invalid"),
        ("a" * 10_000 + "@example.com", "email.too_long"),
        ("   ", "email.blank"),
    ],
)
def test_bad_emails_give_model_keys(api, mailoutbox, email, key):
    response = api.post(SIGNUP, {"email": email, "password": STRONG_PASSWORD}, format="json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": [key]}
    no_side_effects(mailoutbox)


def test_taken_email_is_refused_whatever_its_case(api, make_user, mailoutbox):
    make_user(email="taken@example.com")
    activities = Activity.objects.count()

    response = api.post(
        SIGNUP, {"email": "TAKEN@Example.COM", "password": STRONG_PASSWORD}, format="json"
    )

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["email.taken"]}
    assert User.objects.count() == 1
    assert Activity.objects.count() == activities
    assert mailoutbox == []
    assert COOKIE not in response.cookies


@pytest.mark.parametrize(
    ("password", "key"),
    [
        ("short1!", "password.requirements"),
        ("x" * 129, "password.too_long"),
        ("password123", "password.weak"),
        ("aaaaaaaaaaaa", "password.weak"),
    ],
)
def test_bad_passwords_give_model_keys(api, mailoutbox, password, key):
    response = api.post(SIGNUP, {"email": "p@example.com", "password": password}, format="json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": [key]}
    no_side_effects(mailoutbox)


def test_all_model_errors_come_together_in_order(api, mailoutbox):
    response = api.post(
        SIGNUP, {"email": "bad", "password": "short", "data": "{not json"}, format="json"
    )

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {
        "errors": ["email.invalid", "password.requirements", "data.invalid_format"]
    }
    no_side_effects(mailoutbox)


def test_data_too_long(api, mailoutbox):
    data = json.dumps({"x": "y" * 2000})

    response = api.post(
        SIGNUP, {"email": "d@example.com", "password": STRONG_PASSWORD, "data": data}
    )

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["data.too_long"]}
    no_side_effects(mailoutbox)


def test_role_must_exist(api, db, mailoutbox):
    # No permission rows at all (deleted inside this test only): "member" is unknown.
    Permission.objects.all().delete()

    response = api.post(SIGNUP, {"email": "r@example.com", "password": STRONG_PASSWORD})

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["role.doesnt_exist"]}
    no_side_effects(mailoutbox)


@pytest.mark.parametrize(
    ("refid", "key"),
    [
        ("XX0123456789", "identity.user.invalid_referral_format"),
        ("id0123456789", "identity.user.invalid_referral_format"),
        ("😀", "identity.user.invalid_referral_format"),
        ("ID0123456789", "identity.user.referral_doesnt_exist"),
        ("ID" + "9" * 250, "identity.user.referral_doesnt_exist"),
    ],
)
def test_referral_errors(api, mailoutbox, refid, key):
    response = api.post(
        SIGNUP,
        {"email": "ref@example.com", "password": STRONG_PASSWORD, "refid": refid},
        format="json",
    )

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": [key]}
    no_side_effects(mailoutbox)


# ---------------------------------------------------------------- rate limit


def test_signup_is_rate_limited_per_ip(api, mailoutbox, tight_limits):
    tight_limits(signup_ip="2/3600")
    for n in range(2):
        api.post(SIGNUP, {"email": f"u{n}@example.com", "password": STRONG_PASSWORD})

    response = api.post(SIGNUP, {"email": "u9@example.com", "password": STRONG_PASSWORD})
    other_ip = api.post(
        SIGNUP,
        {"email": "u8@example.com", "password": STRONG_PASSWORD},
        REMOTE_ADDR="198.51.100.1",
    )

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert response.json() == {"errors": ["identity.user.too_many_requests"]}
    assert not User.objects.filter(email="u9@example.com").exists()
    assert other_ip.status_code == HTTPStatus.CREATED


def test_signup_rate_limit_off(api, settings):
    settings.BARONG_RATE_LIMITS = False
    settings.BARONG_RATE_LIMIT_RULES = {**settings.BARONG_RATE_LIMIT_RULES, "signup_ip": "1/3600"}

    statuses = [
        api.post(SIGNUP, {"email": f"o{n}@example.com", "password": STRONG_PASSWORD}).status_code
        for n in range(3)
    ]

    assert statuses == [HTTPStatus.CREATED] * 3


@pytest.mark.parametrize("length", [73, 100, 128])
def test_long_passwords_up_to_128_characters_are_accepted(api, length):
    password = ("Correct-Horse-Battery-9-" * 6)[:length]

    response = api.post(SIGNUP, {"email": "long@example.com", "password": password})

    assert response.status_code == HTTPStatus.CREATED
    assert User.objects.get().check_password(password)


def test_broker_outage_does_not_fail_a_committed_signup(api, mailoutbox, monkeypatch):
    from kombu.exceptions import OperationalError

    from events import tasks
    from events.models import OutboxEvent

    def broker_down(*args, **kwargs):
        raise OperationalError("broker unreachable")

    monkeypatch.setattr(tasks.outbox_relay, "delay", broker_down)

    response = api.post(SIGNUP, {"email": "b@example.com", "password": STRONG_PASSWORD})

    assert response.status_code == HTTPStatus.CREATED
    assert User.objects.filter(email="b@example.com").exists()
    assert mailoutbox == []
    # The e-mail waits in the outbox for the periodic sweep.
    pending = OutboxEvent.objects.get(routing_key="user.email.confirmation.token")
    assert pending.delivered_at is None
    assert pending.mailed_at is None
