"""Identity: configs, version, time, ping, password/validate; and the JWK set."""

import time
from datetime import datetime
from http import HTTPStatus

import jwt
import pytest

from barong import jwt as barong_jwt

pytestmark = pytest.mark.django_db

VALIDATE = "/api/v2/identity/password/validate"


@pytest.mark.parametrize("prefix", ["/api/v2", "/api/v2/barong"])
def test_ping(api, prefix):
    response = api.get(f"{prefix}/identity/ping")

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"ping": "pong"}


def test_time_is_unix_seconds(api):
    before = int(time.time())

    response = api.get("/api/v2/identity/time")

    assert response.status_code == HTTPStatus.OK
    value = response.json()["time"]
    assert isinstance(value, int)
    assert before <= value <= int(time.time())


def test_version(api, settings):
    settings.BARONG_GIT_SHA = "abc1234"
    settings.BARONG_BUILD_DATE = "2026-01-02T03:04:05+00:00"

    response = api.get("/api/v2/identity/version")

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {
        "git_tag": "2.4.0",
        "git_sha": "abc1234",
        "build_date": "2026-01-02T03:04:05+00:00",
        "version": "2.4.0",
    }


def test_version_defaults_are_iso_dates(api, settings):
    settings.BARONG_GIT_SHA = ""
    settings.BARONG_BUILD_DATE = ""

    body = api.get("/api/v2/identity/version").json()

    assert body["git_sha"] == "unknown"
    assert datetime.fromisoformat(body["build_date"]).tzinfo is not None


def test_configs_defaults(api, settings):
    settings.BARONG_CAPTCHA = "none"
    settings.BARONG_PASSWORD_REGEXP = ""

    response = api.get("/api/v2/identity/configs")

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {
        "session_expire_time": settings.BARONG_SESSION_EXPIRE_TIME,
        "captcha_type": "none",
        "phone_verification_type": settings.BARONG_PHONE_VERIFICATION,
        "password_min_entropy": settings.BARONG_PASSWORD_MIN_ENTROPY,
        "password_regexp": "^.{8,128}$",
    }


def test_configs_with_recaptcha_gives_the_site_key(api, settings):
    settings.BARONG_CAPTCHA = "recaptcha"
    settings.BARONG_RECAPTCHA_SITE_KEY = "site-key"
    settings.BARONG_PASSWORD_REGEXP = "^(?=.*[A-Z]).{8,80}$"

    body = api.get("/api/v2/identity/configs").json()

    assert body["captcha_type"] == "recaptcha"
    assert body["captcha_id"] == "site-key"
    assert body["password_regexp"] == "^(?=.*[A-Z]).{8,80}$"


def test_configs_with_geetest_has_no_captcha_id(api, settings):
    settings.BARONG_CAPTCHA = "geetest"

    body = api.get("/api/v2/identity/configs").json()

    assert body["captcha_type"] == "geetest"
    assert "captcha_id" not in body


@pytest.mark.parametrize("fmt", ["json", "multipart"])
def test_password_validate_gives_entropy(api, fmt):
    weak = api.post(VALIDATE, {"password": "password"}, format=fmt)
    strong = api.post(VALIDATE, {"password": "Correct-Horse-Battery-9"}, format=fmt)

    assert weak.status_code == strong.status_code == HTTPStatus.CREATED
    assert set(weak.json()) == {"entropy"}
    assert weak.json()["entropy"] < 14 <= strong.json()["entropy"]


def test_password_validate_accepts_empty(api):
    response = api.post(VALIDATE, {"password": ""}, format="json")

    assert response.status_code == HTTPStatus.CREATED
    assert response.json() == {"entropy": 0.0}


def test_password_validate_missing(api):
    response = api.post(VALIDATE, {}, format="json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["identity.general.missing_password"]}


@pytest.mark.parametrize(
    ("value", "status", "errors"),
    [
        ({"p": 1}, HTTPStatus.UNPROCESSABLE_ENTITY, ["identity.general.invalid_password"]),
        (["p"], HTTPStatus.UNPROCESSABLE_ENTITY, ["identity.general.invalid_password"]),
        (None, HTTPStatus.UNPROCESSABLE_ENTITY, ["identity.general.empty_password"]),
        ("x" * 70_000, HTTPStatus.UNPROCESSABLE_ENTITY, ["identity.general.invalid_password"]),
    ],
)
def test_password_validate_hostile_input(api, value, status, errors):
    response = api.post(VALIDATE, {"password": value}, format="json")

    assert response.status_code == status
    assert response.json() == {"errors": errors}


@pytest.mark.parametrize("password", ["x" * 10_000, "пароль-😀-" * 50, 12345678])
def test_password_validate_long_unicode_and_numbers(api, password):
    response = api.post(VALIDATE, {"password": password}, format="json")

    assert response.status_code == HTTPStatus.CREATED
    assert isinstance(response.json()["entropy"], float)


@pytest.mark.parametrize("path", ["/api/v2/identity/jwks", "/.well-known/jwks.json"])
def test_jwks_verifies_a_minted_token(api, path):
    response = api.get(path)

    assert response.status_code == HTTPStatus.OK
    keys = response.json()["keys"]
    token = barong_jwt.encode({"uid": "ID0000000001"}, sub="session")
    kid = jwt.get_unverified_header(token)["kid"]
    jwk = next(key for key in keys if key["kid"] == kid)
    assert (jwk["kty"], jwk["alg"], jwk["use"]) == ("RSA", "RS256", "sig")
    public = jwt.PyJWK(jwk).key
    claims = jwt.decode(token, public, algorithms=["RS256"], audience=["peatio", "barong"])
    assert claims["uid"] == "ID0000000001"
    assert "d" not in jwk


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/v2/identity/ping"),
        ("delete", "/api/v2/identity/time"),
        ("get", VALIDATE),
        ("post", "/api/v2/identity/configs"),
        ("post", "/api/v2/identity/users/register_geetest"),
        ("get", "/api/v2/identity/users/email/confirm_code"),
        ("get", "/api/v2/identity/users"),
    ],
)
def test_wrong_methods_are_405(api, method, path):
    response = getattr(api, method)(path)

    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert response.json() == {"errors": ["route.method_not_allowed"]}
