"""Phones get a CSPRNG code that expires, burns after wrong tries, is rate-limited."""

from datetime import timedelta
from http import HTTPStatus
from urllib.parse import parse_qs

import pytest
import responses
from django.utils import timezone

from accounts.models import Label
from kyc.models import Phone
from kyc.phones import MOCK_CODE, phone_number_parse, random_code

pytestmark = pytest.mark.django_db
PHONES = "/api/v2/resource/phones"
NUMBER = "+44 07418084106"
DIGITS = "447418084106"
FORMATS = ["multipart", "json"]


def phone_label(user) -> str | None:
    found = Label.objects.filter(user=user, key="phone", scope="private").first()
    return found.value if found else None


def _verify(client, code: str = MOCK_CODE, **kwargs):
    """POST phones/verify for the test number with ``code`` (the mock provider's by default)."""
    body = {"phone_number": NUMBER, "verification_code": code}
    return client.post(f"{PHONES}/verify", body, **kwargs)


@pytest.fixture
def added(member, member_api) -> Phone:
    response = member_api.post(PHONES, {"phone_number": NUMBER})
    assert response.status_code == HTTPStatus.CREATED
    return Phone.objects.get(user=member)


# ---------------------------------------------------------------- numbers and codes


@pytest.mark.parametrize(
    ("raw", "number", "country"),
    [
        ("+44 07418084106", "447418084106", "GB"),
        ("447418084106", "447418084106", "GB"),
        ("+1 (202) 555-0123", "12025550123", "US"),
        ("+380 50 123 45 67", "380501234567", "UA"),
    ],
)
def test_numbers_are_normalised_to_e164_digits(raw, number, country):
    parsed = phone_number_parse(raw)

    assert (parsed.number, parsed.country) == (number, country)


@pytest.mark.parametrize(
    "raw", ["", "abc", "123", "+0000000000", "9" * 40, "+44 0000", "+800 1234 5678"]
)
def test_invalid_numbers_do_not_parse(raw):
    assert phone_number_parse(raw) is None


def test_codes_are_five_random_digits():
    codes = {random_code() for _ in range(200)}

    assert all(len(code) == 5 and code.isdigit() for code in codes)
    assert len(codes) > 150


# ---------------------------------------------------------------- GET / POST phones


def test_list_is_empty_at_first(member_api):
    response = member_api.get(PHONES)

    assert response.status_code == HTTPStatus.OK
    assert response.json() == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_add_a_phone_sends_a_code(member, member_api, fmt):
    response = member_api.post(PHONES, {"phone_number": NUMBER}, format=fmt)

    assert response.status_code == HTTPStatus.CREATED
    assert response.json() == {"message": "Code was sent successfully via sms"}
    phone = Phone.objects.get(user=member)
    assert (phone.number, phone.country, phone.code, phone.validated_at) == (
        DIGITS, "GB", MOCK_CODE, None,
    )  # fmt: skip
    assert member_api.get(PHONES).json() == [
        {"country": "GB", "number": DIGITS, "validated_at": None}
    ]


def test_add_by_call(member_api):
    response = member_api.post(PHONES, {"phone_number": NUMBER, "channel": "call"})

    assert response.json() == {"message": "Code was sent successfully via call"}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    ("data", "status", "keys"),
    [
        (
            {},
            422,
            ["resource.phone.missing_phone_number", "resource.phone.empty_phone_number"],
        ),
        ({"phone_number": ""}, 422, ["resource.phone.empty_phone_number"]),
        ({"phone_number": NUMBER, "channel": "pigeon"}, 422, ["resource.phone.invalid_channel"]),
        ({"phone_number": NUMBER, "channel": ""}, 422, ["resource.phone.invalid_channel"]),
        ({"phone_number": "12"}, 400, ["resource.phone.invalid_num"]),
        ({"phone_number": "not a number"}, 400, ["resource.phone.invalid_num"]),
        ({"phone_number": "7" * 10240}, 400, ["resource.phone.invalid_num"]),
        ({"phone_number": "+٤٤٧٤١٨٠٨٤١٠٦"}, 400, ["resource.phone.invalid_num"]),
    ],
)
def test_add_refuses_bad_parameters(member, member_api, fmt, data, status, keys):
    response = member_api.post(PHONES, data, format=fmt)

    assert response.status_code == status
    assert response.json() == {"errors": keys}
    assert not Phone.objects.filter(user=member).exists()


