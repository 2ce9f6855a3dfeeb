"""POST /identity/users/password/generate_code and POST .../password/confirm_code."""

import json
from http import HTTPStatus
from importlib import import_module

import pytest
from django.conf import settings as django_settings

from accounts.models import User
from accounts.services import user_state_set
from activities.models import Activity
from barong import jwt as barong_jwt
from tests.accounts.conftest import NEW_PASSWORD, STRONG_PASSWORD, CommittingAPIClient, last_token
from tests.conftest import BROWSER_UA

pytestmark = pytest.mark.django_db

GENERATE = "/api/v2/identity/users/password/generate_code"
CONFIRM = "/api/v2/identity/users/password/confirm_code"
LOGIN = "/api/v2/identity/sessions"
COOKIE = "_barong_session"


def reset_payload(token: str, password: str = NEW_PASSWORD, confirm: str | None = None) -> dict:
    return {
        "reset_password_token": token,
        "password": password,
        "confirm_password": password if confirm is None else confirm,
    }


def password_rows(user: User) -> list[tuple[str, str]]:
    return list(
        Activity.objects.filter(user=user, topic="password")
        .order_by("id")
        .values_list("action", "result")
    )


@pytest.fixture
def user(make_user):
    return make_user(email="reset@example.com", password=STRONG_PASSWORD)


@pytest.fixture
def token(api, user, mailoutbox):
    api.post(GENERATE, {"email": user.email}, format="json")
    return last_token(mailoutbox, "reset")


# ---------------------------------------------------------------- request


@pytest.mark.parametrize("fmt", ["json", "multipart"])
def test_request_sends_reset_link_and_records_activity(api, user, mailoutbox, settings, fmt):
    settings.BARONG_DOMAIN = "exchange.example"

    response = api.post(GENERATE, {"email": "RESET@example.com"}, format=fmt)

    assert response.status_code == HTTPStatus.CREATED
    assert response.json() == {}
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert (message.to, message.subject) == (["reset@example.com"], "Password Reset")
    token = last_token(mailoutbox, "reset")
    assert (
        f"https://exchange.example/accounts/password_reset?reset_token={token}&lang=en"
        in message.body
    )
    claims = barong_jwt.decode(token, sub="reset")
    assert (claims["email"], claims["uid"]) == (user.email, user.uid)
    row = Activity.objects.get(user=user, topic="password")
    assert (row.action, row.result) == ("request password reset", "succeed")
    assert (row.user_ip, row.user_agent) == ("203.0.113.10", BROWSER_UA)


def test_request_for_unknown_email_answers_the_same(api, mailoutbox):
    response = api.post(GENERATE, {"email": "ghost@example.com"}, format="json")

    assert response.status_code == HTTPStatus.CREATED
    assert response.json() == {}
    assert mailoutbox == []
    assert not Activity.objects.exists()


@pytest.mark.parametrize("state", ["banned", "pending", "locked"])
def test_request_works_whatever_the_state(api, make_user, mailoutbox, state):
    target = make_user(verified=False)
    user_state_set(user=target, state=state)

    response = api.post(GENERATE, {"email": target.email}, format="json")

    assert response.status_code == HTTPStatus.CREATED
    assert len(mailoutbox) == 1


def test_request_honours_lang_then_user_language(api, make_user, mailoutbox):
    target = make_user()
    User.objects.filter(pk=target.pk).update(data=json.dumps({"language": "ru"}))

    api.post(GENERATE, {"email": target.email}, format="json")
    api.post(GENERATE, {"email": target.email, "lang": "EN"}, format="json")

    assert mailoutbox[0].subject == "Сброс пароля"  # noqa: RUF001 (Russian on purpose)
    assert "&lang=ru" in mailoutbox[0].body
    assert mailoutbox[1].subject == "Password Reset"


def test_request_is_rate_limited_per_account(api, user, mailoutbox, tight_limits):
    tight_limits(email_code_account="2/3600")
    for _ in range(2):
        api.post(GENERATE, {"email": user.email}, format="json")

    response = api.post(GENERATE, {"email": user.email}, format="json")

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert response.json() == {"errors": ["identity.user.too_many_requests"]}
    assert len(mailoutbox) == 2


def test_request_is_rate_limited_per_ip(api, tight_limits):
    tight_limits(email_code_ip="2/3600")
    for n in range(2):
        api.post(GENERATE, {"email": f"g{n}@example.com"}, format="json")

    response = api.post(GENERATE, {"email": "g9@example.com"}, format="json")

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert response.json() == {"errors": ["identity.user.too_many_requests"]}


