"""``/resource/otp/generate_qrcode``, ``enable``, ``disable``, ``verify`` (TOTP 2FA)."""

import base64
import io
import json
import threading
from http import HTTPStatus
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from django.db import connection
from PIL import Image

from accounts.models import Label, OTPDevice, User
from activities.models import Activity
from apikeys.services import api_key_create
from tests.factories import totp_code
from tests.resource_account.helpers import (
    HOSTILE_JSON,
    HUGE,
    login,
    two_factor_on,
    unthrottle,
)

pytestmark = pytest.mark.django_db

OTP = "/api/v2/resource/otp"


def _otp_rows(user) -> list[tuple[str, str, str | None]]:
    rows = Activity.objects.filter(user=user, topic="otp").order_by("id")
    return [
        (r.action, r.result, json.loads(r.data).get("reason") if r.data else None) for r in rows
    ]


def _seeded(user, client) -> None:
    assert client.post(f"{OTP}/generate_qrcode").status_code == HTTPStatus.CREATED


def _wrong_enables(user, client, count: int) -> None:
    """``count`` enables with a wrong code, each past django-otp's back-off."""
    for _ in range(count):
        unthrottle(user)
        client.post(f"{OTP}/enable", {"code": "000000"})
    unthrottle(user)


# ---------------------------------------------------------------- generate_qrcode


def test_generate_qrcode_answers_a_png_and_an_otpauth_url(auth_api, make_user, settings):
    settings.BARONG_APP_NAME = "Exchange"
    user = make_user()

    response = auth_api(user).post(f"{OTP}/generate_qrcode")

    assert response.status_code == HTTPStatus.CREATED
    assert response["Cache-Control"] == "no-store"
    data = response.json()["data"]
    assert list(response.json()) == ["data"]
    url = urlsplit(data["url"])
    assert (url.scheme, url.netloc) == ("otpauth", "totp")
    assert unquote(url.path) == f"/Exchange:{user.email}"
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert {k: query[k] for k in ("algorithm", "digits", "issuer", "period")} == {
        "algorithm": "SHA1",
        "digits": "6",
        "issuer": "Exchange",
        "period": "30",
    }
    assert len(base64.b32decode(query["secret"])) == 20  # 32 chars, no padding needed
    image = Image.open(io.BytesIO(base64.b64decode(data["barcode"])))
    assert (image.format, image.size) == ("PNG", (300, 300))
    assert _otp_rows(user) == [("request QR code for 2FA", "succeed", None)]


def test_generate_qrcode_makes_a_new_encrypted_seed_each_call(auth_api, make_user):
    user = make_user()
    client = auth_api(user)

    first = client.post(f"{OTP}/generate_qrcode").json()["data"]["url"]
    second = client.post(f"{OTP}/generate_qrcode").json()["data"]["url"]

    secrets = [parse_qs(urlsplit(url).query)["secret"][0] for url in (first, second)]
    assert secrets[0] != secrets[1]
    device = OTPDevice.objects.get(user=user)
    assert not device.confirmed
    stored = device.encrypted_key
    assert secrets[1] not in stored
    assert base64.b32decode(secrets[1]).hex() not in stored


def test_generate_qrcode_while_2fa_is_on_keeps_the_seed(auth_api, make_user, clock):
    user = two_factor_on(make_user(), clock)
    before = OTPDevice.objects.get(user=user).encrypted_key

    response = auth_api(user).post(f"{OTP}/generate_qrcode")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {"errors": ["resource.otp.already_enabled"]}
    assert OTPDevice.objects.get(user=user).encrypted_key == before
    assert _otp_rows(user)[-1] == (
        "request QR code for 2FA",
        "failed",
        "2FA has been already enabled for this account",
    )


# ---------------------------------------------------------------- enable


