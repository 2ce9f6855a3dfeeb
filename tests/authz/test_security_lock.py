"""The security lock at the authz endpoint: after 2FA is switched off, the password is
changed or reset, or a recovery code is used (each through the API), rules marked
``security_lock`` answer 403 ``authz.security_lock`` for BARONG_SECURITY_LOCK_HOURS, the
JWT carries the lock's end, and the user gets one e-mail saying when it lifts. Rules
without the flag are unaffected. The flag itself through the admin API and seed YAML."""

import datetime
import time
from http import HTTPStatus

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from accounts.models import User
from permissions import authz, decision, engine
from permissions.models import Permission
from permissions.services import permission_upsert
from tests.accounts.conftest import last_token
from tests.authz.conftest import bearer, login
from tests.clocks import Later
from tests.conftest import BROWSER_UA
from tests.factories import DEFAULT_PASSWORD
from tests.resource_account.helpers import two_factor_on

pytestmark = pytest.mark.django_db

AUTH = "/api/v2/auth/api/v2/peatio"
WITHDRAWS = f"{AUTH}/account/withdraws"
ORDERS = f"{AUTH}/market/orders"
NEW_PASSWORD = "Purple-Lantern-Orbit-42"
DAY = 24 * 3600


@pytest.fixture(autouse=True)
def locked_rule(db):
    """Withdrawals marked for the lock (members reach them through the seeded
    ``api/v2/peatio/account`` rule already)."""
    rule, _ = permission_upsert(
        role="member",
        verb="all",
        path="api/v2/peatio/account/withdraws",
        action="accept",
        security_lock=True,
    )
    engine.invalidate()
    return rule


@pytest.fixture
def client():
    """Where the user makes the change (the gateway's ``api`` asks authz afterwards)."""
    return APIClient(HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR="198.51.100.20")


@pytest.fixture
def later(monkeypatch):
    fake = Later()
    monkeypatch.setattr(decision, "time", fake)
    monkeypatch.setattr(authz, "time", fake)
    return fake


# ---------------------------------------------------------------- the four triggers


def _otp_off(client, user, clock, auth_api, mailoutbox, committing):
    two_factor_on(user, clock)
    with committing(execute=True):
        response = auth_api(user).post(
            "/api/v2/resource/otp/disable", {"code": clock.next_code(user)}
        )
    assert response.status_code == HTTPStatus.OK, response.content


def _password_change(client, user, clock, auth_api, mailoutbox, committing):
    body = {
        "old_password": DEFAULT_PASSWORD,
        "new_password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD,
    }
    with committing(execute=True):
        response = auth_api(user).put("/api/v2/resource/users/password", body, format="json")
    assert response.status_code == HTTPStatus.CREATED, response.content


def _password_reset(client, user, clock, auth_api, mailoutbox, committing):
    with committing(execute=True):
        client.post("/api/v2/identity/users/password/generate_code", {"email": user.email})
    token = last_token(mailoutbox, "reset", to=user.email)
    body = {
        "reset_password_token": token,
        "password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD,
    }
    with committing(execute=True):
        response = client.post("/api/v2/identity/users/password/confirm_code", body, format="json")
    assert response.status_code == HTTPStatus.CREATED, response.content


def _recovery_code(client, user, clock, auth_api, mailoutbox, committing):
    two_factor_on(user, clock)
    codes = (
        auth_api(user)
        .post("/api/v2/resource/otp/recovery_codes", {"code": clock.next_code(user)})
        .json()["codes"]
    )
    body = {"email": user.email, "password": DEFAULT_PASSWORD, "recovery_code": codes[0]}
    with committing(execute=True):
        response = client.post("/api/v2/identity/sessions", body, format="json")
    assert response.status_code == HTTPStatus.OK, response.content


TRIGGERS = {
    "otp_disabled": _otp_off,
    "password_changed": _password_change,
    "password_reset": _password_reset,
    "recovery_code_used": _recovery_code,
}


def _lock_mails(mailoutbox, user) -> list:
    """The e-mails that tell the user of the lock: the e-mail of the change that started
    it says it (one e-mail for one change)."""
    return [m for m in mailoutbox if m.to == [user.email] and "paused until" in m.body]


@pytest.mark.parametrize("trigger", list(TRIGGERS))
def test_each_trigger_locks_marked_rules_until_the_time_moves_on(
    api,
    client,
    make_user,
    clock,
    auth_api,
    mailoutbox,
    later,
    trigger,
    django_capture_on_commit_callbacks,
):
    user = make_user()
    before = login(api, user)  # noqa: F841  (a session opened before the change)
    assert api.get(WITHDRAWS).status_code == HTTPStatus.OK

    # The change's on-commit work (the outbox's e-mails) runs as after a real commit.
    TRIGGERS[trigger](client, user, clock, auth_api, mailoutbox, django_capture_on_commit_callbacks)
    login(api, user)  # the change may have ended the session: a new one

    locked = api.get(WITHDRAWS)
    assert locked.status_code == HTTPStatus.FORBIDDEN
    assert locked.json() == {"errors": ["authz.security_lock"]}
    assert "Authorization" not in locked
    # A rule without the flag lets the user through, and the JWT says until when.
    orders = api.get(ORDERS)
    assert orders.status_code == HTTPStatus.OK
    until = User.objects.get(pk=user.pk).security_lock_until
    assert bearer(orders)["security_lock_until"] == int(until.timestamp())
    assert abs(until.timestamp() - (time.time() + DAY)) < 120
    # One e-mail, naming the time the lock lifts.
    mails = _lock_mails(mailoutbox, user)
    assert len(mails) == 1
    assert until.isoformat() in mails[0].body

    later.offset = DAY + 60
    lifted = api.get(WITHDRAWS)
    assert lifted.status_code == HTTPStatus.OK
    assert "security_lock_until" not in bearer(lifted)
    assert len(_lock_mails(mailoutbox, user)) == 1


