"""POST /identity/sessions (log in) and DELETE /identity/sessions (log out)."""

import json
import re
from http import HTTPStatus
from importlib import import_module

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.hashers import make_password

from accounts.models import User
from accounts.services import user_state_set
from activities.models import Activity
from tests.accounts.conftest import STRONG_PASSWORD
from tests.conftest import BROWSER_UA
from tests.entities import USER_WITH_FULL_INFO
from tests.factories import totp_code

pytestmark = pytest.mark.django_db

LOGIN = "/api/v2/identity/sessions"
COOKIE = "_barong_session"
# The login answers UserWithFullInfo with the session's CSRF token after referral_uid.
FULL_INFO_KEYS = [*USER_WITH_FULL_INFO[:7], "csrf_token", *USER_WITH_FULL_INFO[7:]]


def session_exists(key: str) -> bool:
    store = import_module(django_settings.SESSION_ENGINE).SessionStore
    return store().exists(key)


def login_rows(user: User) -> list[tuple[str, str, str]]:
    return list(
        Activity.objects.filter(user=user, topic="session")
        .order_by("id")
        .values_list("topic", "action", "result")
    )


# ---------------------------------------------------------------- success


@pytest.mark.parametrize("fmt", ["json", "multipart"])
def test_login_answers_full_user_with_csrf_token_and_sets_cookie(api, make_user, fmt):
    user = make_user(password=STRONG_PASSWORD)

    response = api.post(LOGIN, {"email": user.email, "password": STRONG_PASSWORD}, format=fmt)

    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert list(body) == FULL_INFO_KEYS
    assert body["email"] == user.email
    assert body["uid"] == user.uid
    assert (body["state"], body["level"], body["otp"]) == ("active", 1, False)
    assert re.fullmatch(r"[0-9a-f]{20}", body["csrf_token"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", body["created_at"])
    assert body["labels"][0]["key"] == "email"
    cookie = response.cookies[COOKIE]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert cookie["path"] == "/"
    assert session_exists(cookie.value)


def test_login_session_holds_client_binding_and_csrf(api, make_user):
    user = make_user(password=STRONG_PASSWORD)

    response = api.post(LOGIN, {"email": user.email, "password": STRONG_PASSWORD}, format="json")

    store = import_module(django_settings.SESSION_ENGINE).SessionStore
    session = store(session_key=response.cookies[COOKIE].value)
    assert session["uid"] == user.uid
    assert session["user_ip"] == "203.0.113.10"
    assert session["user_agent"] == BROWSER_UA
    assert session["csrf_token"] == response.json()["csrf_token"]


def test_login_cookie_is_secure_when_configured(api, make_user, settings):
    settings.SESSION_COOKIE_SECURE = True
    user = make_user(password=STRONG_PASSWORD)

    response = api.post(LOGIN, {"email": user.email, "password": STRONG_PASSWORD}, format="json")

    assert response.status_code == HTTPStatus.OK
    assert response.cookies[COOKIE]["secure"]


def test_login_rotates_the_session_id(api, make_user):
    user = make_user(password=STRONG_PASSWORD)
    first = api.post(LOGIN, {"email": user.email, "password": STRONG_PASSWORD}, format="json")
    old_key = first.cookies[COOKIE].value

    second = api.post(LOGIN, {"email": user.email, "password": STRONG_PASSWORD}, format="json")

    new_key = second.cookies[COOKIE].value
    assert new_key != old_key
    assert not session_exists(old_key)
    assert session_exists(new_key)
    assert second.json()["csrf_token"] != first.json()["csrf_token"]


def test_session_keys_are_32_random_characters_of_djangos_alphabet(api, make_user):
    user = make_user(password=STRONG_PASSWORD)
    cookie = api.post(LOGIN, {"email": user.email, "password": STRONG_PASSWORD}, format="json")
    store = import_module(django_settings.SESSION_ENGINE).SessionStore()

    keys = [cookie.cookies[COOKIE].value] + [store._get_new_session_key() for _ in range(300)]

    assert all(re.fullmatch(r"[a-z0-9]{32}", key) for key in keys)
    assert len(set(keys)) == len(keys)
    # every character of the alphabet at every position shows up: no position is fixed
    # or drawn from a part of it (9,600 draws; a missing one has a chance below 1e-6)
    assert set("".join(keys)) == set("abcdefghijklmnopqrstuvwxyz0123456789")
    assert all(len({key[at] for key in keys}) > 20 for at in range(32))


def test_login_as_another_user_drops_the_previous_session(api, make_user):
    alice = make_user(password=STRONG_PASSWORD)
    bob = make_user(password=STRONG_PASSWORD)
    first = api.post(LOGIN, {"email": alice.email, "password": STRONG_PASSWORD}, format="json")

    second = api.post(LOGIN, {"email": bob.email, "password": STRONG_PASSWORD}, format="json")

    store = import_module(django_settings.SESSION_ENGINE).SessionStore
    assert not session_exists(first.cookies[COOKIE].value)
    assert store(session_key=second.cookies[COOKIE].value)["uid"] == bob.uid


def test_login_email_is_case_insensitive(api, make_user):
    user = make_user(email="Mixed.Case@Example.com", password=STRONG_PASSWORD)

    response = api.post(
        LOGIN, {"email": "  MIXED.case@example.COM ", "password": STRONG_PASSWORD}, format="json"
    )

    assert response.status_code == HTTPStatus.OK
    assert response.json()["uid"] == user.uid


def test_pending_user_may_log_in(api, make_user):
    user = make_user(password=STRONG_PASSWORD, verified=False)

    response = api.post(LOGIN, {"email": user.email, "password": STRONG_PASSWORD}, format="json")

    assert response.status_code == HTTPStatus.OK
    assert response.json()["state"] == "pending"


def test_login_records_succeeded_activity_with_client(api, make_user):
    user = make_user(password=STRONG_PASSWORD)

    api.post(LOGIN, {"email": user.email, "password": STRONG_PASSWORD}, format="json")

    row = Activity.objects.get(user=user, topic="session")
    assert (row.category, row.action, row.result) == ("user", "login", "succeed")
    assert (row.user_ip, row.user_agent) == ("203.0.113.10", BROWSER_UA)
    assert row.target_uid is None


def test_login_from_unknown_agent_notes_suspicious_browser(make_user):
    from rest_framework.test import APIClient

    user = make_user(password=STRONG_PASSWORD)
    client = APIClient(HTTP_USER_AGENT="curl/8.0", REMOTE_ADDR="198.51.100.7")

    response = client.post(LOGIN, {"email": user.email, "password": STRONG_PASSWORD}, format="json")

    assert response.status_code == HTTPStatus.OK
    row = Activity.objects.get(user=user, topic="session")
    assert json.loads(row.data) == {"note": "Detected suspicious browser"}
    assert row.user_ip == "198.51.100.7"


def test_login_upgrades_an_old_password_hash(api, make_user, settings):
    settings.PASSWORD_HASHERS = [
        "tests.accounts.conftest.FastPBKDF2Hasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    user = make_user(password=STRONG_PASSWORD)
    User.objects.filter(pk=user.pk).update(password=make_password(STRONG_PASSWORD, hasher="md5"))

    response = api.post(LOGIN, {"email": user.email, "password": STRONG_PASSWORD}, format="json")

    assert response.status_code == HTTPStatus.OK
    user.refresh_from_db()
    assert user.password.startswith("pbkdf2_sha256$")
    assert user.check_password(STRONG_PASSWORD)


def test_login_under_the_gateway_prefix(api, make_user):
    user = make_user(password=STRONG_PASSWORD)

    response = api.post(
        "/api/v2/barong/identity/sessions",
        {"email": user.email, "password": STRONG_PASSWORD},
        format="json",
    )

    assert response.status_code == HTTPStatus.OK


# ---------------------------------------------------------------- failures without enumeration


def test_unknown_email_is_invalid_params_without_activity(api):
    response = api.post(
        LOGIN, {"email": "nobody@example.com", "password": STRONG_PASSWORD}, format="json"
    )

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"errors": ["identity.session.invalid_params"]}
    assert COOKIE not in response.cookies
    assert not Activity.objects.exists()


def test_wrong_password_is_invalid_params_with_failed_activity(api, make_user):
    user = make_user(password=STRONG_PASSWORD)

    response = api.post(LOGIN, {"email": user.email, "password": "Wrong-Pass-123"}, format="json")

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"errors": ["identity.session.invalid_params"]}
    assert COOKIE not in response.cookies
    row = Activity.objects.get(user=user)
    assert (row.topic, row.action, row.result) == ("session", "login", "failed")
    assert json.loads(row.data) == {"reason": "Invalid Email or Password"}


@pytest.mark.parametrize("state", ["banned", "deleted", "locked", "frozen"])
def test_blocked_user_with_wrong_password_looks_like_unknown_email(api, make_user, state):
    user = make_user(password=STRONG_PASSWORD)
    user_state_set(user=user, state=state)

    response = api.post(LOGIN, {"email": user.email, "password": "Wrong-Pass-123"}, format="json")
    unknown = api.post(
        LOGIN, {"email": "ghost@example.com", "password": "Wrong-Pass-123"}, format="json"
    )

    assert response.status_code == unknown.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == unknown.json() == {"errors": ["identity.session.invalid_params"]}


@pytest.mark.parametrize(
    ("state", "key", "reason"),
    [
        ("banned", "identity.session.banned", "Your account is banned"),
        ("deleted", "identity.session.deleted", "Your account is deleted"),
        ("locked", "identity.session.not_active", "Your account is not active"),
        ("frozen", "identity.session.not_active", "Your account is not active"),
    ],
)
def test_blocked_user_with_right_password_gets_state_key(api, make_user, state, key, reason):
    user = make_user(password=STRONG_PASSWORD)
    user_state_set(user=user, state=state)

    response = api.post(LOGIN, {"email": user.email, "password": STRONG_PASSWORD}, format="json")

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"errors": [key]}
    assert COOKIE not in response.cookies
    row = Activity.objects.get(user=user)
    assert (row.action, row.result, json.loads(row.data)) == ("login", "failed", {"reason": reason})


