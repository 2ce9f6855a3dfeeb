"""Who may open which back-office page: the admin API's seeded permission table."""

import json
from http import HTTPStatus

import pytest
from django.test import Client

from accounts.services import user_otp_set
from accounts.services.otp import otp_secret_create
from activities.models import Activity
from tests.backoffice.conftest import OPERATOR_ROLES
from tests.conftest import BROWSER_UA
from tests.factories import DEFAULT_PASSWORD, totp_code

pytestmark = pytest.mark.django_db

SA, A, COMP, ACC, TECH, SUP = OPERATOR_ROLES
EVERYONE = set(OPERATOR_ROLES)

# page → roles that may open it (everyone else gets 403)
PAGES = {
    "/admin/": EVERYONE,
    "/admin/accounts/user/": EVERYONE,
    "/admin/kyc/document/review/": EVERYONE,
    "/admin/kyc/document/": EVERYONE,
    "/admin/kyc/profile/": EVERYONE,
    "/admin/accounts/label/": EVERYONE,
    "/admin/kyc/phone/": EVERYONE,
    "/admin/apikeys/apikey/": EVERYONE,
    "/admin/activities/activity/": EVERYONE,
    "/admin/accounts/level/": {SA, A, ACC, TECH},
    "/admin/kyc/datastorage/": {SA, A, COMP, ACC, TECH},
    "/admin/permissions/restriction/": {SA, A, ACC, TECH},
    "/admin/permissions/permission/": {SA},
    "/admin/accounts/label/add/": {SA, A, COMP},
    "/admin/accounts/level/add/": {SA, A},
    "/admin/permissions/restriction/add/": {SA, A},
    "/admin/permissions/permission/add/": {SA},
}


@pytest.mark.parametrize("role", OPERATOR_ROLES)
@pytest.mark.parametrize(("url", "allowed"), PAGES.items(), ids=list(PAGES))
def test_each_page_opens_only_for_the_roles_allowed(role_client, role, url, allowed):
    client = role_client(role)

    response = client.get(url)

    expected = HTTPStatus.OK if role in allowed else HTTPStatus.FORBIDDEN
    assert response.status_code == expected


@pytest.mark.parametrize("url", ["/admin/auth/group/", "/admin/accounts/user/add/"])
def test_pages_that_exist_for_nobody(operator_client, url):
    client, _ = operator_client(SA)

    assert client.get(url).status_code in (HTTPStatus.FORBIDDEN, HTTPStatus.NOT_FOUND)


@pytest.mark.parametrize("role", OPERATOR_ROLES)
def test_index_lists_only_sections_the_role_may_open(role_client, role):
    client = role_client(role)

    body = client.get("/admin/").content.decode()

    assert ('href="/admin/permissions/permission/"' in body) is (role == SA)
    assert ('href="/admin/permissions/restriction/"' in body) is (role in {SA, A, ACC, TECH})
    assert "Document review queue" in body


@pytest.mark.parametrize("role", OPERATOR_ROLES)
def test_user_page_is_editable_only_by_reviewing_roles(operator_client, make_user, role):
    client, _ = operator_client(role)
    member = make_user()

    body = client.get(f"/admin/accounts/user/{member.pk}/change/").content.decode()

    editable = role in {SA, A, COMP}
    assert ('name="state"' in body) is editable
    assert ('name="_save"' in body) is editable
    assert ('name="role"' in body) is (role == SA)  # only a superadmin changes roles


def _login(client: Client, email: str, password: str = DEFAULT_PASSWORD, otp_code: str = ""):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": email, "password": password, "otp_code": otp_code},
    )


def _client() -> Client:
    return Client(HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR="203.0.113.30")


@pytest.mark.parametrize("role", OPERATOR_ROLES)
def test_operator_logs_in_with_email_and_password(make_admin, role):
    operator = make_admin(role=role)
    client = _client()

    response = _login(client, operator.email.upper())

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == HTTPStatus.OK
    # The API login's row in the operator's own log, and the back-office's audit row.
    rows = Activity.objects.filter(user=operator).order_by("id")
    assert [(r.category, r.topic, r.action, r.result, r.user_ip) for r in rows] == [
        ("user", "session", "login", "succeed", "203.0.113.30"),
        ("admin", "session", "login", "succeed", "203.0.113.30"),
    ]
    assert json.loads(rows[1].data) == {"via": "backoffice", "factor": "none"}


@pytest.mark.parametrize("role", ["member", "trader", "broker"])
def test_non_operator_roles_cannot_log_in(make_user, role):
    user = make_user(role=role)
    client = _client()

    response = _login(client, user.email)

    assert response.status_code == HTTPStatus.OK
    assert "Please enter the correct" in response.content.decode()
    assert client.get("/admin/").status_code == HTTPStatus.FOUND  # back to the login page
    assert not Activity.objects.filter(category="admin").exists()


def test_member_session_never_reaches_admin_pages(make_user):
    member = make_user()
    client = _client()
    client.force_login(member)

    response = client.get("/admin/accounts/user/")

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/admin/login/")


def test_wrong_password_and_unknown_email_look_the_same(make_admin):
    operator = make_admin(role=SA)

    wrong = _login(_client(), operator.email, password="Not-The-Password-1")
    unknown = _login(_client(), "nobody@example.com")

    assert wrong.status_code == unknown.status_code == HTTPStatus.OK
    assert wrong.context["form"].errors == unknown.context["form"].errors


