"""One login policy at every door: failures at the API, passkey or back-office login count
at the others, on the same subjects (accounts/services/login_policy.py)."""

from http import HTTPStatus

import pytest
from django.test import Client

from tests.conftest import BROWSER_UA
from tests.factories import DEFAULT_PASSWORD
from tests.security.test_passkeys_api import LOGIN_WEBAUTHN, login_options, login_verify

pytestmark = pytest.mark.django_db

LOGIN = "/api/v2/identity/sessions"
ADDRESS = "203.0.113.30"  # every door is knocked on from the same address here
WRONG = "Not-The-Password-1"
TOO_MANY = {"errors": ["identity.session.too_many_requests"]}


def office_login(email: str, password: str = DEFAULT_PASSWORD) -> tuple[Client, object]:
    """A back-office login from ADDRESS: (the client, the login page's answer)."""
    client = Client(HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR=ADDRESS)
    response = client.post(
        "/admin/login/?next=/admin/", {"username": email, "password": password, "otp_code": ""}
    )
    return client, response


def api_login(api, email: str, password: str = DEFAULT_PASSWORD):
    return api.post(
        LOGIN, {"email": email, "password": password}, format="json", REMOTE_ADDR=ADDRESS
    )


def test_api_failures_count_at_the_back_office(api, make_admin, tight_limits):
    tight_limits(login_account_ip="3/900")
    operator = make_admin(role="admin")
    for _ in range(3):
        assert api_login(api, operator.email, WRONG).status_code == HTTPStatus.UNAUTHORIZED

    client, response = office_login(operator.email)

    assert response.status_code == HTTPStatus.OK
    assert "Too many login attempts" in response.content.decode()
    assert client.get("/admin/").status_code == HTTPStatus.FOUND  # not logged in


def test_back_office_failures_count_at_the_api_on_the_normalised_email(
    api, make_admin, tight_limits
):
    tight_limits(login_account_ip="3/900")
    operator = make_admin(role="compliance", email="desk@example.com")
    for spelling in ("desk@example.com", "DESK@Example.com", " desk@example.COM "):
        _, response = office_login(spelling, WRONG)
        assert "Please enter the correct" in response.content.decode()

    response = api_login(api, operator.email)

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert response.json() == TOO_MANY
    # Only this address is locked out: the owner logs in from theirs.
    other = api.post(LOGIN, {"email": operator.email, "password": DEFAULT_PASSWORD}, format="json")
    assert other.status_code == HTTPStatus.OK


def test_a_back_office_login_resets_the_apis_counters(api, make_admin, tight_limits):
    tight_limits(login_account_ip="3/900", login_account="3/3600")
    operator = make_admin(role="support")
    for _ in range(2):
        api_login(api, operator.email, WRONG)

    client, response = office_login(operator.email)
    assert response.status_code == HTTPStatus.FOUND
    assert client.get("/admin/").status_code == HTTPStatus.OK
    for _ in range(2):
        api_login(api, operator.email, WRONG)

    assert api_login(api, operator.email).status_code == HTTPStatus.OK


def test_at_the_back_office_only_wrong_passwords_are_failures(api, make_user, tight_limits):
    tight_limits(login_account_ip="3/900")
    member = make_user()
    for _ in range(3):  # the right password of a member: refused, but not a wrong guess
        _, response = office_login(member.email)
        assert "Please enter the correct" in response.content.decode()
    for _ in range(2):
        office_login(member.email, WRONG)
    assert api_login(api, member.email).status_code == HTTPStatus.OK  # resets them

    for _ in range(3):
        office_login(member.email, WRONG)

    assert api_login(api, member.email).json() == TOO_MANY


def test_passkey_door_counts_wrong_passwords_not_right_ones(api, passkey_user, tight_limits):
    user, _ = passkey_user
    tight_limits(login_account_ip="3/900")
    for _ in range(4):  # right passwords: not failures
        options = api.post(
            f"{LOGIN_WEBAUTHN}/options",
            {"email": user.email, "password": DEFAULT_PASSWORD},
            format="json",
            REMOTE_ADDR=ADDRESS,
        )
        assert options.status_code == HTTPStatus.OK
    # The API login with the password alone: refused for a passkey user, not rate-limited.
    assert api_login(api, user.email).json() == {"errors": ["identity.session.webauthn_required"]}

    for _ in range(3):
        wrong = api.post(
            f"{LOGIN_WEBAUTHN}/options",
            {"email": user.email.upper(), "password": WRONG},
            format="json",
            REMOTE_ADDR=ADDRESS,
        )
        assert wrong.json() == {"errors": ["identity.session.invalid_params"]}

    assert api_login(api, user.email).json() == TOO_MANY
    _, office = office_login(user.email)
    assert "Too many login attempts" in office.content.decode()


def test_a_failed_assertion_in_a_held_flow_counts_against_the_account(
    api, passkey_user, tight_limits
):
    user, authenticator = passkey_user
    tight_limits(login_account_ip="100/900", login_account="2/3600")
    for _ in range(2):
        options = login_options(api, user)
        bad = authenticator.get(options, origin="https://evil.example")
        assert login_verify(api, options, bad).status_code == HTTPStatus.FORBIDDEN

    assert api_login(api, user.email).json() == TOO_MANY


def test_a_passkey_login_resets_the_accounts_failures(api, passkey_user, tight_limits):
    user, authenticator = passkey_user
    tight_limits(login_account="3/3600")
    for _ in range(2):
        api.post(f"{LOGIN_WEBAUTHN}/options", {"email": user.email, "password": WRONG})
    options = login_options(api, user)
    assert login_verify(api, options, authenticator.get(options)).status_code == HTTPStatus.OK
    for _ in range(2):
        api.post(f"{LOGIN_WEBAUTHN}/options", {"email": user.email, "password": WRONG})

    assert login_options(api, user)["flow_id"]


def test_passkey_options_ask_for_the_login_captcha(api, passkey_user, settings):
    user, _ = passkey_user
    settings.BARONG_CAPTCHA = "recaptcha"

    response = api.post(
        f"{LOGIN_WEBAUTHN}/options", {"email": user.email, "password": DEFAULT_PASSWORD}
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {"errors": ["identity.captcha.required"]}