def test_an_api_key_is_locked_out_of_marked_rules_too(api, make_user, clock):
    from apikeys.services import api_key_create
    from tests.authz.conftest import signed_headers

    user = two_factor_on(make_user(), clock)
    key, secret = api_key_create(user=user)
    from accounts.services import user_password_set

    user_password_set(user=user, password=NEW_PASSWORD)

    response = api.post(WITHDRAWS, **signed_headers(key.kid, secret))

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json() == {"errors": ["authz.security_lock"]}


def test_without_a_change_nothing_is_locked_and_no_claim(api, make_user):
    user = make_user()
    login(api, user)

    response = api.get(WITHDRAWS)

    assert response.status_code == HTTPStatus.OK
    assert "security_lock_until" not in bearer(response)


def test_a_rule_without_the_flag_is_unaffected(api, make_user, locked_rule):
    Permission.objects.filter(pk=locked_rule.pk).update(security_lock=False)
    engine.invalidate()
    user = make_user()
    User.objects.filter(pk=user.pk).update(
        security_lock_until=datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(hours=5)
    )
    login(api, user)

    response = api.get(WITHDRAWS)

    assert response.status_code == HTTPStatus.OK
    assert "security_lock_until" in bearer(response)


def test_the_lock_length_is_configuration(
    client, make_user, clock, auth_api, mailoutbox, settings, django_capture_on_commit_callbacks
):
    settings.BARONG_SECURITY_LOCK_HOURS = 0
    user = make_user()

    _password_change(client, user, clock, auth_api, mailoutbox, django_capture_on_commit_callbacks)

    assert User.objects.get(pk=user.pk).security_lock_until is None
    assert _lock_mails(mailoutbox, user) == []


def test_a_second_change_never_shortens_the_lock(make_user, settings):
    from accounts.services.security_lock import security_lock_start

    user = make_user()
    settings.BARONG_SECURITY_LOCK_HOURS = 72
    long = security_lock_start(user=user, reason="otp_disabled")
    settings.BARONG_SECURITY_LOCK_HOURS = 24
    short = security_lock_start(user=user, reason="password_changed")

    assert short == long
    assert User.objects.get(pk=user.pk).security_lock_until == long


# ---------------------------------------------------------------- the flag on rules


ADMIN_PERMISSIONS = "/api/v2/admin/permissions"


def test_operators_mark_a_rule_through_the_admin_api(superadmin, auth_api):
    client = auth_api(superadmin)
    body = {"role": "member", "verb": "post", "path": "api/v2/peatio/account/beneficiaries"}

    created = client.post(
        ADMIN_PERMISSIONS, {**body, "action": "accept", "security_lock": "true"}, format="json"
    )
    row = Permission.objects.get(path=body["path"], action="ACCEPT")
    updated = client.put(ADMIN_PERMISSIONS, {"id": row.pk, "security_lock": False}, format="json")

    assert created.status_code == HTTPStatus.OK
    assert updated.status_code == HTTPStatus.OK
    row.refresh_from_db()
    assert row.security_lock is False


@pytest.mark.parametrize("value", ["maybe", "", {"a": 1}, ["true"], "\x00"])
def test_a_hostile_flag_is_422_and_writes_nothing(superadmin, auth_api, locked_rule, value):
    client = auth_api(superadmin)
    count = Permission.objects.count()

    created = client.post(
        ADMIN_PERMISSIONS,
        {
            "role": "member",
            "verb": "get",
            "path": "api/v2/x",
            "action": "accept",
            "security_lock": value,
        },
        format="json",
    )
    updated = client.put(
        ADMIN_PERMISSIONS, {"id": locked_rule.pk, "security_lock": value}, format="json"
    )

    for response in (created, updated):
        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        assert response.json()["errors"] == ["admin.permission.invalid_security_lock"]
    assert Permission.objects.count() == count
    locked_rule.refresh_from_db()
    assert locked_rule.security_lock is True


def test_seed_yaml_marks_rules_and_refuses_a_non_boolean(tmp_path):
    good = tmp_path / "good.yml"
    good.write_text(
        "permissions:\n"
        "  - {role: member, verb: post, path: api/v2/peatio/account/internal_transfers,"
        " action: accept, security_lock: true}\n"
    )
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "permissions:\n"
        "  - {role: member, verb: get, path: api/v2/seed/one, action: accept}\n"
        "  - {role: member, verb: get, path: api/v2/seed/two, action: accept,"
        " security_lock: 'yes please'}\n"
    )

    call_command("seed_permissions", file=str(good))
    with pytest.raises(CommandError, match="security_lock must be true or false"):
        call_command("seed_permissions", file=str(bad))

    assert Permission.objects.get(path="api/v2/peatio/account/internal_transfers").security_lock
    assert not Permission.objects.filter(path__startswith="api/v2/seed/").exists()