@pytest.mark.parametrize("value", [{"a": 1}, ["x"]])
def test_add_refuses_objects_for_strings(member, member_api, value):
    response = member_api.post(PHONES, {"phone_number": value, "channel": value}, format="json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json()["errors"][0] == "resource.phone.invalid_phone_number"
    assert not Phone.objects.filter(user=member).exists()


def test_add_the_same_number_twice_is_exists(member_api, added):
    response = member_api.post(PHONES, {"phone_number": "+447418084106"})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {"errors": ["resource.phone.exists"]}
    assert Phone.objects.count() == 1


def test_a_number_verified_by_someone_else_is_number_exist(member, member_api, make_user, auth_api):
    other_api = auth_api(make_user())
    other_api.post(PHONES, {"phone_number": NUMBER})
    _verify(other_api)

    response = member_api.post(PHONES, {"phone_number": NUMBER})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {"errors": ["resource.phone.number_exist"]}
    assert not Phone.objects.filter(user=member).exists()


def test_an_unverified_number_of_someone_else_may_be_added(member_api, make_user, auth_api):
    auth_api(make_user()).post(PHONES, {"phone_number": NUMBER})

    response = member_api.post(PHONES, {"phone_number": NUMBER})

    assert response.status_code == HTTPStatus.CREATED


def test_sending_codes_is_rate_limited_per_account(member_api, settings):
    settings.BARONG_RATE_LIMIT_RULES = {
        **settings.BARONG_RATE_LIMIT_RULES,
        "phone_code_account": "2/600",
    }
    member_api.post(PHONES, {"phone_number": NUMBER})
    member_api.post(f"{PHONES}/send_code", {"phone_number": NUMBER})

    response = member_api.post(f"{PHONES}/send_code", {"phone_number": NUMBER})

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert response.json() == {"errors": ["resource.phone.too_many_requests"]}


# ---------------------------------------------------------------- POST phones/send_code


def test_resend_sends_the_same_live_code(member_api, added, settings):
    settings.BARONG_PHONE_VERIFICATION = "twilio_sms"
    Phone.objects.filter(pk=added.pk).update(code="54321")
    with responses.RequestsMock() as mock:
        mock.post(
            "https://api.twilio.com/2010-04-01/Accounts/ACtest/Messages.json",
            json={"sid": "SM1"},
            status=201,
        )
        settings.BARONG_TWILIO_ACCOUNT_SID, settings.BARONG_TWILIO_AUTH_TOKEN = "ACtest", "tok"

        response = member_api.post(f"{PHONES}/send_code", {"phone_number": NUMBER})

        assert response.status_code == HTTPStatus.CREATED
        assert "54321" in parse_qs(mock.calls[0].request.body)["Body"][0]
    added.refresh_from_db()
    assert added.code == "54321"


def test_resend_replaces_an_expired_code(member_api, added, settings):
    settings.BARONG_PHONE_VERIFICATION = "twilio_sms"
    settings.BARONG_TWILIO_ACCOUNT_SID, settings.BARONG_TWILIO_AUTH_TOKEN = "ACtest", "tok"
    old = timezone.now() - timedelta(minutes=11)
    Phone.objects.filter(pk=added.pk).update(code="54321", code_sent_at=old)
    with responses.RequestsMock() as mock:
        mock.post(
            "https://api.twilio.com/2010-04-01/Accounts/ACtest/Messages.json", json={}, status=201
        )

        member_api.post(f"{PHONES}/send_code", {"phone_number": NUMBER})

    added.refresh_from_db()
    assert added.code_sent_at > old
    assert added.attempts == 0


def test_resend_for_an_unknown_number_is_doesnt_exist(member_api):
    response = member_api.post(f"{PHONES}/send_code", {"phone_number": NUMBER})

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"errors": ["resource.phone.doesnt_exist"]}


@pytest.mark.parametrize(
    ("data", "status", "keys"),
    [
        ({}, 422, ["resource.phone.missing_phone_number", "resource.phone.empty_phone_number"]),
        ({"phone_number": "x"}, 400, ["resource.phone.invalid_num"]),
        ({"phone_number": NUMBER, "channel": "fax"}, 422, ["resource.phone.invalid_channel"]),
    ],
)
def test_resend_refuses_bad_parameters(member_api, data, status, keys):
    response = member_api.post(f"{PHONES}/send_code", data)

    assert response.status_code == status
    assert response.json() == {"errors": keys}


def test_resend_of_a_verified_number_is_number_exist(member_api, added):
    _verify(member_api)

    response = member_api.post(f"{PHONES}/send_code", {"phone_number": NUMBER})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {"errors": ["resource.phone.number_exist"]}