def test_unknown_email_costs_one_password_hash_like_a_wrong_password(
    api, make_user, counting_hasher
):
    user = make_user(password=STRONG_PASSWORD)
    counting_hasher.calls = []

    api.post(LOGIN, {"email": "ghost@example.com", "password": "Wrong-Pass-1"}, format="json")
    unknown_calls = list(counting_hasher.calls)
    counting_hasher.calls = []
    api.post(LOGIN, {"email": user.email, "password": "Wrong-Pass-1"}, format="json")
    wrong_calls = list(counting_hasher.calls)

    assert len(unknown_calls) == 1
    assert len(wrong_calls) == 1


def test_banned_user_costs_one_password_hash(api, make_user, counting_hasher):
    user = make_user(password=STRONG_PASSWORD)
    user_state_set(user=user, state="banned")
    counting_hasher.calls = []

    api.post(LOGIN, {"email": user.email, "password": STRONG_PASSWORD}, format="json")

    assert counting_hasher.calls == ["verify"]


# ---------------------------------------------------------------- 2FA


def test_2fa_without_code_is_missing_otp(api, make_otp_user):
    """401, the answer OpenDAX's front ends switch to the code form on (Barong 2.4.6+); a
    missing code is the first step of the login, not a failure: no activity row."""
    user = make_otp_user(password=STRONG_PASSWORD)

    response = api.post(LOGIN, {"email": user.email, "password": STRONG_PASSWORD}, format="json")

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"errors": ["identity.session.missing_otp"]}
    assert COOKIE not in response.cookies
    assert login_rows(user) == []


