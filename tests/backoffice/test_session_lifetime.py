"""The back-office: a session's absolute lifetime, and a rule's step-up max age edited
through the permission form (barong/admin_site.py, permissions/admin.py)."""

import time
from http import HTTPStatus

import pytest
from django.core.management import call_command
from django.test import Client

import barong.admin_site
from permissions import engine
from permissions.models import Permission
from tests.backoffice.test_login_second_factor import (  # noqa: F401  (fixtures)
    _relying_party,
    clock,
    flow_of,
    office,
    operator_kit,
    options_of,
    passkey_step,
    password_step,
)
from tests.clocks import Later
from tests.conftest import BROWSER_UA
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db

PERMISSIONS = "/admin/permissions/permission/"
WITHDRAW = "api/v2/peatio/account/withdraws"


def test_the_back_office_session_ends_at_its_absolute_lifetime(make_admin, settings, monkeypatch):
    settings.BARONG_SESSION_EXPIRE_TIME = 30 * 24 * 3600  # idle expiry out of the way
    settings.BARONG_SESSION_MAX_LIFETIME = 8 * 3600
    later = Later()
    monkeypatch.setattr(barong.admin_site, "time", later)
    operator = make_admin(role="support")
    office = Client(HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR="203.0.113.40")
    data = {"username": operator.email, "password": DEFAULT_PASSWORD}
    assert office.post("/admin/login/?next=/admin/", data).status_code == HTTPStatus.FOUND
    assert office.session["amr"] == ["pwd"]

    later.offset = 8 * 3600 - 60
    assert office.get("/admin/").status_code == HTTPStatus.OK
    later.offset = 8 * 3600 + 1
    ended = office.get("/admin/")

    assert ended.status_code == HTTPStatus.FOUND
    assert ended["Location"].startswith("/admin/login/")
    assert office.get("/admin/").status_code == HTTPStatus.FOUND  # logged out for good


def _office_login(operator) -> Client:
    office = Client(HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR="203.0.113.40")
    data = {"username": operator.email, "password": DEFAULT_PASSWORD}
    assert office.post("/admin/login/?next=/admin/", data).status_code == HTTPStatus.FOUND
    return office


def test_a_back_office_login_past_the_cap_ends_the_oldest(make_admin, settings):
    """BARONG_SESSIONS_PER_USER holds for operators' back-office sessions too."""
    settings.BARONG_SESSIONS_PER_USER = 2
    operator = make_admin(role="support")
    first = _office_login(operator)
    second = _office_login(operator)
    assert first.get("/admin/").status_code == HTTPStatus.OK

    third = _office_login(operator)

    ended = first.get("/admin/")
    assert ended.status_code == HTTPStatus.FOUND
    assert ended["Location"].startswith("/admin/login/")
    assert second.get("/admin/").status_code == HTTPStatus.OK
    assert third.get("/admin/").status_code == HTTPStatus.OK


def test_the_back_office_cap_counts_live_sessions_only(make_admin, settings):
    settings.BARONG_SESSIONS_PER_USER = 2
    operator = make_admin(role="support")
    first = _office_login(operator)
    first.post("/admin/logout/")
    second = _office_login(operator)

    third = _office_login(operator)  # the logged-out first is not counted: nothing ends

    assert second.get("/admin/").status_code == HTTPStatus.OK
    assert third.get("/admin/").status_code == HTTPStatus.OK
    _office_login(operator)  # now the oldest live one ends
    assert second.get("/admin/").status_code == HTTPStatus.FOUND
    assert third.get("/admin/").status_code == HTTPStatus.OK


