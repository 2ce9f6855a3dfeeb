"""Captcha on the protected identity endpoints and GET users/register_geetest."""

import hashlib
import json
from http import HTTPStatus
from urllib.parse import parse_qs

import pytest
import requests
import responses

from accounts.models import User
from tests.accounts.conftest import STRONG_PASSWORD

pytestmark = pytest.mark.django_db

RECAPTCHA_URL = "https://captcha.test/recaptcha/api/siteverify"
GEETEST_URL = "https://geetest.test"
GEETEST_ID = "0123456789abcdef0123456789abcdef"
GEETEST_KEY = "fedcba9876543210fedcba9876543210"
LOGIN = "/api/v2/identity/sessions"
SIGNUP = "/api/v2/identity/users"
RESEND = "/api/v2/identity/users/email/generate_code"
RESET = "/api/v2/identity/users/password/generate_code"
GEETEST_REGISTER = "/api/v2/identity/users/register_geetest"


def md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


@pytest.fixture
def recaptcha(settings):
    settings.BARONG_CAPTCHA = "recaptcha"
    settings.BARONG_RECAPTCHA_SECRET_KEY = "server-secret"
    settings.BARONG_RECAPTCHA_VERIFY_URL = RECAPTCHA_URL
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def geetest(settings):
    settings.BARONG_CAPTCHA = "geetest"
    settings.BARONG_GEETEST_ID = GEETEST_ID
    settings.BARONG_GEETEST_KEY = GEETEST_KEY
    settings.BARONG_GEETEST_API_URL = GEETEST_URL
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def geetest_answer(challenge: str = "c" * 34, seccode: str = "seccode|jordan") -> dict:
    return {
        "geetest_challenge": challenge,
        "geetest_validate": md5(f"{GEETEST_KEY}geetest{challenge}"),
        "geetest_seccode": seccode,
    }


def login(api, user, captcha=None):
    payload = {"email": user.email, "password": STRONG_PASSWORD}
    if captcha is not None:
        payload["captcha_response"] = captcha
    return api.post(LOGIN, payload, format="json")


# ---------------------------------------------------------------- reCAPTCHA


def test_recaptcha_success_lets_login_through(api, make_user, recaptcha):
    user = make_user(password=STRONG_PASSWORD)
    recaptcha.post(RECAPTCHA_URL, json={"success": True})

    response = login(api, user, "client-token")

    assert response.status_code == HTTPStatus.OK
    assert len(recaptcha.calls) == 1
    sent = parse_qs(recaptcha.calls[0].request.body)
    assert sent == {"secret": ["server-secret"], "response": ["client-token"]}


@pytest.mark.parametrize("captcha", [None, "", "   ", {}])
def test_recaptcha_blank_is_required(api, make_user, recaptcha, captcha):
    user = make_user(password=STRONG_PASSWORD)

    response = login(api, user, captcha)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {"errors": ["identity.captcha.required"]}
    assert len(recaptcha.calls) == 0


@pytest.mark.parametrize(
    "answer",
    [
        {"json": {"success": False, "error-codes": ["invalid-input-response"]}},
        {"json": {"success": "true"}},
        {"json": ["success"]},
        {"body": "not json"},
        {"status": 500, "json": {"success": True}},
        {"body": requests.ConnectionError("down")},
        {"body": requests.Timeout("slow")},
    ],
)
def test_recaptcha_refusal_or_outage_fails_closed(api, make_user, recaptcha, answer):
    user = make_user(password=STRONG_PASSWORD)
    recaptcha.post(RECAPTCHA_URL, **answer)

    response = login(api, user, "client-token")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["identity.captcha.verification_failed"]}
    assert "_barong_session" not in response.cookies


def test_recaptcha_object_response_fails(api, make_user, recaptcha):
    user = make_user(password=STRONG_PASSWORD)

    response = login(api, user, {"token": "x"})

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["identity.captcha.verification_failed"]}
    assert len(recaptcha.calls) == 0


def test_recaptcha_uses_the_configured_timeout(api, make_user, recaptcha, settings, monkeypatch):
    settings.BARONG_CAPTCHA_TIMEOUT = 3
    user = make_user(password=STRONG_PASSWORD)
    seen = {}
    real_post = requests.post

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return real_post(*args, **kwargs)

    monkeypatch.setattr("accounts.captcha.requests.post", spy)
    recaptcha.post(RECAPTCHA_URL, json={"success": True})

    login(api, user, "client-token")

    assert seen["timeout"] == 3


