"""/resource/otp/recovery_codes and logging in with a recovery code."""

from http import HTTPStatus

import pytest

from accounts.models import RecoveryCode
from accounts.services.otp import otp_disable
from activities.models import Activity
from tests.resource_account.helpers import HOSTILE_JSON, HOSTILE_STRINGS, two_factor_on

pytestmark = pytest.mark.django_db

CODES = "/api/v2/resource/otp/recovery_codes"
LOGIN = "/api/v2/identity/sessions"
AUTHZ_ME = "/api/v2/auth/api/v2/barong/resource/users/me"
PASSWORD = "Correct-Horse-Battery-9"


@pytest.fixture
def otp_user(make_user, clock):
    return two_factor_on(make_user(), clock)


def generate(auth_api, user, clock) -> list[str]:
    response = auth_api(user).post(CODES, {"code": clock.next_code(user)}, format="json")
    assert response.status_code == HTTPStatus.CREATED, response.content
    assert response["Cache-Control"] == "no-store"
    return response.json()["codes"]


def login_with(api, user, **second):
    return api.post(LOGIN, {"email": user.email, "password": PASSWORD, **second}, format="json")


def test_generate_answers_ten_distinct_codes_stored_only_hashed(auth_api, otp_user, clock):
    codes = generate(auth_api, otp_user, clock)

    assert len(codes) == 10
    assert len(set(codes)) == 10
    assert all(len(code) == 11 and code[5] == "-" for code in codes)
    stored = list(RecoveryCode.objects.filter(user=otp_user).values_list("digest", flat=True))
    assert len(stored) == 10
    assert not any(
        code in digest or code.replace("-", "") in digest for code in codes for digest in stored
    )
    assert auth_api(otp_user).get(CODES).json() == {"count": 10}


def test_a_code_logs_in_once_then_never_again(api, auth_api, otp_user, clock):
    codes = generate(auth_api, otp_user, clock)

    first = login_with(api, otp_user, recovery_code=codes[3].upper().replace("-", " "))
    assert first.status_code == HTTPStatus.OK, first.content
    assert api.get(AUTHZ_ME).status_code == HTTPStatus.OK
    again = login_with(api, otp_user, recovery_code=codes[3])
    assert again.status_code == HTTPStatus.FORBIDDEN
    assert again.json() == {"errors": ["identity.session.invalid_recovery_code"]}
    assert auth_api(otp_user).get(CODES).json() == {"count": 9}
    actions = set(
        Activity.objects.filter(user=otp_user, topic="session").values_list("action", "result")
    )
    assert ("login::recovery_code", "succeed") in actions
    assert ("login::recovery_code", "failed") in actions


def test_regenerating_voids_the_old_set(api, auth_api, otp_user, clock):
    old = generate(auth_api, otp_user, clock)
    new = generate(auth_api, otp_user, clock)

    assert login_with(api, otp_user, recovery_code=old[0]).status_code == HTTPStatus.FORBIDDEN
    assert login_with(api, otp_user, recovery_code=new[0]).status_code == HTTPStatus.OK


def test_disabling_2fa_voids_the_codes(api, auth_api, otp_user, clock):
    codes = generate(auth_api, otp_user, clock)

    otp_disable(user=otp_user, code=clock.next_code(otp_user))

    assert not RecoveryCode.objects.filter(user=otp_user).exists()
    # 2FA off: the password alone logs in, and a code is simply not asked for
    assert login_with(api, otp_user, recovery_code=codes[0]).status_code == HTTPStatus.OK
    assert auth_api(otp_user).get(CODES).json() == {"count": 0}


def test_another_users_code_does_not_work(api, auth_api, otp_user, make_user, clock):
    other = two_factor_on(make_user(), clock)
    codes = generate(auth_api, other, clock)

    response = login_with(api, otp_user, recovery_code=codes[0])

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json() == {"errors": ["identity.session.invalid_recovery_code"]}


def test_wrong_password_with_a_good_code_spends_nothing(api, auth_api, otp_user, clock):
    codes = generate(auth_api, otp_user, clock)

    response = api.post(
        LOGIN, {"email": otp_user.email, "password": "wrong", "recovery_code": codes[0]}
    )

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert auth_api(otp_user).get(CODES).json() == {"count": 10}