@pytest.mark.parametrize("code", ["", "   ", None])
def test_2fa_with_blank_code_is_missing_otp(api, make_otp_user, code):
    user = make_otp_user(password=STRONG_PASSWORD)

    response = api.post(
        LOGIN, {"email": user.email, "password": STRONG_PASSWORD, "otp_code": code}, format="json"
    )

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"errors": ["identity.session.missing_otp"]}


@pytest.mark.parametrize("code", ["000000", "12345", "abcdef", "1234567", "😀😀😀😀😀😀"])
def test_2fa_with_wrong_code_is_invalid_otp(api, make_otp_user, code):
    user = make_otp_user(password=STRONG_PASSWORD)
    if code == totp_code(user):
        code = f"{(int(code) + 1) % 1_000_000:06d}"

    response = api.post(
        LOGIN, {"email": user.email, "password": STRONG_PASSWORD, "otp_code": code}, format="json"
    )

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json() == {"errors": ["identity.session.invalid_otp"]}
    assert COOKIE not in response.cookies
    assert login_rows(user) == [("session", "login::2fa", "failed")]


def test_2fa_with_valid_code_logs_in(api, make_otp_user):
    user = make_otp_user(password=STRONG_PASSWORD)

    response = api.post(
        LOGIN,
        {"email": user.email, "password": STRONG_PASSWORD, "otp_code": totp_code(user)},
        format="json",
    )

    assert response.status_code == HTTPStatus.OK
    assert response.json()["otp"] is True
    assert "csrf_token" in response.json()
    assert session_exists(response.cookies[COOKIE].value)
    assert login_rows(user) == [("session", "login::2fa", "succeed")]


