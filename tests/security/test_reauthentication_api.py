"""Re-authentication before an authentication factor changes (ASVS 7.5.1): a passkey added
or removed, new recovery codes, and (with ``BARONG_REAUTH_OTP_ENABLE``) 2FA switched on
ask for a session authenticated within ``BARONG_REAUTH_MAX_AGE`` seconds; a stale one is
refused with 401 ``resource.session.reauthentication_required`` and satisfied by a step-up
(TOTP, passkey, or the password for a user with neither)."""

from http import HTTPStatus

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import RecoveryCode, WebAuthnCredential
from activities.models import Activity
from tests.authz.test_step_up import claims, later, log_in, passkey_login
from tests.conftest import BROWSER_UA
from tests.factories import DEFAULT_PASSWORD
from tests.resource_account import helpers
from tests.resource_account.helpers import HOSTILE_STRINGS, two_factor_on
from tests.security.authenticator import SoftAuthenticator
from tests.security.test_passkeys_api import register

pytestmark = pytest.mark.django_db
clock = helpers.clock  # the TOTP clock fixture
later = later  # time moved on for the session checks

STEP_UP = "/api/v2/resource/sessions/step_up"
WEBAUTHN = "/api/v2/resource/webauthn"
RECOVERY_CODES = "/api/v2/resource/otp/recovery_codes"
OTP = "/api/v2/resource/otp"
PASSWORD_CHANGE = "/api/v2/resource/users/password"
ME = "/api/v2/auth/api/v2/barong/resource/users/me"
REQUIRED = {"errors": ["resource.session.reauthentication_required"]}
STALE = 901  # seconds after the login: past the default BARONG_REAUTH_MAX_AGE (900)


@pytest.fixture(autouse=True)
def _relying_party(settings):
    settings.BARONG_WEBAUTHN_RP_ID = "localhost"
    settings.BARONG_WEBAUTHN_ORIGINS = ["http://localhost:8000"]


@pytest.fixture
def otp_user(make_user, clock):
    return two_factor_on(make_user(), clock)


def register_options(api):
    return api.post(f"{WEBAUTHN}/register/options")


def password_step_up(api, password: str = DEFAULT_PASSWORD):
    return api.post(STEP_UP, {"password": password}, format="json")


# ---------------------------------------------------------------- every factor-changing call


def test_a_stale_session_cannot_start_a_passkey_registration(api, make_user, later):
    log_in(api, make_user())
    later.offset = STALE

    response = register_options(api)

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == REQUIRED


def test_a_stale_session_cannot_finish_a_passkey_registration(api, make_user, later):
    """Options taken while fresh do not carry a session past its window."""
    user = make_user()
    log_in(api, user)
    options = register_options(api)
    later.offset = STALE

    response = api.post(
        f"{WEBAUTHN}/register/verify",
        {"credential": SoftAuthenticator().create(options.json())},
        format="json",
    )

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == REQUIRED
    assert not WebAuthnCredential.objects.filter(user=user).exists()


def test_a_stale_session_cannot_remove_a_passkey(api, make_user, later):
    user = make_user()
    authenticator = SoftAuthenticator()
    log_in(api, user)
    register(api, authenticator)
    later.offset = STALE

    response = api.delete(f"{WEBAUTHN}/credentials/{authenticator.id}")

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == REQUIRED
    assert WebAuthnCredential.objects.filter(user=user).count() == 1


def test_a_stale_session_cannot_regenerate_recovery_codes(api, otp_user, clock, later):
    log_in(api, otp_user, otp_code=clock.next_code(otp_user))
    later.offset = STALE

    response = api.post(RECOVERY_CODES, {"code": clock.next_code(otp_user)}, format="json")

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == REQUIRED
    assert not RecoveryCode.objects.filter(user=otp_user).exists()


def test_a_bearer_token_of_a_stale_session_is_refused_too(api, make_user, later):
    """The upstream path: the JWT authz minted is bound to the session whose age counts."""
    log_in(api, make_user())
    token = api.get(ME)["Authorization"]
    upstream = Client(HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR="203.0.113.10")
    later.offset = STALE

    response = upstream.post(f"{WEBAUTHN}/register/options", HTTP_AUTHORIZATION=token)

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == REQUIRED


def test_an_api_key_token_cannot_change_a_factor(api, otp_user):
    """No session behind it, so nothing to re-authenticate: refused alike."""
    from apikeys.services import api_key_create
    from tests.authz.conftest import signed_headers

    key, secret = api_key_create(user=otp_user)
    token = api.get(ME, **signed_headers(key.kid, secret))
    upstream = Client(HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR="203.0.113.10")

    response = upstream.post(
        f"{WEBAUTHN}/register/options", HTTP_AUTHORIZATION=token["Authorization"]
    )

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == REQUIRED