def test_request_rate_limit_off(api, user, mailoutbox, settings):
    settings.BARONG_RATE_LIMITS = False
    settings.BARONG_RATE_LIMIT_RULES = {
        **settings.BARONG_RATE_LIMIT_RULES,
        "email_code_account": "1/3600",
    }

    for _ in range(3):
        assert api.post(GENERATE, {"email": user.email}).status_code == HTTPStatus.CREATED

    assert len(mailoutbox) == 3


# ---------------------------------------------------------------- confirm


@pytest.mark.parametrize("fmt", ["json", "multipart"])
def test_reset_sets_the_new_password(api, user, token, fmt):
    response = api.post(CONFIRM, {**reset_payload(token), "lang": "en"}, format=fmt)

    assert response.status_code == HTTPStatus.CREATED
    assert response.json() == {}
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert not user.check_password(STRONG_PASSWORD)
    assert password_rows(user) == [
        ("request password reset", "succeed"),
        ("password reset", "succeed"),
    ]
    new_login = api.post(LOGIN, {"email": user.email, "password": NEW_PASSWORD}, format="json")
    old_login = api.post(LOGIN, {"email": user.email, "password": STRONG_PASSWORD}, format="json")
    assert new_login.status_code == HTTPStatus.OK
    assert old_login.status_code == HTTPStatus.UNAUTHORIZED


def test_reset_ends_every_session_of_the_user(api, user, token):
    store = import_module(django_settings.SESSION_ENGINE).SessionStore
    browsers = [CommittingAPIClient(HTTP_USER_AGENT=BROWSER_UA) for _ in range(2)]
    keys = []
    for browser in browsers:
        login = browser.post(LOGIN, {"email": user.email, "password": STRONG_PASSWORD})
        keys.append(login.cookies[COOKIE].value)
    assert all(store().exists(key) for key in keys)

    response = api.post(CONFIRM, reset_payload(token), format="json")

    assert response.status_code == HTTPStatus.CREATED
    assert not any(store().exists(key) for key in keys)
    for browser in browsers:
        assert browser.delete(LOGIN).status_code == HTTPStatus.NOT_FOUND


def test_a_reset_opens_no_session_and_keeps_2fa(api, make_otp_user, mailoutbox):
    """A reset proves the mailbox, not the second factor: the new password alone still gets
    only ``missing_otp`` (docs/security.md, ASVS 6.4.3)."""
    user = make_otp_user(email="otp-reset@example.com", password=STRONG_PASSWORD)
    api.post(GENERATE, {"email": user.email}, format="json")

    response = api.post(CONFIRM, reset_payload(last_token(mailoutbox, "reset")), format="json")

    assert response.status_code == HTTPStatus.CREATED
    assert COOKIE not in response.cookies
    user.refresh_from_db()
    assert user.otp
    login = api.post(LOGIN, {"email": user.email, "password": NEW_PASSWORD}, format="json")
    assert login.status_code == HTTPStatus.UNAUTHORIZED
    assert login.json() == {"errors": ["identity.session.missing_otp"]}
    assert COOKIE not in login.cookies


def test_reset_token_is_single_use(api, user, token):
    first = api.post(CONFIRM, reset_payload(token), format="json")

    second = api.post(CONFIRM, reset_payload(token, "Another-Fine-Password-7"), format="json")

    assert first.status_code == HTTPStatus.CREATED
    assert second.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert second.json() == {"errors": ["identity.user.utilized_token"]}
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_only_the_newest_reset_token_is_valid(api, user, token, mailoutbox):
    api.post(GENERATE, {"email": user.email}, format="json")
    newest = last_token(mailoutbox, "reset")

    stale = api.post(CONFIRM, reset_payload(token), format="json")
    fresh = api.post(CONFIRM, reset_payload(newest), format="json")

    assert stale.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert stale.json() == {"errors": ["identity.user.utilized_token"]}
    assert fresh.status_code == HTTPStatus.CREATED


