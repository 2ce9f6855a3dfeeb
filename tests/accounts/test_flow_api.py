"""The whole identity journey over HTTP alone, with the e-mailed tokens."""

from http import HTTPStatus

import pytest

from activities.models import Activity
from tests.accounts.conftest import NEW_PASSWORD, STRONG_PASSWORD, CommittingAPIClient, last_token
from tests.conftest import BROWSER_UA

pytestmark = pytest.mark.django_db

USERS = "/api/v2/identity/users"
SESSIONS = "/api/v2/identity/sessions"
EMAIL = "journey@example.com"


@pytest.mark.parametrize("prefix", ["/api/v2", "/api/v2/barong"])
def test_sign_up_confirm_log_in_out_reset_and_log_in_again(mailoutbox, prefix):
    browser = CommittingAPIClient(HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR="203.0.113.50")
    other_device = CommittingAPIClient(HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR="203.0.113.51")
    users = prefix + USERS.removeprefix("/api/v2")
    sessions = prefix + SESSIONS.removeprefix("/api/v2")

    signup = browser.post(users, {"email": EMAIL, "password": STRONG_PASSWORD}, format="json")
    assert signup.status_code == HTTPStatus.CREATED
    assert signup.json()["state"] == "pending"
    uid = signup.json()["uid"]

    confirmation = last_token(mailoutbox, "confirmation", to=EMAIL)
    confirm = browser.post(f"{users}/email/confirm_code", {"token": confirmation}, format="json")
    assert confirm.status_code == HTTPStatus.CREATED
    assert (confirm.json()["uid"], confirm.json()["state"], confirm.json()["level"]) == (
        uid,
        "active",
        1,
    )

    assert browser.delete(sessions).status_code == HTTPStatus.OK
    login = browser.post(sessions, {"email": EMAIL, "password": STRONG_PASSWORD}, format="json")
    assert login.status_code == HTTPStatus.OK
    assert login.json()["state"] == "active"
    logout = browser.delete(sessions)
    assert (logout.status_code, logout.json()) == (HTTPStatus.OK, {})
    assert browser.delete(sessions).status_code == HTTPStatus.NOT_FOUND

    device_login = other_device.post(
        sessions, {"email": EMAIL, "password": STRONG_PASSWORD}, format="json"
    )
    assert device_login.status_code == HTTPStatus.OK

    request = browser.post(f"{users}/password/generate_code", {"email": EMAIL}, format="json")
    assert (request.status_code, request.json()) == (HTTPStatus.CREATED, {})
    reset_token = last_token(mailoutbox, "reset", to=EMAIL)
    reset = browser.post(
        f"{users}/password/confirm_code",
        {
            "reset_password_token": reset_token,
            "password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
        format="json",
    )
    assert (reset.status_code, reset.json()) == (HTTPStatus.CREATED, {})

    # The other device's session ended with the reset.
    assert other_device.delete(sessions).status_code == HTTPStatus.NOT_FOUND
    old = browser.post(sessions, {"email": EMAIL, "password": STRONG_PASSWORD}, format="json")
    assert old.status_code == HTTPStatus.UNAUTHORIZED
    new = browser.post(sessions, {"email": EMAIL, "password": NEW_PASSWORD}, format="json")
    assert new.status_code == HTTPStatus.OK
    assert new.json()["uid"] == uid

    reuse = browser.post(
        f"{users}/password/confirm_code",
        {
            "reset_password_token": reset_token,
            "password": STRONG_PASSWORD,
            "confirm_password": STRONG_PASSWORD,
        },
        format="json",
    )
    assert reuse.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert reuse.json() == {"errors": ["identity.user.utilized_token"]}

    rows = list(
        Activity.objects.filter(user__uid=uid)
        .order_by("id")
        .values_list("topic", "action", "result")
    )
    assert rows == [
        ("account", "signup", "succeed"),
        ("session", "logout", "succeed"),
        ("session", "login", "succeed"),
        ("session", "logout", "succeed"),
        ("session", "login", "succeed"),
        ("password", "request password reset", "succeed"),
        ("password", "password reset", "succeed"),
        ("session", "login", "failed"),
        ("session", "login", "succeed"),
    ]