# ---------------------------------------------------------------- otp/enable: Barong's clients


def active_for_hours(api, later, hours: int) -> None:
    """The session kept alive (within its idle timeout) for ``hours``."""
    for offset in range(1500, hours * 3600, 1500):
        later.offset = offset
        assert api.get("/api/v2/resource/users/me").status_code == HTTPStatus.OK


def test_otp_enable_asks_for_reauthentication_only_with_the_switch(
    make_user, clock, later, settings
):
    """baseapp enables 2FA with the code alone, maybe hours after its login: it still can
    by default; with ``BARONG_REAUTH_OTP_ENABLE`` a stale session steps up first."""
    barong_client, user = APIClient(HTTP_USER_AGENT=BROWSER_UA), make_user()
    strict_client, other = APIClient(HTTP_USER_AGENT=BROWSER_UA), make_user()
    for client, who in ((barong_client, user), (strict_client, other)):
        log_in(client, who)

    def enable(client, who):
        client.post(f"{OTP}/generate_qrcode")
        return client.post(f"{OTP}/enable", {"code": clock.next_code(who)}, format="json")

    later.offset = STALE
    by_default = enable(barong_client, user)
    settings.BARONG_REAUTH_OTP_ENABLE = True
    refused = enable(strict_client, other)
    stepped = password_step_up(strict_client)
    enabled = enable(strict_client, other)

    assert by_default.status_code == HTTPStatus.CREATED, by_default.content
    assert refused.status_code == HTTPStatus.UNAUTHORIZED
    assert refused.json() == REQUIRED
    assert stepped.status_code == HTTPStatus.OK, stepped.content
    assert enabled.status_code == HTTPStatus.CREATED, enabled.content
    other.refresh_from_db()
    assert other.otp


def test_otp_enable_hours_after_the_login_by_default(api, make_user, clock, later):
    """An active session four hours old: 2FA switches on as in Barong 2.4, while a passkey
    (this server's own endpoint) asks for re-authentication."""
    user = make_user()
    log_in(api, user)
    active_for_hours(api, later, 4)

    passkey = register_options(api)
    api.post(f"{OTP}/generate_qrcode")
    enabled = api.post(f"{OTP}/enable", {"code": clock.next_code(user)}, format="json")

    assert passkey.json() == REQUIRED
    assert enabled.status_code == HTTPStatus.CREATED, enabled.content


# ---------------------------------------------------------------- the setting


def test_max_age_zero_switches_reauthentication_off(api, make_user, later, settings):
    log_in(api, make_user())
    later.offset = 1700  # stale, within the idle timeout (1800 s)

    refused = register_options(api)
    settings.BARONG_REAUTH_MAX_AGE = 0
    allowed = register_options(api)

    assert refused.json() == REQUIRED
    assert allowed.status_code == HTTPStatus.CREATED, allowed.content


def test_a_longer_max_age_keeps_the_session_fresh_longer(api, make_user, later, settings):
    settings.BARONG_REAUTH_MAX_AGE = 1500
    log_in(api, make_user())
    later.offset = 1200

    assert register_options(api).status_code == HTTPStatus.CREATED

    later.offset = 1501
    assert register_options(api).json() == REQUIRED


def test_a_shorter_max_age_applies_at_once(api, make_user, later, settings):
    settings.BARONG_REAUTH_MAX_AGE = 60
    log_in(api, make_user())
    later.offset = 61

    assert register_options(api).json() == REQUIRED


# ---------------------------------------------------------------- the password step-up


def test_the_password_steps_up_a_user_without_a_second_factor(api, make_user, later):
    user = make_user()
    log_in(api, user)
    before = claims(api)["auth_time"]
    later.offset = STALE

    response = password_step_up(api)

    assert response.status_code == HTTPStatus.OK, response.content
    assert response.json()["amr"] == ["pwd"]
    assert response.json()["auth_time"] >= before + STALE
    assert register_options(api).status_code == HTTPStatus.CREATED
    assert Activity.objects.filter(
        user=user, topic="session", action="step_up::password", result="succeed"
    ).exists()


def test_a_wrong_password_is_refused_and_changes_nothing(api, make_user, later):
    user = make_user()
    log_in(api, user)
    later.offset = STALE

    response = password_step_up(api, "Not-The-Password-1")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["resource.session.invalid_password"]}
    assert register_options(api).json() == REQUIRED
    assert Activity.objects.filter(
        user=user, topic="session", action="step_up::password", result="failed"
    ).exists()