def test_back_office_and_api_sessions_are_capped_apart(make_admin, settings, api):
    """An operator's API logins do not end their back-office session, nor the reverse."""
    settings.BARONG_SESSIONS_PER_USER = 1
    operator = make_admin(role="support")
    office = _office_login(operator)
    body = {"email": operator.email, "password": DEFAULT_PASSWORD}

    assert api.post("/api/v2/identity/sessions", body, format="json").status_code == 200
    assert office.get("/admin/").status_code == HTTPStatus.OK
    assert api.get("/api/v2/resource/users/me").status_code == HTTPStatus.OK
    second = _office_login(operator)
    assert api.get("/api/v2/resource/users/me").status_code == HTTPStatus.OK
    assert office.get("/admin/").status_code == HTTPStatus.FOUND
    assert second.get("/admin/").status_code == HTTPStatus.OK


def test_a_session_without_a_start_gets_one_at_its_first_page(operator_client):
    client, _ = operator_client("support")  # force_login: no login form, no start recorded

    assert client.get("/admin/").status_code == HTTPStatus.OK
    assert abs(client.session["created_at"] - time.time()) < 5


def test_the_permission_form_sets_and_clears_the_step_up(
    operator_client, django_capture_on_commit_callbacks
):
    client, _ = operator_client("superadmin")
    rule = {"role": "member", "verb": "POST", "path": WITHDRAW, "action": "ACCEPT"}

    with django_capture_on_commit_callbacks(execute=True):
        added = client.post(f"{PERMISSIONS}add/", {**rule, "step_up_max_age": "300"})
    row = Permission.objects.get(path=WITHDRAW)
    assert added.status_code == HTTPStatus.FOUND
    assert row.step_up_max_age == 300
    assert engine.check("member", "POST", WITHDRAW).step_up == 300

    with django_capture_on_commit_callbacks(execute=True):
        cleared = client.post(f"{PERMISSIONS}{row.pk}/change/", {**rule, "step_up_max_age": ""})
    row.refresh_from_db()
    assert cleared.status_code == HTTPStatus.FOUND
    assert row.step_up_max_age is None
    assert engine.check("member", "POST", WITHDRAW).step_up is None


@pytest.mark.parametrize("value", ["-5", "86401", "abc", "1e3", "9" * 40, "\x00"])
def test_a_bad_step_up_is_a_form_error_and_writes_nothing(operator_client, value):
    client, _ = operator_client("superadmin")
    rule = {"role": "member", "verb": "POST", "path": WITHDRAW, "action": "ACCEPT"}

    response = client.post(f"{PERMISSIONS}add/", {**rule, "step_up_max_age": value})

    assert response.status_code == HTTPStatus.OK  # the form again, with its error
    assert response.context["adminform"].form.errors.get("step_up_max_age")
    assert not Permission.objects.filter(path=WITHDRAW).exists()


def test_seed_permissions_reads_the_step_up(tmp_path):
    seeds = tmp_path / "permissions.yml"
    seeds.write_text(
        "permissions:\n"
        f"  - {{role: member, verb: post, path: {WITHDRAW}, action: accept,"
        " step_up_max_age: 300}\n"
    )

    call_command("seed_permissions", file=str(seeds))
    call_command("seed_permissions", file=str(seeds))  # a re-run is a no-op

    assert list(Permission.objects.filter(path=WITHDRAW).values_list("step_up_max_age")) == [(300,)]


def test_seed_permissions_refuses_a_bad_step_up(tmp_path):
    seeds = tmp_path / "permissions.yml"
    seeds.write_text(
        f"permissions:\n  - {{role: member, verb: post, path: {WITHDRAW}, action: accept,"
        " step_up_max_age: forever}\n"
    )

    with pytest.raises(Exception, match="invalid_step_up_max_age"):
        call_command("seed_permissions", file=str(seeds))
    assert not Permission.objects.filter(path=WITHDRAW).exists()


def test_the_back_office_passkey_login_records_hwk(operator_kit):  # noqa: F811
    kit = operator_kit("passkey only")
    client = office()
    flow = flow_of(password_step(client, kit.operator.email))

    response = passkey_step(client, flow.flow_id, kit.authenticator.get(options_of(flow)))

    assert response.status_code == HTTPStatus.FOUND
    assert client.session["amr"] == ["hwk", "mfa", "pwd"]
    assert abs(client.session["auth_time"] - time.time()) < 5
