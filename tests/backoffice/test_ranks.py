"""The back-office refuses what the admin API refuses: operators act only below their rank.

Each door on a user (change form, labels, every bulk action, the session and passkey
buttons, the KYC queues, data storage) is tried by a ``compliance`` operator on an
``admin`` operator: a message, and nothing changed.
"""

import json
from http import HTTPStatus

import pytest
from django.contrib import admin as django_admin
from rest_framework.test import APIClient

from accounts.models import Label, User, WebAuthnCredential
from accounts.services import label_set, user_otp_set
from accounts.sessions import user_sessions_list
from activities.models import Activity
from kyc.models import DataStorage, Profile
from tests.backoffice.conftest import document_add
from tests.backoffice.test_users import _change, _empty_inlines
from tests.conftest import BROWSER_UA
from tests.resource_account.helpers import login
from tests.snapshots import user_everything

pytestmark = pytest.mark.django_db

REFUSED = "admin.user.insufficient_rank"
USERS = "/admin/accounts/user/"


def _action(client, url: str, action: str, *pks: int, **extra):
    data = {"action": action, "_selected_action": list(pks), "index": 0, **extra}
    return client.post(url, data, follow=True)


@pytest.fixture
def target(make_user):
    """An ``admin`` operator with a session, 2FA, a passkey, labels, a profile, documents
    waiting and data storage: something for every action to change."""
    user = make_user(role="admin")
    login(APIClient(HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR="203.0.113.10"), user)
    user_otp_set(user=user, enabled=True)
    WebAuthnCredential.objects.create(
        user=user, credential_id="Q3JlZGVudGlhbC0wMDAx", public_key=b"\x01key", name="key"
    )
    label_set(user=user, key="team", value="ops")
    Profile.objects.create(user=user, first_name="Ada", last_name="L", state="submitted")
    document_add(user)
    DataStorage.objects.create(user=user, title="personal", data="{}")
    user.refresh_from_db()
    return user


def _denied(user: User) -> list[tuple[str, str, str]]:
    """(topic, action, error key) of the refused attempts on ``user`` in the audit log."""
    rows = Activity.objects.filter(category="admin", target_uid=user.uid, result="denied")
    return [(r.topic, r.action, json.loads(r.data)["error"]) for r in rows.order_by("id")]


@pytest.fixture
def compliance(operator_client):
    return operator_client("compliance")[0]


def test_the_change_form(compliance, target):
    before = user_everything(target)

    response = _change(compliance, target, state="banned")

    assert response.status_code == HTTPStatus.OK
    assert REFUSED in response.content.decode()
    assert user_everything(target) == before
    assert _denied(target) == [("users", "update", REFUSED)]


def test_the_labels_on_the_user_page(compliance, target):
    before = user_everything(target)
    rows = {"labels-TOTAL_FORMS": "1", "labels-INITIAL_FORMS": "0", "labels-0-user": target.pk}
    rows.update({"labels-0-key": "ban", "labels-0-value": "by_admin", "labels-0-scope": "private"})
    data = {"state": target.state, "role": target.role, **_empty_inlines(), **rows}
    response = compliance.post(f"{USERS}{target.pk}/change/", data, follow=True)

    assert REFUSED in response.content.decode()
    assert user_everything(target) == before


USER_ACTIONS = [
    "ban_users",
    "unban_users",
    "release_manual_state",
    "disable_2fa",
    "end_sessions",
    "remove_passkeys",
]


def test_every_bulk_action_of_the_user_list_is_tried_here():
    actions = django_admin.site._registry[User].actions
    assert sorted(actions) == sorted(USER_ACTIONS)


@pytest.mark.parametrize("action", USER_ACTIONS)
def test_every_bulk_action_refuses_the_admin_and_serves_the_member(
    compliance, target, make_user, action
):
    member = make_user()
    login(APIClient(HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR="203.0.113.11"), member)
    user_otp_set(user=member, enabled=True)
    WebAuthnCredential.objects.create(
        user=member, credential_id="Q3JlZGVudGlhbC0wMDAy", public_key=b"\x01key", name="key"
    )
    if action == "unban_users":
        for user in (member, target):
            label_set(user=user, key="ban", value="by_admin", scope="private")
    if action == "release_manual_state":
        User.objects.filter(pk__in=[member.pk, target.pk]).update(state_manual=True)
    before = user_everything(target)
    member_before = user_everything(member)

    response = _action(compliance, USERS, action, member.pk, target.pk)

    text = response.content.decode()
    assert f"{target.email}: not changed ({REFUSED})" in text.lower()
    assert user_everything(target) == before
    assert user_everything(member) != member_before
    assert [error for _, _, error in _denied(target)] == [REFUSED]
    assert _denied(member) == []