def test_a_user_with_totp_must_step_up_with_it(api, otp_user, clock, later):
    log_in(api, otp_user, otp_code=clock.next_code(otp_user))
    later.offset = STALE

    by_password = password_step_up(api)
    by_code = api.post(STEP_UP, {"otp_code": clock.next_code(otp_user)}, format="json")
    codes = api.post(RECOVERY_CODES, {"code": clock.next_code(otp_user)}, format="json")

    assert by_password.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert by_password.json() == {"errors": ["resource.session.second_factor_required"]}
    assert by_code.status_code == HTTPStatus.OK
    assert codes.status_code == HTTPStatus.CREATED, codes.content


def test_a_user_with_a_passkey_must_step_up_with_it(api, make_user, later):
    user = make_user()
    authenticator = SoftAuthenticator()
    log_in(api, user)
    register(api, authenticator)
    passkey_login(api, user, authenticator)
    later.offset = STALE

    by_password = password_step_up(api)
    options = api.post(f"{STEP_UP}/options", format="json")
    verify = api.post(
        f"{STEP_UP}/verify", {"credential": authenticator.get(options.json())}, format="json"
    )
    removed = api.delete(f"{WEBAUTHN}/credentials/{authenticator.id}")

    assert by_password.json() == {"errors": ["resource.session.second_factor_required"]}
    assert verify.status_code == HTTPStatus.OK, verify.content
    assert removed.status_code == HTTPStatus.OK, removed.content


def test_a_password_step_up_never_passes_for_a_second_factor(api, make_user, clock, later):
    """2FA switched off after a TOTP login: the password step-up's fresh auth_time does not
    sit beside the old ``otp`` (a step-up rule would read the pair as a recent code)."""
    user = two_factor_on(make_user(), clock)
    log_in(api, user, otp_code=clock.next_code(user))
    off = api.post(f"{OTP}/disable", {"code": clock.next_code(user)}, format="json")
    assert off.status_code == HTTPStatus.OK, off.content
    later.offset = STALE

    response = password_step_up(api)

    assert response.status_code == HTTPStatus.OK, response.content
    assert response.json()["amr"] == ["pwd"]
    assert claims(api)["amr"] == ["pwd"]


def test_password_step_ups_share_the_accounts_password_budget(api, make_user, settings):
    """The one password check (``password_account``): failures at the password change
    count here, and the step-up answers 429 once the budget is spent."""
    settings.BARONG_RATE_LIMITS = True
    settings.BARONG_RATE_LIMIT_RULES = {
        **settings.BARONG_RATE_LIMIT_RULES,
        "password_account": "3/300",
    }
    user = make_user()
    log_in(api, user)
    wrong = {
        "old_password": "Not-The-Password-1",
        "new_password": "Another-Strong-Pass-77",
        "confirm_password": "Another-Strong-Pass-77",
    }
    for _ in range(2):
        assert api.put(PASSWORD_CHANGE, wrong, format="json").status_code == 400
    assert password_step_up(api, "Not-The-Password-2").status_code == 422

    response = password_step_up(api)

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert response.json() == {"errors": ["resource.session.too_many_requests"]}


def test_the_password_step_up_needs_a_session(api, otp_user):
    """An API key's token (no session behind it) cannot step up."""
    from apikeys.services import api_key_create
    from tests.authz.conftest import signed_headers

    key, secret = api_key_create(user=otp_user)
    token = api.get(ME, **signed_headers(key.kid, secret))["Authorization"]
    upstream = Client(HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR="203.0.113.10")

    response = upstream.post(
        STEP_UP,
        {"password": DEFAULT_PASSWORD},
        content_type="application/json",
        HTTP_AUTHORIZATION=token,
    )

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["resource.session.no_session"]}


@pytest.mark.parametrize(
    ("value", "key"),
    [
        ("", "empty_password"),
        ("   ", "empty_password"),
        (None, "empty_password"),
        (["x"], "invalid_password"),
        ({}, "invalid_password"),
        *((value, "invalid_password") for value in HOSTILE_STRINGS),
    ],
)
def test_hostile_passwords_are_refused_with_keys(api, make_user, value, key):
    user = make_user()
    log_in(api, user)

    response = api.post(STEP_UP, {"password": value}, format="json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY, response.content
    assert response.json() == {"errors": [f"resource.session.{key}"]}
