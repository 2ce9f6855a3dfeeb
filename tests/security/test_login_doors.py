"""One login policy at every door: failures at the API or back-office login count at the
other, on the same subjects (accounts/login_policy.py)."""

from http import HTTPStatus

import pytest
from django.test import Client

from tests.conftest import BROWSER_UA
from tests.factories import DEFAULT_PASSWORD

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