# ---------------------------------------------------------------- POST phones/verify


@pytest.mark.parametrize("fmt", FORMATS)
def test_verify_with_the_mock_code_reaches_level_two(member, member_api, added, fmt):
    response = _verify(member_api, format=fmt)

    assert response.status_code == HTTPStatus.CREATED
    body = response.json()
    assert (body["uid"], body["level"], body["state"]) == (member.uid, 2, "active")
    assert body["phones"][0]["number"] == DIGITS
    assert body["phones"][0]["validated_at"].endswith("Z")
    assert "csrf_token" not in body
    assert phone_label(member) == "verified"
    added.refresh_from_db()
    assert added.validated_at is not None
    assert added.code is None


def test_verify_with_a_wrong_code_is_verification_invalid(member, member_api, added):
    response = _verify(member_api, "00000")

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"errors": ["resource.phone.verification_invalid"]}
    added.refresh_from_db()
    assert (added.validated_at, added.attempts) == (None, 1)
    assert phone_label(member) is None


def test_five_wrong_codes_burn_the_code(member_api, added):
    for _ in range(5):
        _verify(member_api, "11111")

    right = _verify(member_api)

    assert right.status_code == HTTPStatus.NOT_FOUND
    assert right.json() == {"errors": ["resource.phone.verification_invalid"]}
    added.refresh_from_db()
    assert added.code is None
    # a new send issues a fresh code that works again
    member_api.post(f"{PHONES}/send_code", {"phone_number": NUMBER})
    again = _verify(member_api)
    assert again.status_code == HTTPStatus.CREATED


def test_an_expired_code_fails_even_when_right(member_api, added):
    Phone.objects.filter(pk=added.pk).update(
        code_sent_at=timezone.now() - timedelta(minutes=10, seconds=1)
    )

    response = _verify(member_api)

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"errors": ["resource.phone.verification_invalid"]}


def test_verify_attempts_are_rate_limited(member_api, added, settings):
    settings.BARONG_RATE_LIMIT_RULES = {
        **settings.BARONG_RATE_LIMIT_RULES,
        "phone_verify_account": "2/600",
    }
    for _ in range(2):
        _verify(member_api, "99999")

    response = _verify(member_api)

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert response.json() == {"errors": ["resource.phone.too_many_requests"]}


@pytest.mark.parametrize(
    ("data", "status", "keys"),
    [
        (
            {},
            422,
            [
                "resource.phone.missing_phone_number",
                "resource.phone.empty_phone_number",
                "resource.phone.missing_verification_code",
                "resource.phone.empty_verification_code",
            ],
        ),
        (
            {"phone_number": NUMBER, "verification_code": ""},
            422,
            ["resource.phone.empty_verification_code"],
        ),
        (
            {"phone_number": NUMBER, "verification_code": "1" * 10240},
            422,
            ["resource.phone.invalid_verification_code"],
        ),
        (
            {"phone_number": "nope", "verification_code": "12345"},
            400,
            ["resource.phone.invalid_num"],
        ),
        (
            {"phone_number": "+12025550123", "verification_code": "12345"},
            404,
            ["resource.phone.doesnt_exist"],
        ),
    ],
)
def test_verify_refuses_bad_parameters(member, member_api, added, data, status, keys):
    response = member_api.post(f"{PHONES}/verify", data)

    assert response.status_code == status
    assert response.json() == {"errors": keys}
    assert phone_label(member) is None


def test_verify_twice_is_number_exist(member_api, added):
    _verify(member_api)

    response = _verify(member_api)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {"errors": ["resource.phone.number_exist"]}


def test_the_same_number_cannot_be_verified_by_two_accounts(member_api, added, make_user, auth_api):
    other_api = auth_api(make_user())
    other_api.post(PHONES, {"phone_number": NUMBER})
    _verify(member_api)

    response = _verify(other_api)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {"errors": ["resource.phone.number_exist"]}
    assert Phone.objects.filter(number=DIGITS, validated_at__isnull=False).count() == 1


def test_another_users_phone_cannot_be_verified_by_me(member_api, make_user, auth_api):
    auth_api(make_user()).post(PHONES, {"phone_number": NUMBER})

    response = _verify(member_api)

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"errors": ["resource.phone.doesnt_exist"]}


# ---------------------------------------------------------------- Twilio providers