def test_2fa_code_is_accepted_once(api, make_otp_user):
    user = make_otp_user(password=STRONG_PASSWORD)
    code = totp_code(user)
    payload = {"email": user.email, "password": STRONG_PASSWORD, "otp_code": code}
    first = api.post(LOGIN, payload, format="json")

    second = api.post(LOGIN, payload, format="json")

    assert first.status_code == HTTPStatus.OK
    assert second.status_code == HTTPStatus.FORBIDDEN
    assert second.json() == {"errors": ["identity.session.invalid_otp"]}


def test_2fa_is_not_reached_with_wrong_password(api, make_otp_user):
    user = make_otp_user(password=STRONG_PASSWORD)

    response = api.post(
        LOGIN,
        {"email": user.email, "password": "Wrong-Pass-123", "otp_code": totp_code(user)},
        format="json",
    )

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"errors": ["identity.session.invalid_params"]}
    assert login_rows(user) == [("session", "login", "failed")]


def test_2fa_code_attempts_are_rate_limited(api, make_otp_user, tight_limits):
    tight_limits(otp_account="2/300")
    user = make_otp_user(password=STRONG_PASSWORD)
    payload = {"email": user.email, "password": STRONG_PASSWORD, "otp_code": "000001"}
    for _ in range(2):
        api.post(LOGIN, payload, format="json")

    response = api.post(LOGIN, {**payload, "otp_code": totp_code(user)}, format="json")

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert response.json() == {"errors": ["identity.session.too_many_requests"]}


# ---------------------------------------------------------------- parameters


def test_missing_parameters(api):
    response = api.post(LOGIN, {}, format="json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {
        "errors": ["identity.session.missing_email", "identity.session.missing_password"]
    }


def test_empty_email_and_password_fail_to_log_in(api):
    response = api.post(LOGIN, {"email": "", "password": ""}, format="json")

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"errors": ["identity.session.invalid_params"]}


@pytest.mark.parametrize(
    ("field", "value", "key"),
    [
        ("email", {"$ne": ""}, "identity.session.invalid_email"),
        ("email", ["a@example.com"], "identity.session.invalid_email"),
        ("email", None, "identity.session.empty_email"),
        ("password", {"$gt": ""}, "identity.session.invalid_password"),
        ("password", [STRONG_PASSWORD], "identity.session.invalid_password"),
        ("password", "x" * 70_000, "identity.session.invalid_password"),
        ("password", "nul\x00byte", "identity.session.invalid_password"),
        ("otp_code", {"code": "123456"}, "identity.session.invalid_otp_code"),
        ("otp_code", "1" * 100, "identity.session.invalid_otp_code"),
    ],
)
def test_wrong_types_are_422(api, make_user, field, value, key):
    user = make_user(password=STRONG_PASSWORD)
    payload = {"email": user.email, "password": STRONG_PASSWORD, field: value}

    response = api.post(LOGIN, payload, format="json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": [key]}
    assert COOKIE not in response.cookies
    assert not Activity.objects.exists()


@pytest.mark.parametrize("email", ["a" * 10_000 + "@example.com", "пользователь@пример.рф", "😀"])
def test_hostile_emails_fail_to_log_in(api, email):
    response = api.post(LOGIN, {"email": email, "password": STRONG_PASSWORD}, format="json")

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"errors": ["identity.session.invalid_params"]}


def test_hostile_password_fails_to_log_in(api, make_user):
    user = make_user(password=STRONG_PASSWORD)

    for password in ["x" * 10_000, "пароль-😀-" * 10, "' OR 1=1 --"]:
        response = api.post(LOGIN, {"email": user.email, "password": password}, format="json")
        assert response.status_code == HTTPStatus.UNAUTHORIZED
        assert response.json() == {"errors": ["identity.session.invalid_params"]}


@pytest.mark.parametrize("captcha", [42, 4.2, True, ["token"], "x" * 9000])
def test_captcha_response_of_another_type_is_invalid_captcha_format(api, make_user, captcha):
    user = make_user(password=STRONG_PASSWORD)

    response = api.post(
        LOGIN,
        {"email": user.email, "password": STRONG_PASSWORD, "captcha_response": captcha},
        format="json",
    )

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["identity.session.invalid_captcha_format"]}