@pytest.mark.parametrize("value", [*HOSTILE_STRINGS, "", "   ", "aaaaa-aaaaa"])
def test_hostile_recovery_codes_are_refused(api, auth_api, otp_user, clock, value):
    generate(auth_api, otp_user, clock)

    response = login_with(api, otp_user, recovery_code=value)

    key = response.json()["errors"][0]
    assert key in (
        "identity.session.invalid_recovery_code",
        "identity.session.missing_otp",
        "identity.session.recovery_code_too_long",
    )
    if key == "identity.session.missing_otp":  # a blank code is no code
        assert response.status_code == HTTPStatus.UNAUTHORIZED
    else:
        assert response.status_code in (HTTPStatus.FORBIDDEN, HTTPStatus.UNPROCESSABLE_ENTITY)
    assert auth_api(otp_user).get(CODES).json() == {"count": 10}


def test_recovery_code_attempts_are_rate_limited(api, auth_api, otp_user, clock, tight_limits):
    codes = generate(auth_api, otp_user, clock)
    tight_limits(recovery_code_account="2/300")
    for _ in range(2):
        assert login_with(api, otp_user, recovery_code="zzzzz-zzzzz").status_code == 403

    response = login_with(api, otp_user, recovery_code=codes[0])

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert response.json() == {"errors": ["identity.session.too_many_requests"]}
    assert auth_api(otp_user).get(CODES).json() == {"count": 10}


def test_generate_needs_2fa_on(auth_api, make_user):
    response = auth_api(make_user()).post(CODES, {"code": "123456"})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {"errors": ["resource.recovery_code.not_enabled"]}


def test_generate_with_a_wrong_code_keeps_the_old_set(auth_api, otp_user, clock):
    generate(auth_api, otp_user, clock)
    before = set(RecoveryCode.objects.filter(user=otp_user).values_list("digest", flat=True))

    response = auth_api(otp_user).post(CODES, {"code": "000000"})

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["resource.recovery_code.invalid_otp"]}
    after = set(RecoveryCode.objects.filter(user=otp_user).values_list("digest", flat=True))
    assert before == after


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ({}, "resource.recovery_code.missing_code"),
        ({"code": ""}, "resource.recovery_code.empty_code"),
        ({"code": "9" * 100}, "resource.recovery_code.invalid_code"),
    ],
)
def test_missing_blank_and_oversized_code(auth_api, otp_user, body, key):
    response = auth_api(otp_user).post(CODES, body, format="json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert key in response.json()["errors"]
    assert not RecoveryCode.objects.filter(user=otp_user).exists()


@pytest.mark.parametrize("value", HOSTILE_JSON)
def test_hostile_json_code_is_a_clean_4xx(auth_api, otp_user, value):
    response = auth_api(otp_user).post(CODES, {"code": value}, format="json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert not RecoveryCode.objects.filter(user=otp_user).exists()


def test_generate_is_rate_limited(auth_api, otp_user, tight_limits):
    tight_limits(otp_account="1/300")
    auth_api(otp_user).post(CODES, {"code": "000000"})

    response = auth_api(otp_user).post(CODES, {"code": "000000"})

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert response.json() == {"errors": ["resource.recovery_code.too_many_requests"]}


def test_anonymous_is_refused(api):
    assert api.get(CODES).status_code == HTTPStatus.UNAUTHORIZED
    assert api.get(f"/api/v2/barong{CODES.removeprefix('/api/v2')}").status_code == 401


@pytest.mark.django_db(transaction=True)
def test_one_code_used_by_concurrent_logins_works_once(api, auth_api, make_user, clock):
    from tests.resource_account.test_otp_api import _concurrently

    user = two_factor_on(make_user(), clock)
    code = generate(auth_api, user, clock)[0]
    clients = [type(api)(HTTP_USER_AGENT=api.defaults["HTTP_USER_AGENT"]) for _ in range(3)]

    responses = _concurrently(
        [lambda c=c: login_with(c, user, recovery_code=code) for c in clients]
    )

    assert sorted(r.status_code for r in responses) == [200, 403, 403]
    assert auth_api(user).get(CODES).json() == {"count": 9}