@pytest.mark.parametrize("fmt", ["multipart", "json"])
def test_enable_turns_2fa_on(auth_api, make_user, clock, fmt):
    user = make_user()
    client = auth_api(user)
    _seeded(user, client)

    response = client.post(f"{OTP}/enable", {"code": clock.code(user)}, format=fmt)

    assert response.status_code == HTTPStatus.CREATED
    assert response.json() == {}
    user.refresh_from_db()
    assert user.otp is True
    assert OTPDevice.objects.get(user=user).confirmed
    label = Label.objects.get(user=user, key="otp")
    assert (label.value, label.scope) == ("enabled", "private")
    assert _otp_rows(user)[-1] == ("enable 2FA", "succeed", None)
    assert client.get("/api/v2/resource/users/me").json()["otp"] is True


def test_enable_keeps_this_session_and_ends_the_others(api, make_user, clock):
    from rest_framework.test import APIClient

    from tests.conftest import BROWSER_UA

    user = make_user()
    other_browser = APIClient(HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR="203.0.113.10")
    login(other_browser, user)
    csrf = login(api, user)
    assert api.post(f"{OTP}/generate_qrcode", HTTP_X_CSRF_TOKEN=csrf).status_code == 201

    response = api.post(
        f"{OTP}/enable", {"code": clock.code(user)}, format="json", HTTP_X_CSRF_TOKEN=csrf
    )

    assert response.status_code == HTTPStatus.CREATED
    assert api.get("/api/v2/resource/users/me").status_code == HTTPStatus.OK
    assert other_browser.get("/api/v2/resource/users/me").status_code == 401


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, ["resource.otp.missing_code", "resource.otp.empty_code"]),
        ({"code": ""}, ["resource.otp.empty_code"]),
        ({"code": "  "}, ["resource.otp.empty_code"]),
        ({"code": None}, ["resource.otp.empty_code"]),
        ({"code": {"a": 1}}, ["resource.otp.invalid_code"]),
        ({"code": ["1", "2"]}, ["resource.otp.invalid_code"]),
    ],
)
def test_enable_parameter_keys(auth_api, make_user, body, errors):
    user = make_user()
    client = auth_api(user)
    _seeded(user, client)

    response = client.post(f"{OTP}/enable", body, format="json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": errors}
    user.refresh_from_db()
    assert user.otp is False


@pytest.mark.parametrize("code", ["000000", "12345", "1234567", "abcdef", "²²²²²²", HUGE, 12.5])
def test_enable_with_a_wrong_code(auth_api, make_user, code):
    user = make_user()
    client = auth_api(user)
    _seeded(user, client)

    response = client.post(f"{OTP}/enable", {"code": code}, format="json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["resource.otp.invalid"]}
    user.refresh_from_db()
    assert user.otp is False
    assert not OTPDevice.objects.get(user=user).confirmed
    assert not Label.objects.filter(user=user, key="otp").exists()
    assert _otp_rows(user)[-1] == ("enable 2FA", "failed", "OTP code is invalid")


def test_enable_without_a_seed_is_invalid(auth_api, make_user):
    user = make_user()

    response = auth_api(user).post(f"{OTP}/enable", {"code": "123456"})

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["resource.otp.invalid"]}


def test_enable_when_already_on(auth_api, make_user, clock):
    user = two_factor_on(make_user(), clock)

    response = auth_api(user).post(f"{OTP}/enable", {"code": clock.next_code(user)})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {"errors": ["resource.otp.already_enabled"]}
    assert _otp_rows(user)[-1] == (
        "enable 2FA",
        "failed",
        "2FA has been already enabled for this account",
    )


def test_a_code_of_an_older_seed_does_not_enable(auth_api, make_user, clock):
    user = make_user()
    client = auth_api(user)
    _seeded(user, client)
    old_code = clock.code(user)
    _seeded(user, client)  # the user scanned again: only the newest seed counts

    response = client.post(f"{OTP}/enable", {"code": old_code})

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY


def test_a_failed_attempt_throttles_the_device(auth_api, make_user, clock):
    user = make_user()
    client = auth_api(user)
    _seeded(user, client)
    client.post(f"{OTP}/enable", {"code": "000000"})

    right_after = client.post(f"{OTP}/enable", {"code": clock.code(user)})

    assert right_after.status_code == HTTPStatus.UNPROCESSABLE_ENTITY  # django-otp back-off
    unthrottle(user)
    assert client.post(f"{OTP}/enable", {"code": clock.code(user)}).status_code == 201