@pytest.mark.parametrize("captcha", ["token", {"geetest_challenge": "x"}, None])
def test_captcha_response_string_or_object_is_accepted_when_captcha_is_off(api, make_user, captcha):
    user = make_user(password=STRONG_PASSWORD)

    response = api.post(
        LOGIN,
        {"email": user.email, "password": STRONG_PASSWORD, "captcha_response": captcha},
        format="json",
    )

    assert response.status_code == HTTPStatus.OK


def test_malformed_json_body_is_a_clear_4xx(api):
    response = api.generic("POST", LOGIN, '{"email": ', content_type="application/json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {"errors": ["request.malformed"]}


# ---------------------------------------------------------------- rate limits


def test_login_is_rate_limited_per_account(api, make_user, tight_limits):
    tight_limits(login_account="3/300")
    user = make_user(password=STRONG_PASSWORD)
    for _ in range(3):
        api.post(LOGIN, {"email": user.email, "password": "Wrong-Pass-1"}, format="json")

    response = api.post(LOGIN, {"email": user.email, "password": STRONG_PASSWORD}, format="json")

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert response.json() == {"errors": ["identity.session.too_many_requests"]}
    assert response.json() == {"errors": ["identity.session.too_many_requests"]}
    assert COOKIE not in response.cookies


def test_failures_from_one_address_lock_out_only_that_address(api, make_user, tight_limits):
    """The default limits: an attacker's ten wrong guesses do not lock the owner out."""
    tight_limits()
    user = make_user(password=STRONG_PASSWORD)
    attacker = {"REMOTE_ADDR": "198.51.100.66"}
    for _ in range(10):
        api.post(
            LOGIN, {"email": user.email, "password": "Wrong-Pass-1"}, format="json", **attacker
        )

    refused = api.post(
        LOGIN, {"email": user.email, "password": STRONG_PASSWORD}, format="json", **attacker
    )
    owner = api.post(LOGIN, {"email": user.email, "password": STRONG_PASSWORD}, format="json")

    assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert refused.json() == {"errors": ["identity.session.too_many_requests"]}
    assert owner.status_code == HTTPStatus.OK


def test_account_ceiling_stops_guessing_from_many_addresses(api, make_user, tight_limits):
    tight_limits(login_account_ip="100/300", login_account="3/300")
    user = make_user(password=STRONG_PASSWORD)
    for n in range(3):
        api.post(
            LOGIN,
            {"email": user.email, "password": "Wrong-Pass-1"},
            format="json",
            REMOTE_ADDR=f"198.51.100.{n + 1}",
        )

    response = api.post(
        LOGIN,
        {"email": user.email, "password": STRONG_PASSWORD},
        format="json",
        REMOTE_ADDR="198.51.100.99",
    )

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert response.json() == {"errors": ["identity.session.too_many_requests"]}


def test_successful_logins_are_not_counted_as_failures(api, make_user, tight_limits):
    tight_limits(login_account_ip="2/300", login_account="2/300")
    user = make_user(password=STRONG_PASSWORD)

    statuses = [
        api.post(
            LOGIN, {"email": user.email, "password": STRONG_PASSWORD}, format="json"
        ).status_code
        for _ in range(4)
    ]

    assert statuses == [HTTPStatus.OK] * 4


def test_wrong_otp_is_not_a_password_failure(api, make_otp_user, tight_limits):
    tight_limits(login_account_ip="2/300", login_account="2/300", otp_account="100/300")
    user = make_otp_user(password=STRONG_PASSWORD)
    if totp_code(user) == "000000":
        pytest.skip("the one time in a million the wrong code is right")
    for _ in range(3):
        api.post(
            LOGIN,
            {"email": user.email, "password": STRONG_PASSWORD, "otp_code": "000000"},
            format="json",
        )

    response = api.post(
        LOGIN,
        {"email": user.email, "password": STRONG_PASSWORD, "otp_code": "000000"},
        format="json",
    )

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json() == {"errors": ["identity.session.invalid_otp"]}


def test_account_limit_counts_the_normalised_email(api, make_user, tight_limits):
    tight_limits(login_account="2/300")
    user = make_user(email="case@example.com", password=STRONG_PASSWORD)
    for email in ("CASE@example.com", " case@EXAMPLE.com"):
        api.post(LOGIN, {"email": email, "password": "Wrong-Pass-1"}, format="json")

    response = api.post(LOGIN, {"email": user.email, "password": STRONG_PASSWORD}, format="json")

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS


def test_unknown_accounts_are_rate_limited_too(api, tight_limits):
    tight_limits(login_account="2/300")
    for _ in range(2):
        api.post(LOGIN, {"email": "ghost@example.com", "password": "x"}, format="json")

    response = api.post(LOGIN, {"email": "ghost@example.com", "password": "x"}, format="json")

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert response.json() == {"errors": ["identity.session.too_many_requests"]}


def test_login_is_rate_limited_per_ip(api, make_user, tight_limits):
    tight_limits(login_ip="3/300")
    user = make_user(password=STRONG_PASSWORD)
    for n in range(3):
        api.post(LOGIN, {"email": f"ghost{n}@example.com", "password": "x"}, format="json")

    response = api.post(LOGIN, {"email": user.email, "password": STRONG_PASSWORD}, format="json")
    other_ip = api.post(
        LOGIN,
        {"email": user.email, "password": STRONG_PASSWORD},
        format="json",
        REMOTE_ADDR="198.51.100.20",
    )

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert response.json() == {"errors": ["identity.session.too_many_requests"]}
    assert other_ip.status_code == HTTPStatus.OK


def test_successful_login_resets_the_account_counter(api, make_user, tight_limits):
    tight_limits(login_account="3/300")
    user = make_user(password=STRONG_PASSWORD)
    for _ in range(2):
        api.post(LOGIN, {"email": user.email, "password": "Wrong-Pass-1"}, format="json")
    ok = api.post(LOGIN, {"email": user.email, "password": STRONG_PASSWORD}, format="json")
    for _ in range(2):
        api.post(LOGIN, {"email": user.email, "password": "Wrong-Pass-1"}, format="json")

    response = api.post(LOGIN, {"email": user.email, "password": STRONG_PASSWORD}, format="json")

    assert ok.status_code == HTTPStatus.OK
    assert response.status_code == HTTPStatus.OK


def test_rate_limits_off_never_answer_429(api, make_user, settings):
    settings.BARONG_RATE_LIMITS = False
    settings.BARONG_RATE_LIMIT_RULES = {
        **settings.BARONG_RATE_LIMIT_RULES,
        "login_ip": "1/300",
        "login_account": "1/300",
    }
    user = make_user(password=STRONG_PASSWORD)
    for _ in range(3):
        api.post(LOGIN, {"email": user.email, "password": "Wrong-Pass-1"}, format="json")

    response = api.post(LOGIN, {"email": user.email, "password": STRONG_PASSWORD}, format="json")

    assert response.status_code == HTTPStatus.OK


# ---------------------------------------------------------------- log out


def test_logout_without_session_is_not_found(api):
    response = api.delete(LOGIN)

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"errors": ["identity.session.not_found"]}