def test_unprotected_endpoint_is_not_checked(api, make_user, recaptcha, settings):
    settings.BARONG_CAPTCHA_PROTECTED_ENDPOINTS = ["user_create"]
    user = make_user(password=STRONG_PASSWORD)

    response = login(api, user)

    assert response.status_code == HTTPStatus.OK
    assert len(recaptcha.calls) == 0


def test_captcha_off_makes_no_call(api, make_user, settings):
    settings.BARONG_CAPTCHA = "none"
    user = make_user(password=STRONG_PASSWORD)

    with responses.RequestsMock() as mock:
        response = login(api, user)
        assert len(mock.calls) == 0

    assert response.status_code == HTTPStatus.OK


@pytest.mark.parametrize(
    ("path", "payload", "expected"),
    [
        (SIGNUP, {"email": "c@example.com", "password": STRONG_PASSWORD}, HTTPStatus.CREATED),
        (RESEND, {"email": "c@example.com"}, HTTPStatus.CREATED),
        (RESET, {"email": "c@example.com"}, HTTPStatus.CREATED),
    ],
)
def test_other_protected_endpoints(api, recaptcha, mailoutbox, path, payload, expected):
    missing = api.post(path, payload, format="json")
    recaptcha.post(RECAPTCHA_URL, json={"success": False})
    refused = api.post(path, {**payload, "captcha_response": "bad"}, format="json")
    recaptcha.replace(responses.POST, RECAPTCHA_URL, json={"success": True})
    accepted = api.post(path, {**payload, "captcha_response": "good"}, format="json")

    assert missing.status_code == HTTPStatus.BAD_REQUEST
    assert missing.json() == {"errors": ["identity.captcha.required"]}
    assert refused.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert refused.json() == {"errors": ["identity.captcha.verification_failed"]}
    assert accepted.status_code == expected


def test_failed_captcha_on_signup_writes_nothing(api, recaptcha, mailoutbox):
    recaptcha.post(RECAPTCHA_URL, json={"success": False})

    api.post(
        SIGNUP,
        {"email": "c@example.com", "password": STRONG_PASSWORD, "captcha_response": "bad"},
        format="json",
    )

    assert not User.objects.exists()
    assert mailoutbox == []


# ---------------------------------------------------------------- GeeTest


def test_geetest_valid_answer_lets_login_through(api, make_user, geetest):
    user = make_user(password=STRONG_PASSWORD)
    answer = geetest_answer()
    geetest.post(f"{GEETEST_URL}/validate.php", json={"seccode": md5(answer["geetest_seccode"])})

    response = login(api, user, answer)

    assert response.status_code == HTTPStatus.OK
    sent = parse_qs(geetest.calls[0].request.body)
    assert sent["seccode"] == [answer["geetest_seccode"]]
    assert sent["challenge"] == [answer["geetest_challenge"]]
    assert sent["captchaid"] == [GEETEST_ID]


def test_geetest_plain_text_answer_is_understood(api, make_user, geetest):
    user = make_user(password=STRONG_PASSWORD)
    answer = geetest_answer()
    geetest.post(f"{GEETEST_URL}/validate.php", body=md5(answer["geetest_seccode"]))

    response = login(api, user, answer)

    assert response.status_code == HTTPStatus.OK


def test_geetest_answer_as_json_text_is_accepted(api, make_user, geetest):
    user = make_user(password=STRONG_PASSWORD)
    answer = geetest_answer()
    geetest.post(f"{GEETEST_URL}/validate.php", json={"seccode": md5(answer["geetest_seccode"])})

    response = api.post(
        LOGIN,
        {"email": user.email, "password": STRONG_PASSWORD, "captcha_response": json.dumps(answer)},
        format="multipart",
    )

    assert response.status_code == HTTPStatus.OK


@pytest.mark.parametrize("captcha", [None, "", {}])
def test_geetest_blank_is_required(api, make_user, geetest, captcha):
    user = make_user(password=STRONG_PASSWORD)

    response = login(api, user, captcha)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {"errors": ["identity.captcha.required"]}


