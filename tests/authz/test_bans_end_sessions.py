"""A ban (or a lock, or a deletion) ends the user's sessions, whichever door it came through,
and lifting it brings none back: the old cookie and the JWTs minted for it stay refused.

Doors: the admin API's state change and its ``ban`` label, the back-office's ban action,
the management API's private label, and a level resync moving users in bulk. They all end
in ``accounts.services.user_state_set`` or the resync's bulk path (accounts/services/resync.py).
"""

import json
import time
from http import HTTPStatus

import pytest
from django.test import Client

import accounts.sessions
from accounts.models import User
from accounts.services import label_set
from apikeys.models import APIKey
from apikeys.services import api_key_create
from tests.authz.conftest import signed_headers
from tests.authz.gateway import ENDED, GATEWAY_ME, bearer_get, device, gateway_token, log_in
from tests.conftest import BROWSER_UA
from tests.management import conftest as management_fixtures

pytestmark = pytest.mark.django_db
ADMIN = "/api/v2/admin"
# The management API's signers and signed client (tests/management/conftest.py).
signer_keys = management_fixtures.signer_keys
management_file = management_fixtures.management_file
sign = management_fixtures.sign
mgmt = management_fixtures.mgmt


@pytest.fixture
def api():
    """One browser-like client (not the authz suite's three paths: the doors are the point)."""
    return device()


@pytest.fixture
def member(make_user):
    return make_user(labels={"phone": "verified"})


@pytest.fixture
def signed_in(member):
    """The member's browser (logged in through the API) and the gateway's JWT for it."""
    browser = device()
    log_in(browser, member)
    token = gateway_token(browser)
    assert bearer_get(token).status_code == HTTPStatus.OK
    return browser, token


def _refused_while_banned(browser, token, member, state: str = "banned") -> None:
    member.refresh_from_db()
    assert member.state == state
    assert browser.get(GATEWAY_ME).status_code == HTTPStatus.UNAUTHORIZED
    assert bearer_get(token).status_code == HTTPStatus.UNAUTHORIZED


def _refused_after_reactivation(browser, token, member) -> None:
    """Active again, and still nothing of the old session works; a new login does."""
    member.refresh_from_db()
    assert member.state == "active"
    old = browser.get(GATEWAY_ME)
    assert old.status_code == HTTPStatus.UNAUTHORIZED
    assert old.json() == {"errors": ["authz.invalid_session"]}
    assert bearer_get(token).json() == ENDED
    fresh = device()
    log_in(fresh, member)
    assert fresh.get(GATEWAY_ME).status_code == HTTPStatus.OK


@pytest.mark.parametrize("state", ["banned", "locked"])
def test_admin_api_state_change(signed_in, member, auth_api, superadmin, state):
    browser, token = signed_in
    operator = auth_api(superadmin)

    response = operator.put(f"{ADMIN}/users", {"uid": member.uid, "state": state})
    assert response.status_code == HTTPStatus.OK, response.content
    _refused_while_banned(browser, token, member, state)

    response = operator.put(f"{ADMIN}/users", {"uid": member.uid, "state": "active"})
    assert response.status_code == HTTPStatus.OK, response.content
    _refused_after_reactivation(browser, token, member)


def test_admin_api_ban_label(signed_in, member, auth_api, superadmin):
    browser, token = signed_in
    operator = auth_api(superadmin)
    labels = f"{ADMIN}/users/labels"

    body = {"uid": member.uid, "key": "ban", "value": "spam", "scope": "private"}
    assert operator.post(labels, body).status_code == HTTPStatus.OK
    _refused_while_banned(browser, token, member)

    removed = operator.delete(f"{labels}?uid={member.uid}&key=ban&scope=private")
    assert removed.status_code == HTTPStatus.OK
    _refused_after_reactivation(browser, token, member)


def test_back_office_ban_action(signed_in, member, superadmin):
    browser, token = signed_in
    office = Client(HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR="203.0.113.20")
    office.force_login(superadmin)

    def act(action: str) -> None:
        body = {"action": action, "_selected_action": [member.pk], "index": 0}
        response = office.post("/admin/accounts/user/", body, follow=True)
        assert response.status_code == HTTPStatus.OK

    act("ban_users")
    _refused_while_banned(browser, token, member)
    act("unban_users")
    _refused_after_reactivation(browser, token, member)