def test_logout_with_unknown_cookie_is_not_found(api):
    api.cookies[COOKIE] = "0123456789abcdefghijklmnopqrstuv"

    response = api.delete(LOGIN)

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"errors": ["identity.session.not_found"]}


def test_logout_ends_the_session_and_clears_the_cookie(api, make_user):
    user = make_user(password=STRONG_PASSWORD)
    login = api.post(LOGIN, {"email": user.email, "password": STRONG_PASSWORD}, format="json")
    key = login.cookies[COOKIE].value

    response = api.delete(LOGIN)

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {}
    assert response.cookies[COOKIE].value == ""
    assert response.cookies[COOKIE]["max-age"] == 0
    assert not session_exists(key)
    assert login_rows(user) == [("session", "login", "succeed"), ("session", "logout", "succeed")]
    assert api.delete(LOGIN).status_code == HTTPStatus.NOT_FOUND


def test_logout_of_a_user_that_is_gone_is_not_found(api, make_user):
    user = make_user(password=STRONG_PASSWORD)
    api.post(LOGIN, {"email": user.email, "password": STRONG_PASSWORD}, format="json")
    User.objects.filter(pk=user.pk).delete()

    response = api.delete(LOGIN)

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"errors": ["identity.session.not_found"]}


def test_logout_under_the_gateway_prefix(api, make_user):
    user = make_user(password=STRONG_PASSWORD)
    api.post(LOGIN, {"email": user.email, "password": STRONG_PASSWORD}, format="json")

    response = api.delete("/api/v2/barong/identity/sessions")

    assert response.status_code == HTTPStatus.OK


@pytest.mark.parametrize("method", ["get", "put", "patch"])
def test_other_methods_are_not_allowed(api, method):
    response = getattr(api, method)(LOGIN)

    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert response.json() == {"errors": ["route.method_not_allowed"]}