def test_otp_attempts_are_rate_limited_per_account(auth_api, make_user, clock):
    user = make_user()
    client = auth_api(user)
    _seeded(user, client)
    _wrong_enables(user, client, 10)

    response = client.post(f"{OTP}/enable", {"code": clock.code(user)})

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert response.json() == {"errors": ["resource.otp.too_many_requests"]}
    user.refresh_from_db()
    assert user.otp is False


def test_rate_limits_can_be_switched_off(auth_api, make_user, clock, settings):
    settings.BARONG_RATE_LIMITS = False
    user = make_user()
    client = auth_api(user)
    _seeded(user, client)
    _wrong_enables(user, client, 12)

    assert client.post(f"{OTP}/enable", {"code": clock.code(user)}).status_code == 201


# ---------------------------------------------------------------- disable


def test_disable_turns_2fa_off_and_keys_inactive(auth_api, make_user, clock):
    user = two_factor_on(make_user(), clock)
    api_key, _ = api_key_create(user=user)
    seed = OTPDevice.objects.get(user=user).encrypted_key

    response = auth_api(user).post(f"{OTP}/disable", {"code": clock.next_code(user)})

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {}
    user.refresh_from_db()
    assert user.otp is False
    api_key.refresh_from_db()
    assert api_key.state == "inactive"
    assert not Label.objects.filter(user=user, key="otp").exists()
    assert OTPDevice.objects.get(user=user).encrypted_key == seed  # kept, as Barong
    assert _otp_rows(user)[-1] == ("disable 2FA", "succeed", None)


@pytest.mark.parametrize(
    ("action", "key", "activity"),
    [
        ("disable", "resource.otp.not_enabled", "disable 2FA"),
        # Barong's odd key: verify with 2FA off answers "already_enabled".
        ("verify", "resource.otp.already_enabled", "verify 2FA code"),
    ],
)
def test_disable_or_verify_when_2fa_is_off(auth_api, make_user, action, key, activity):
    user = make_user()

    response = auth_api(user).post(f"{OTP}/{action}", {"code": "123456"})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {"errors": [key]}
    assert _otp_rows(user) == [(activity, "failed", "2FA has not been enabled for this account")]