def test_management_api_ban_label(signed_in, member, mgmt):
    browser, token = signed_in

    created = mgmt("labels", {"user_uid": member.uid, "key": "ban", "value": "aml"})
    assert created.status_code == HTTPStatus.CREATED, created.content
    _refused_while_banned(browser, token, member)

    deleted = mgmt("labels/delete", {"user_uid": member.uid, "key": "ban"})
    assert deleted.status_code == HTTPStatus.NO_CONTENT
    _refused_after_reactivation(browser, token, member)


def test_a_level_resync_bans_in_bulk_and_unbans(
    signed_in, member, superadmin, auth_api, settings, django_capture_on_commit_callbacks
):
    """An operator adds a state trigger (a config change): the resync that a level save
    starts bans the users already carrying such a label, through its bulk path. Taking
    the trigger back lifts nothing (a resync never lifts a ban); an operator does."""
    browser, token = signed_in
    label_set(user=member, key="chargeback", value="2024-05", scope="private")
    triggers = settings.BARONG_STATE_TRIGGERS
    office = Client(HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR="203.0.113.20")
    office.force_login(superadmin)

    def level_saved() -> None:
        body = {"id": "1", "key": "email", "value": "verified", "description": "E-mail"}
        with django_capture_on_commit_callbacks(execute=True):
            response = office.post("/admin/accounts/level/1/change/", body)
        assert response.status_code == HTTPStatus.FOUND, response.content

    settings.BARONG_STATE_TRIGGERS = {**triggers, "banned": [*triggers["banned"], "chargeback"]}
    level_saved()
    _refused_while_banned(browser, token, member)

    settings.BARONG_STATE_TRIGGERS = triggers
    level_saved()
    _refused_while_banned(browser, token, member)

    response = auth_api(superadmin).put(f"{ADMIN}/users", {"uid": member.uid, "state": "active"})
    assert response.status_code == HTTPStatus.OK, response.content
    _refused_after_reactivation(browser, token, member)


def test_api_keys_of_a_banned_user_stay_refused(member, auth_api, superadmin):
    """As before: a ban switches the keys off, and lifting it does not switch them on."""
    User.objects.filter(pk=member.pk).update(otp=True)
    key, secret = api_key_create(user=member)
    gateway = device()
    assert gateway.get(GATEWAY_ME, **signed_headers(key.kid, secret)).status_code == 200
    operator = auth_api(superadmin)

    operator.put(f"{ADMIN}/users", {"uid": member.uid, "state": "banned"})
    assert gateway.get(GATEWAY_ME, **signed_headers(key.kid, secret)).status_code == 401
    operator.put(f"{ADMIN}/users", {"uid": member.uid, "state": "active"})

    refused = gateway.get(GATEWAY_ME, **signed_headers(key.kid, secret))
    assert refused.status_code == HTTPStatus.UNAUTHORIZED
    assert json.loads(refused.content) == {"errors": ["authz.apikey_not_active"]}
    assert APIKey.objects.get(pk=key.pk).state == "inactive"


def test_a_session_used_after_its_index_expired_is_still_ended(
    member, auth_api, superadmin, monkeypatch
):
    """The index of a user's sessions lived a day from the last login, while a session in
    use lives on: each slide of the session now keeps it listed, so a ban still finds it."""
    monkeypatch.setattr(accounts.sessions, "INDEX_TTL", 1)  # a day, shortened
    browser = device()
    log_in(browser, member)
    time.sleep(1.1)  # the index the login wrote is gone
    assert browser.get(GATEWAY_ME).status_code == HTTPStatus.OK  # used: the expiry slides
    operator = auth_api(superadmin)

    operator.put(f"{ADMIN}/users", {"uid": member.uid, "state": "banned"})
    operator.put(f"{ADMIN}/users", {"uid": member.uid, "state": "active"})

    assert browser.get(GATEWAY_ME).json() == {"errors": ["authz.invalid_session"]}