@pytest.fixture
def twilio(settings):
    settings.BARONG_TWILIO_ACCOUNT_SID = "ACtest"
    settings.BARONG_TWILIO_AUTH_TOKEN = "secret-token"
    settings.BARONG_TWILIO_SERVICE_SID = "VAtest"
    settings.BARONG_TWILIO_PHONE_NUMBER = "+15005550006"
    with responses.RequestsMock() as mock:
        yield mock


MESSAGES = "https://api.twilio.com/2010-04-01/Accounts/ACtest/Messages.json"
VERIFICATIONS = "https://verify.twilio.com/v2/Services/VAtest/Verifications"
CHECK = "https://verify.twilio.com/v2/Services/VAtest/VerificationCheck"


def test_twilio_sms_sends_a_random_code_and_checks_it(member, member_api, settings, twilio):
    settings.BARONG_PHONE_VERIFICATION = "twilio_sms"
    twilio.post(MESSAGES, json={"sid": "SM1"}, status=201)

    response = member_api.post(PHONES, {"phone_number": NUMBER})

    assert response.status_code == HTTPStatus.CREATED
    request = twilio.calls[0].request
    form = parse_qs(request.body)
    phone = Phone.objects.get(user=member)
    assert form["To"] == [f"+{DIGITS}"]
    assert form["From"] == ["+15005550006"]
    assert form["Body"] == [f"Your verification code for Barong: {phone.code}"]
    assert request.headers["Authorization"].startswith("Basic ")
    assert len(phone.code) == 5
    assert phone.code.isdigit()
    wrong = "00000" if phone.code != "00000" else "11111"
    bad = _verify(member_api, wrong)
    good = _verify(member_api, phone.code)
    assert bad.status_code == HTTPStatus.NOT_FOUND
    assert good.status_code == HTTPStatus.CREATED


@pytest.mark.parametrize(
    ("code", "key"),
    [
        (21612, "resource.phone.num_not_reachable"),
        (21614, "resource.phone.num_not_valid"),
        (21618, "resource.phone.sms_content_invalid"),
        (21610, "resource.phone.unsubscribed_recipient"),
        (20003, "resource.phone.twilio_unexpected"),
    ],
)
def test_twilio_errors_become_barong_keys_and_leave_no_phone(
    member, member_api, settings, twilio, code, key
):
    settings.BARONG_PHONE_VERIFICATION = "twilio_sms"
    twilio.post(MESSAGES, json={"code": code, "message": "nope", "status": 400}, status=400)

    response = member_api.post(PHONES, {"phone_number": NUMBER})

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": [key]}
    assert not Phone.objects.filter(user=member).exists()


def test_twilio_unreachable_or_garbage_is_unexpected(member_api, settings, twilio):
    settings.BARONG_PHONE_VERIFICATION = "twilio_sms"
    twilio.post(MESSAGES, body="<html>bad gateway</html>", status=502)

    response = member_api.post(PHONES, {"phone_number": NUMBER})

    assert response.json() == {"errors": ["resource.phone.twilio_unexpected"]}


def test_twilio_verify_sends_and_checks_through_the_service(member, member_api, settings, twilio):
    settings.BARONG_PHONE_VERIFICATION = "twilio_verify"
    twilio.post(VERIFICATIONS, json={"status": "pending"}, status=201)
    twilio.post(CHECK, json={"status": "pending"}, status=200)
    twilio.post(CHECK, json={"status": "approved"}, status=200)

    sent = member_api.post(PHONES, {"phone_number": NUMBER, "channel": "call"})
    wrong = _verify(member_api, "123456")
    right = _verify(member_api, "654321")

    assert sent.json() == {"message": "Code was sent successfully via call"}
    assert parse_qs(twilio.calls[0].request.body) == {"To": [f"+{DIGITS}"], "Channel": ["call"]}
    assert parse_qs(twilio.calls[2].request.body) == {"To": [f"+{DIGITS}"], "Code": ["654321"]}
    assert wrong.status_code == HTTPStatus.NOT_FOUND
    assert right.status_code == HTTPStatus.CREATED
    assert phone_label(member) == "verified"


def test_twilio_verify_check_error_is_verification_invalid(member_api, settings, twilio):
    settings.BARONG_PHONE_VERIFICATION = "twilio_verify"
    twilio.post(VERIFICATIONS, json={"status": "pending"}, status=201)
    twilio.post(CHECK, json={"code": 20404, "message": "not found"}, status=404)
    member_api.post(PHONES, {"phone_number": NUMBER})

    response = _verify(member_api, "123456")

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"errors": ["resource.phone.verification_invalid"]}