def test_weak_password_is_refused_and_keeps_the_token(api, user, token):
    response = api.post(CONFIRM, reset_payload(token, "password123"), format="json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["password.weak"]}
    user.refresh_from_db()
    assert user.check_password(STRONG_PASSWORD)
    row = Activity.objects.filter(user=user, action="password reset").get()
    assert row.result == "failed"
    assert json.loads(row.data) == {"reason": "password.weak"}
    retry = api.post(CONFIRM, reset_payload(token), format="json")
    assert retry.status_code == HTTPStatus.CREATED


@pytest.mark.parametrize(
    ("password", "key"),
    [("short", "password.requirements"), ("x" * 129, "password.too_long")],
)
def test_password_rules_apply(api, user, token, password, key):
    response = api.post(CONFIRM, reset_payload(token, password), format="json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": [key]}
    user.refresh_from_db()
    assert user.check_password(STRONG_PASSWORD)


def test_passwords_must_match_before_the_token_is_checked(api):
    response = api.post(
        CONFIRM, reset_payload("garbage", NEW_PASSWORD, NEW_PASSWORD + "x"), format="json"
    )

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["identity.user.passwords_doesnt_match"]}


def test_mismatch_keeps_the_token_usable(api, user, token):
    api.post(CONFIRM, reset_payload(token, NEW_PASSWORD, "different"), format="json")

    response = api.post(CONFIRM, reset_payload(token), format="json")

    assert response.status_code == HTTPStatus.CREATED
    login = api.post(LOGIN, {"email": user.email, "password": NEW_PASSWORD}, format="json")
    assert login.status_code == HTTPStatus.OK


@pytest.mark.parametrize(
    "bad", ["garbage", "a.b.c", "x" * 10_000, "😀", "eyJhbGciOiJub25lIn0.e30."]
)
def test_garbage_token_is_403(api, user, bad):
    response = api.post(CONFIRM, reset_payload(bad), format="json")

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json() == {"errors": ["jwt.decode_and_verify"]}
    user.refresh_from_db()
    assert user.check_password(STRONG_PASSWORD)


def test_expired_token_is_403(api, user):
    expired = barong_jwt.encode({"email": user.email, "uid": user.uid}, sub="reset", lifetime=-60)

    response = api.post(CONFIRM, reset_payload(expired), format="json")

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json() == {"errors": ["jwt.decode_and_verify"]}


def test_confirmation_token_cannot_reset_a_password(api, mailoutbox):
    api.post("/api/v2/identity/users", {"email": "c@example.com", "password": STRONG_PASSWORD})
    confirmation = last_token(mailoutbox, "confirmation")

    response = api.post(CONFIRM, reset_payload(confirmation), format="json")

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json() == {"errors": ["jwt.decode_and_verify"]}


def test_forged_never_issued_token_is_utilized(api, user):
    forged = barong_jwt.encode({"email": user.email, "uid": user.uid}, sub="reset")

    response = api.post(CONFIRM, reset_payload(forged), format="json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["identity.user.utilized_token"]}


def test_token_of_a_user_that_is_gone(api, user, token):
    User.objects.filter(pk=user.pk).delete()

    response = api.post(CONFIRM, reset_payload(token), format="json")

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"errors": ["record.not_found"]}


def test_reset_missing_parameters(api):
    response = api.post(CONFIRM, {}, format="json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {
        "errors": [
            "identity.user.missing_pass_token",
            "identity.user.empty_reset_password_token",
            "identity.user.missing_password",
            "identity.user.empty_password",
            "identity.user.missing_confirm_password",
            "identity.user.empty_confirm_password",
        ]
    }


@pytest.mark.parametrize("fmt", ["json", "multipart"])
def test_reset_blank_parameters(api, fmt):
    response = api.post(
        CONFIRM,
        {"reset_password_token": "", "password": "", "confirm_password": ""},
        format=fmt,
    )

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {
        "errors": [
            "identity.user.empty_reset_password_token",
            "identity.user.empty_password",
            "identity.user.empty_confirm_password",
        ]
    }


@pytest.mark.parametrize(
    ("field", "value", "key"),
    [
        ("reset_password_token", {"t": 1}, "identity.user.invalid_reset_password_token"),
        ("reset_password_token", ["t"], "identity.user.invalid_reset_password_token"),
        ("password", {"p": 1}, "identity.user.invalid_password"),
        ("confirm_password", ["p"], "identity.user.invalid_confirm_password"),
        ("lang", {"l": 1}, "identity.user.invalid_lang"),
    ],
)
def test_reset_wrong_types(api, user, token, field, value, key):
    response = api.post(CONFIRM, {**reset_payload(token), field: value}, format="json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": [key]}
    user.refresh_from_db()
    assert user.check_password(STRONG_PASSWORD)


def test_unicode_password_is_accepted(api, user, token):
    password = "Пароль-без-сомнений-😀-42"

    response = api.post(CONFIRM, reset_payload(token, password), format="json")

    assert response.status_code == HTTPStatus.CREATED
    login = api.post(LOGIN, {"email": user.email, "password": password}, format="json")
    assert login.status_code == HTTPStatus.OK