def test_the_session_and_passkey_buttons(compliance, target):
    session_id = user_sessions_list(target.uid)[0]["id"]
    before = user_everything(target)

    ended = compliance.post(f"{USERS}{target.pk}/sessions/{session_id}/end/", follow=True)
    removed = compliance.post(
        f"{USERS}{target.pk}/passkeys/Q3JlZGVudGlhbC0wMDAx/remove/", follow=True
    )

    assert REFUSED in ended.content.decode()
    assert REFUSED in removed.content.decode()
    assert user_everything(target) == before
    assert _denied(target) == [("sessions", "delete", REFUSED), ("users", "delete", REFUSED)]


def test_the_label_pages(compliance, target):
    label = Label.objects.get(user=target, key="team")
    before = user_everything(target)

    added = compliance.post(
        "/admin/accounts/label/add/",
        {"user": target.pk, "key": "ban", "value": "by_admin", "scope": "private"},
        follow=True,
    )
    changed = compliance.post(
        f"/admin/accounts/label/{label.pk}/change/",
        {"value": "lead", "description": ""},
        follow=True,
    )
    deleted = compliance.post(
        f"/admin/accounts/label/{label.pk}/delete/", {"post": "yes"}, follow=True
    )
    bulk = _action(compliance, "/admin/accounts/label/", "delete_selected", label.pk, post="yes")

    for response in (added, changed, deleted, bulk):
        assert REFUSED in response.content.decode()
    assert user_everything(target) == before


def test_the_document_queue(compliance, target):
    before = user_everything(target)

    response = compliance.post(
        f"/admin/kyc/document/review/{target.uid}/decide/", {"decision": "verified"}, follow=True
    )

    assert REFUSED in response.content.decode()
    assert user_everything(target) == before


@pytest.mark.parametrize("action", ["verify_profiles", "reject_profiles"])
def test_the_profile_decisions(compliance, target, action):
    profile = Profile.objects.get(user=target)
    before = user_everything(target)

    response = _action(compliance, "/admin/kyc/profile/", action, profile.pk)

    assert "admin.profiles.insufficient_rank" in response.content.decode()
    assert user_everything(target) == before


def test_the_data_storage_deletes(compliance, target):
    storage = DataStorage.objects.get(user=target)
    before = user_everything(target)

    one = compliance.post(
        f"/admin/kyc/datastorage/{storage.pk}/delete/", {"post": "yes"}, follow=True
    )
    bulk = _action(compliance, "/admin/kyc/datastorage/", "delete_selected", storage.pk, post="yes")

    assert REFUSED in one.content.decode()
    assert REFUSED in bulk.content.decode()
    assert user_everything(target) == before


def test_every_bulk_action_elsewhere_is_tried_here(rf, superadmin):
    """Actions that reach users' rows beyond the user list: each has a test above."""
    tried = {
        "accounts.label": {"delete_selected"},
        "kyc.profile": {"verify_profiles", "reject_profiles"},
        "kyc.datastorage": {"delete_selected"},
    }
    found = {}
    for model, model_admin in django_admin.site._registry.items():
        if model is User or model._meta.app_label not in ("accounts", "kyc", "apikeys"):
            continue
        request = rf.get("/admin/")
        request.user = superadmin
        names = set(model_admin.get_actions(request))
        if names:
            found[model._meta.label_lower] = names
    assert found == tried


def test_an_admin_acts_on_compliance_and_a_superadmin_on_an_admin(operator_client, make_user):
    admin_client, _ = operator_client("admin")
    superadmin_client, _ = operator_client("superadmin")
    compliance = make_user(role="compliance")
    admin = make_user(role="admin")

    _action(admin_client, USERS, "ban_users", compliance.pk)
    _action(superadmin_client, USERS, "ban_users", admin.pk)

    assert User.objects.get(pk=compliance.pk).state == "banned"
    assert User.objects.get(pk=admin.pk).state == "banned"


def test_no_operator_labels_their_own_account_here(operator_client):
    client, operator = operator_client("admin")

    response = client.post(
        "/admin/accounts/label/add/",
        {"user": operator.pk, "key": "team", "value": "ops", "scope": "public"},
        follow=True,
    )

    assert "admin.user.update_himself" in response.content.decode()
    assert not Label.objects.filter(user=operator, key="team").exists()


def test_refused_attempts_are_in_the_back_office_audit_log(operator_client, compliance, target):
    """Written after the back-office's own transaction (the change form's, a bulk action's)
    rolled back, and listed for the roles that read the audit log."""
    _change(compliance, target, state="banned")
    _action(compliance, USERS, "ban_users", target.pk)
    superadmin, _ = operator_client("superadmin")

    response = superadmin.get("/admin/activities/activity/", {"result": "denied"})

    rows = list(response.context["cl"].result_list)
    assert [(r.target_uid, r.topic, r.action, r.result) for r in rows] == [
        (target.uid, "users", "update", "denied")
    ] * 2
    assert {r.user.role for r in rows} == {"compliance"}
    assert {r.user_ip for r in rows} == {"203.0.113.20"}