@pytest.mark.parametrize(
    "captcha",
    [
        "just-a-string",
        {"geetest_challenge": "c", "geetest_validate": "v"},
        {"geetest_challenge": "c", "geetest_validate": "v", "geetest_seccode": 5},
        {"geetest_challenge": "", "geetest_validate": "v", "geetest_seccode": "s"},
        {"geetest_challenge": ["c"], "geetest_validate": "v", "geetest_seccode": "s"},
        '["geetest_challenge"]',
    ],
)
def test_geetest_incomplete_answer_is_mandatory_fields(api, make_user, geetest, captcha):
    user = make_user(password=STRONG_PASSWORD)

    response = login(api, user, captcha)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {"errors": ["identity.captcha.mandatory_fields"]}
    assert len(geetest.calls) == 0


def test_geetest_wrong_validate_fails_without_calling_geetest(api, make_user, geetest):
    user = make_user(password=STRONG_PASSWORD)
    answer = {**geetest_answer(), "geetest_validate": md5("something else")}

    response = login(api, user, answer)

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["identity.captcha.verification_failed"]}
    assert len(geetest.calls) == 0


@pytest.mark.parametrize(
    "reply",
    [
        {"json": {"seccode": "false"}},
        {"body": "false"},
        {"json": {"seccode": 1}},
        {"status": 502, "body": "bad gateway"},
        {"body": requests.ConnectionError("down")},
    ],
)
def test_geetest_refusal_or_outage_fails_closed(api, make_user, geetest, reply):
    user = make_user(password=STRONG_PASSWORD)
    geetest.post(f"{GEETEST_URL}/validate.php", **reply)

    response = login(api, user, geetest_answer())

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["identity.captcha.verification_failed"]}


# ---------------------------------------------------------------- GET users/register_geetest


def test_register_geetest_when_captcha_is_off(api, db, settings):
    settings.BARONG_CAPTCHA = "none"

    with responses.RequestsMock() as mock:
        response = api.get(GEETEST_REGISTER)
        assert len(mock.calls) == 0

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"gt": "", "challenge": ""}


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_register_geetest_returns_the_keyed_challenge(api, db, geetest, fmt):
    challenge = "a" * 32
    if fmt == "json":
        geetest.get(f"{GEETEST_URL}/register.php", json={"challenge": challenge})
    else:
        geetest.get(f"{GEETEST_URL}/register.php", body=challenge)

    response = api.get(GEETEST_REGISTER)

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"gt": GEETEST_ID, "challenge": md5(challenge + GEETEST_KEY)}
    assert geetest.calls[0].request.params["gt"] == GEETEST_ID


@pytest.mark.parametrize(
    "reply",
    [
        {"json": {"challenge": "0"}},
        {"body": ""},
        {"json": {"challenge": None}},
        {"status": 500, "body": "oops"},
        {"body": requests.ConnectionError("down")},
    ],
)
def test_register_geetest_failure_still_answers_json(api, db, geetest, reply):
    geetest.get(f"{GEETEST_URL}/register.php", **reply)

    response = api.get(GEETEST_REGISTER)

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"gt": GEETEST_ID, "challenge": ""}


def test_register_geetest_ignores_parameters(api, db, settings):
    settings.BARONG_CAPTCHA = "none"

    response = api.get(GEETEST_REGISTER, {"gt": {"x": 1}, "challenge": "x" * 10_000})

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"gt": "", "challenge": ""}


@pytest.mark.parametrize("field", ["geetest_challenge", "geetest_validate", "geetest_seccode"])
@pytest.mark.parametrize("validate", ["\\ud800", "ユーザー"])
def test_geetest_odd_value_fails_without_calling_geetest(api, make_user, geetest, field, validate):
    # A lone surrogate (only JSON can carry one) must not reach an encoder as a 500.
    user = make_user(password=STRONG_PASSWORD)
    answer = json.dumps({**geetest_answer(), field: "VALIDATE"})
    body = json.dumps({"email": user.email, "password": STRONG_PASSWORD})[:-1]
    body += f', "captcha_response": {answer}}}'.replace("VALIDATE", validate)

    response = api.post(LOGIN, body, content_type="application/json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["identity.captcha.verification_failed"]}
    assert len(geetest.calls) == 0