@pytest.mark.parametrize("labels", [{"ban": "by_admin"}, {"lock": "suspicious"}])
def test_banned_or_locked_operator_cannot_log_in(make_admin, labels):
    make_admin(role=SA)  # the last active superadmin could not be banned
    operator = make_admin(role=SA, labels=labels)
    assert operator.state != "active"
    client = _client()

    response = _login(client, operator.email)

    assert response.status_code == HTTPStatus.OK
    assert "Please enter the correct" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert not Activity.objects.filter(category="admin").exists()


def test_operator_with_unconfirmed_email_cannot_log_in(make_admin):
    operator = make_admin(role=SA, verified=False)
    client = _client()

    response = _login(client, operator.email)

    assert response.status_code == HTTPStatus.OK
    assert "Please enter the correct" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_operator_banned_after_login_is_logged_out(operator_client):
    from accounts.services import label_set

    client, operator = operator_client(A)
    assert client.get("/admin/").status_code == HTTPStatus.OK
    label_set(user=operator, key="ban", value="by_admin", scope="private")

    response = client.get("/admin/")

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/admin/login/")


def test_login_page_asks_for_the_2fa_code(db):
    body = _client().get("/admin/login/").content.decode()

    assert 'name="otp_code"' in body
    assert 'autocomplete="one-time-code"' in body


@pytest.fixture
def operator_with_2fa(make_admin):
    operator = make_admin(role=COMP)
    otp_secret_create(user=operator)
    user_otp_set(user=operator, enabled=True)
    return operator


@pytest.mark.parametrize("code", ["", "000000", "abcdef", "1" * 300])
def test_operator_with_2fa_needs_a_valid_code(operator_with_2fa, code):
    client = _client()

    response = _login(client, operator_with_2fa.email, otp_code=code)
    wrong_password = _login(_client(), operator_with_2fa.email, "Not-The-Password-1", code)

    assert response.status_code == HTTPStatus.OK
    assert client.get("/admin/").status_code == HTTPStatus.FOUND
    # No hint that the password itself was right.
    assert response.context["form"].errors == wrong_password.context["form"].errors


def test_operator_with_2fa_logs_in_with_the_current_code_once(operator_with_2fa):
    code = totp_code(operator_with_2fa)
    client = _client()

    assert _login(client, operator_with_2fa.email, otp_code=code).status_code == HTTPStatus.FOUND
    replay = _login(_client(), operator_with_2fa.email, otp_code=code)
    assert replay.status_code == HTTPStatus.OK


def test_login_attempts_are_rate_limited(make_admin, settings):
    settings.BARONG_RATE_LIMIT_RULES = {
        **settings.BARONG_RATE_LIMIT_RULES,
        "login_account": "3/300",
    }
    operator = make_admin(role=SA)
    for _ in range(3):
        _login(_client(), operator.email, password="Not-The-Password-1")

    response = _login(_client(), operator.email)

    assert response.status_code == HTTPStatus.OK
    assert "Too many login attempts" in response.content.decode()


def _password_change(client, old: str, new1: str, new2: str | None = None):
    return client.post(
        "/admin/password_change/",
        {
            "old_password": old,
            "new_password1": new1,
            "new_password2": new1 if new2 is None else new2,
        },
    )


def test_password_change_follows_barong_rules_and_keeps_this_session(operator_client):
    client, operator = operator_client("support")
    new = "Purple-Kettle-Drum-77"

    response = _password_change(client, DEFAULT_PASSWORD, new)

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/admin/password_change/done/"
    operator.refresh_from_db()
    assert operator.check_password(new)
    assert client.get("/admin/").status_code == HTTPStatus.OK
    row = Activity.objects.get(user=operator, topic="password")
    assert (row.action, row.result) == ("password change", "succeed")


@pytest.mark.parametrize(
    ("old", "new1", "new2", "key"),
    [
        ("Not-The-Password-1", "Purple-Kettle-Drum-77", None, "prev_pass_not_correct"),
        (DEFAULT_PASSWORD, "short", None, "password.requirements"),
        (DEFAULT_PASSWORD, "password123", None, "password.weak"),
        (DEFAULT_PASSWORD, "x" * 10_000, None, "password.too_long"),
        (DEFAULT_PASSWORD, DEFAULT_PASSWORD, None, "no_change_provided"),
        (DEFAULT_PASSWORD, "Purple-Kettle-Drum-77", "Purple-Kettle-Drum-78", "didn"),
    ],
)
def test_password_change_refusals_keep_the_old_password(operator_client, old, new1, new2, key):
    client, operator = operator_client("admin")

    response = _password_change(client, old, new1, new2)

    assert response.status_code == HTTPStatus.OK
    assert key in response.content.decode()
    operator.refresh_from_db()
    assert operator.check_password(DEFAULT_PASSWORD)


def test_2fa_code_attempts_are_rate_limited(operator_with_2fa, settings):
    settings.BARONG_RATE_LIMIT_RULES = {**settings.BARONG_RATE_LIMIT_RULES, "otp_account": "2/300"}
    for _ in range(2):
        _login(_client(), operator_with_2fa.email, otp_code="000000")

    response = _login(_client(), operator_with_2fa.email, otp_code=totp_code(operator_with_2fa))

    assert response.status_code == HTTPStatus.OK
    assert "Too many login attempts" in response.content.decode()