@pytest.mark.parametrize("code", ["000000", HUGE, "пароль"])
def test_disable_with_a_wrong_code_changes_nothing(auth_api, make_user, clock, code):
    user = two_factor_on(make_user(), clock)
    api_key, _ = api_key_create(user=user)

    response = auth_api(user).post(f"{OTP}/disable", {"code": code}, format="json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["resource.otp.invalid"]}
    user.refresh_from_db()
    api_key.refresh_from_db()
    assert (user.otp, api_key.state) == (True, "active")
    assert Label.objects.filter(user=user, key="otp").exists()
    assert _otp_rows(user)[-1] == ("disable 2FA", "failed", "OTP code is invalid")


@pytest.mark.parametrize("value", HOSTILE_JSON[:2])
def test_disable_with_a_json_structure_as_code(auth_api, make_user, clock, value):
    user = two_factor_on(make_user(), clock)

    response = auth_api(user).post(f"{OTP}/disable", {"code": value}, format="json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["resource.otp.invalid_code"]}


def test_2fa_can_be_turned_on_again_after_disable(auth_api, make_user, clock):
    user = two_factor_on(make_user(), clock)
    client = auth_api(user)
    assert client.post(f"{OTP}/disable", {"code": clock.next_code(user)}).status_code == 200
    _seeded(user, client)

    response = client.post(f"{OTP}/enable", {"code": clock.next_code(user)})

    assert response.status_code == HTTPStatus.CREATED
    assert Label.objects.get(user=user, key="otp").value == "enabled"


# ---------------------------------------------------------------- verify


def test_verify_accepts_a_valid_code_once(auth_api, make_user, clock):
    user = two_factor_on(make_user(), clock)
    client = auth_api(user)
    code = clock.next_code(user)

    first = client.post(f"{OTP}/verify", {"code": code})
    unthrottle(user)
    second = client.post(f"{OTP}/verify", {"code": code})

    assert first.status_code == HTTPStatus.CREATED
    assert first.json() == {}
    assert second.status_code == HTTPStatus.UNPROCESSABLE_ENTITY  # each code is used once
    assert second.json() == {"errors": ["resource.otp.invalid"]}
    # Only the failure is recorded, as in Barong.
    assert [row for row in _otp_rows(user) if row[0] == "verify 2FA code"] == [
        ("verify 2FA code", "failed", "OTP code is invalid")
    ]


def test_verify_tolerates_one_step_of_clock_skew(auth_api, make_user, clock):
    user = two_factor_on(make_user(), clock)
    clock.tick(300)
    client = auth_api(user)
    two_behind = totp_code(user, now=clock.now - 60)
    one_behind = totp_code(user, now=clock.now - 30)
    one_ahead = totp_code(user, now=clock.now + 30)

    assert client.post(f"{OTP}/verify", {"code": two_behind}).status_code == 422
    unthrottle(user)
    assert client.post(f"{OTP}/verify", {"code": one_behind}).status_code == 201
    assert client.post(f"{OTP}/verify", {"code": one_ahead}).status_code == 201


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, ["resource.otp.missing_code", "resource.otp.empty_code"]),
        ({"code": ""}, ["resource.otp.empty_code"]),
        ({"code": ["1"]}, ["resource.otp.invalid_code"]),
        ({"code": "\uff11\uff12\uff13\uff14\uff15\uff16"}, ["resource.otp.invalid"]),  # fullwidth
        ({"code": HUGE}, ["resource.otp.invalid"]),
    ],
)
def test_verify_refusals(auth_api, make_user, clock, body, errors):
    user = two_factor_on(make_user(), clock)

    response = auth_api(user).post(f"{OTP}/verify", body, format="json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": errors}


def test_otp_operations_need_authentication(api):
    for name in ("generate_qrcode", "enable", "disable", "verify"):
        response = api.post(f"{OTP}/{name}", {"code": "123456"})

        assert response.status_code == HTTPStatus.UNAUTHORIZED
        assert response.json() == {"errors": ["jwt.decode_and_verify"]}


def test_otp_get_is_not_allowed(auth_api, make_user):
    response = auth_api(make_user()).get(f"{OTP}/verify")

    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED


# ---------------------------------------------------------------- races


def _concurrently(calls) -> list:
    """Run the calls at the same moment in threads, each with its own DB connection.

    SQLite (the local default) has no row locks and its shared in-memory test database
    refuses concurrent writers outright, so the races run where they matter: PostgreSQL (CI).
    """
    if not connection.features.has_select_for_update:
        pytest.skip("row locks need PostgreSQL; CI runs this race against it")
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            results[index] = call()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_enables_with_one_code_succeed_once(auth_api, make_user, clock):
    user = make_user()
    _seeded(user, auth_api(user))
    code = clock.code(user)
    clients = [auth_api(user), auth_api(user)]

    responses = _concurrently(
        [lambda c=c: c.post(f"{OTP}/enable", {"code": code}) for c in clients]
    )

    statuses = sorted(r.status_code for r in responses)
    assert statuses[0] == HTTPStatus.CREATED
    assert statuses[1] in (HTTPStatus.BAD_REQUEST, HTTPStatus.UNPROCESSABLE_ENTITY)
    assert Activity.objects.filter(user=user, action="enable 2FA", result="succeed").count() == 1
    assert User.objects.get(pk=user.pk).otp is True
    assert Label.objects.filter(user=user, key="otp").count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_same_code_verified_concurrently_is_accepted_once(auth_api, make_user, clock):
    user = two_factor_on(make_user(), clock)
    code = clock.next_code(user)
    clients = [auth_api(user) for _ in range(3)]

    responses = _concurrently(
        [lambda c=c: c.post(f"{OTP}/verify", {"code": code}) for c in clients]
    )

    assert sorted(r.status_code for r in responses) == [201, 422, 422]
