"""Operators act only on users ranked below them (accounts/roles.py), in every admin route."""

import json
from http import HTTPStatus

import pytest
from rest_framework.test import APIClient

from accounts.models import Label, User, WebAuthnCredential
from accounts.services import label_set, user_otp_set
from activities.models import Activity
from kyc.models import DataStorage
from permissions import engine
from permissions.models import Permission
from tests.admin_api.conftest import ADMIN, submitted_profile
from tests.conftest import BROWSER_UA
from tests.resource_account.helpers import login
from tests.snapshots import user_everything

pytestmark = pytest.mark.django_db

# The ranks the docs promise, written out here rather than read from the code under test.
RANK = {
    "member": 0,
    "support": 1,
    "technical": 1,
    "accountant": 1,
    "compliance": 1,
    "admin": 2,
    "superadmin": 3,
}
AUTHZ_ME = "/api/v2/auth/api/v2/barong/resource/users/me"


def errors(response) -> list[str]:
    return response.json()["errors"]


def may_act(actor: str, target: str) -> bool:
    return RANK[target] < RANK[actor] or actor == target == "superadmin"


def refusal(target: str, prefix: str = "admin.user") -> list[str]:
    key = "superadmin_change" if target == "superadmin" else "insufficient_rank"
    return [f"{prefix}.{key}"]


def audit_rows(user: User) -> int:
    """The changes made to ``user`` in the audit log (refused attempts aside)."""
    rows = Activity.objects.filter(category="admin", target_uid=user.uid, result="succeed")
    return rows.count()


def denied_rows(user: User) -> list[tuple[str, str, str]]:
    """(topic, action, error key) of each refused attempt on ``user``, oldest first."""
    rows = Activity.objects.filter(category="admin", target_uid=user.uid, result="denied")
    return [(r.topic, r.action, json.loads(r.data)["error"]) for r in rows.order_by("id")]


# The four roles whose seeded rules reach the state route, on one user of every role.
@pytest.mark.parametrize("actor", ["superadmin", "admin", "accountant", "compliance"])
def test_state_changes_only_below_the_operators_rank(make_operator, make_user, actor):
    _, client = make_operator(actor)
    wrong = []

    for target in RANK:
        user = make_user(role=target)
        response = client.put(f"{ADMIN}/users", {"uid": user.uid, "state": "locked"})
        user.refresh_from_db()
        if may_act(actor, target):
            expected = (200, "locked", 1, [])
        else:
            expected = (422, "active", 0, [("users", "update", *refusal(target))])
            assert errors(response) == refusal(target)
        got = (response.status_code, user.state, audit_rows(user), denied_rows(user))
        if got != expected:
            wrong.append(f"{actor} on {target}: {response.status_code} {user.state}")

    assert wrong == []


@pytest.fixture
def admin_with_everything(make_user, api):
    """An ``admin`` operator with 2FA, a live session, a passkey, labels and data storage."""
    admin = make_user(role="admin")
    label_set(user=admin, key="tier", value="gold")
    label_set(user=admin, key="document", value="pending", scope="private")
    DataStorage.objects.create(user=admin, title="personal", data='{"a": 1}')
    browser = APIClient(HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR="203.0.113.10")
    login(browser, admin)  # before 2FA and the passkey, which a password login would need
    user_otp_set(user=admin, enabled=True)
    WebAuthnCredential.objects.create(
        user=admin, credential_id="Q3JlZGVudGlhbC0wMDAx", public_key=b"\x01key", name="key"
    )
    admin.refresh_from_db()
    return admin, browser


@pytest.mark.parametrize("actor", ["compliance", "admin"])
def test_no_door_lets_an_operator_act_on_an_admin(make_operator, admin_with_everything, actor):
    """The issue's case (compliance bans an admin), and admins on each other, route by route."""
    _, client = make_operator(actor)
    admin, browser = admin_with_everything
    uid = admin.uid
    before = user_everything(admin)
    labels = f"{ADMIN}/users/labels"

    responses = {
        "ban": client.put(f"{ADMIN}/users", {"uid": uid, "state": "banned"}),
        "unlock form": client.post(f"{ADMIN}/users/update", {"uid": uid, "state": "locked"}),
        "2fa off": client.put(f"{ADMIN}/users", {"uid": uid, "otp": "false"}),
        "sessions": client.delete(f"{ADMIN}/users/{uid}/sessions"),
        "passkeys": client.delete(f"{ADMIN}/users/{uid}/passkeys"),
        "ban label": client.post(
            labels, {"uid": uid, "key": "ban", "value": "by_admin", "scope": "private"}
        ),
        "public label": client.post(labels, {"uid": uid, "key": "team", "value": "ops"}),
        "label change": client.put(
            labels, {"uid": uid, "key": "tier", "value": "lead", "scope": "public"}
        ),
        "kyc decision": client.post(
            f"{labels}/update",
            {"uid": uid, "key": "document", "value": "verified", "scope": "private"},
        ),
        "label delete": client.delete(f"{labels}?uid={uid}&key=tier&scope=public"),
        "storage": client.delete(f"{ADMIN}/users/data_storage?uid={uid}&title=personal"),
    }

    answers = {name: (r.status_code, errors(r)) for name, r in responses.items()}
    assert answers == dict.fromkeys(responses, (422, ["admin.user.insufficient_rank"]))
    assert user_everything(admin) == before
    assert browser.get(AUTHZ_ME).status_code == HTTPStatus.OK
    assert audit_rows(admin) == 0
    # Every attempt stays in the audit log as refused, although its change rolled back.
    refused = "admin.user.insufficient_rank"
    assert denied_rows(admin) == [
        ("users", "update", refused),  # ban
        ("users", "update", refused),  # unlock form
        ("users", "update", refused),  # 2fa off
        ("sessions", "delete", refused),
        ("users", "delete", refused),  # passkeys
        ("users", "create", refused),  # ban label
        ("users", "create", refused),  # public label
        ("users", "update", refused),  # label change
        ("users", "update", refused),  # kyc decision
        ("users", "delete", refused),  # label delete
        ("users", "delete", refused),  # storage
    ]


@pytest.mark.parametrize("role", ["compliance", "accountant"])
def test_peers_of_the_specialist_rank_leave_each_other_alone(make_operator, make_user, role):
    _, client = make_operator(role)
    peer = make_user(role="compliance" if role == "accountant" else "support")

    response = client.put(f"{ADMIN}/users", {"uid": peer.uid, "state": "banned"})

    assert (response.status_code, errors(response)) == (422, ["admin.user.insufficient_rank"])
    assert User.objects.get(pk=peer.pk).state == "active"


def test_an_admin_still_acts_on_the_specialist_roles_and_members(make_operator, make_user):
    _, client = make_operator("admin")
    compliance = make_user(role="compliance")
    member = make_user()

    for user in (compliance, member):
        response = client.post(
            f"{ADMIN}/users/labels",
            {"uid": user.uid, "key": "ban", "value": "x-ban", "scope": "private"},
        )
        assert response.status_code == HTTPStatus.OK
        assert User.objects.get(pk=user.pk).state == "banned"


@pytest.mark.parametrize("role", ["admin", "compliance"])
def test_no_operator_labels_their_own_account(make_operator, role):
    operator, client = make_operator(role)
    label_set(user=operator, key="team", value="ops")
    labels = f"{ADMIN}/users/labels"
    public = {"uid": operator.uid, "scope": "public"}

    responses = [
        client.post(labels, {"uid": operator.uid, "key": "vip", "value": "gold"}),
        client.put(labels, {**public, "key": "team", "value": "lead"}),
        client.post(f"{labels}/update", {**public, "key": "vip", "value": "gold"}),
        client.delete(f"{labels}?uid={operator.uid}&key=team&scope=public"),
    ]

    assert [(r.status_code, errors(r)) for r in responses] == [
        (422, ["admin.user.update_himself"])
    ] * 4
    assert list(
        Label.objects.filter(user=operator, scope="public").values_list("key", "value")
    ) == [("team", "ops")]


def test_no_operator_deletes_their_own_data_storage(make_operator):
    operator, client = make_operator("compliance")
    DataStorage.objects.create(user=operator, title="personal", data="{}")

    response = client.delete(f"{ADMIN}/users/data_storage?uid={operator.uid}&title=personal")

    assert (response.status_code, errors(response)) == (422, ["admin.user.update_himself"])
    assert DataStorage.objects.filter(user=operator).exists()


def test_an_operator_still_ends_their_own_sessions(make_operator):
    operator, client = make_operator("compliance")

    response = client.delete(f"{ADMIN}/users/{operator.uid}/sessions")

    assert response.status_code == HTTPStatus.OK


def test_profiles_of_an_equal_rank_are_not_reviewed(make_operator, make_user):
    _, client = make_operator("admin")
    other = make_user(role="admin")
    submitted_profile(other)

    response = client.put(f"{ADMIN}/profiles", {"uid": other.uid, "state": "verified"})

    assert (response.status_code, errors(response)) == (422, ["admin.profiles.insufficient_rank"])
    assert other.profiles.get().state == "submitted"


@pytest.fixture
def admin_may_give_roles(db):
    """The permission table opened to admins for POST users/role (seeds drop it)."""
    Permission.objects.filter(
        role="admin", path="api/v2/barong/admin/users/role", action="DROP"
    ).delete()
    engine.invalidate()
    assert engine.check("admin", "POST", "api/v2/barong/admin/users/role").allowed


@pytest.mark.parametrize(
    ("role", "answer"),
    [
        ("compliance", (200, None)),
        ("support", (200, None)),
        ("trader", (200, None)),
        ("admin", (422, ["admin.user.insufficient_rank"])),
        ("superadmin", (422, ["admin.user.superadmin_change"])),
    ],
)
def test_roles_given_rank_below_the_giver(
    admin_may_give_roles, make_operator, make_user, role, answer
):
    _, client = make_operator("admin")
    member = make_user()

    response = client.post(f"{ADMIN}/users/role", {"uid": member.uid, "role": role})

    got = (response.status_code, None if response.status_code == 200 else errors(response))
    assert got == answer
    assert User.objects.get(pk=member.pk).role == (role if answer[0] == 200 else "member")


def test_an_admin_cannot_re_role_another_admin(admin_may_give_roles, make_operator, make_user):
    _, client = make_operator("admin")
    other = make_user(role="admin")

    response = client.post(f"{ADMIN}/users/role", {"uid": other.uid, "role": "member"})

    assert (response.status_code, errors(response)) == (422, ["admin.user.insufficient_rank"])
    assert User.objects.get(pk=other.pk).role == "admin"


def test_a_superadmin_gives_every_role(sa_api, make_user):
    for role in ("superadmin", "admin", "compliance", "trader"):
        user = make_user()
        response = sa_api.post(f"{ADMIN}/users/role", {"uid": user.uid, "role": role})
        assert response.status_code == HTTPStatus.OK, response.content
        assert User.objects.get(pk=user.pk).role == role


def test_a_refusal_is_logged_with_both_accounts(make_operator, make_user, caplog):
    """The refused service's transaction rolls back, so the log keeps the attempt."""
    operator, client = make_operator("compliance")
    admin = make_user(role="admin")

    with caplog.at_level("WARNING", logger="accounts.services.operators"):
        client.put(f"{ADMIN}/users", {"uid": admin.uid, "state": "banned"})

    [record] = [r for r in caplog.records if r.name == "accounts.services.operators"]
    assert record.getMessage() == (
        f"operator {operator.uid} (compliance) refused on user {admin.uid} (admin): "
        "admin.user.insufficient_rank"
    )


def test_a_refused_attempt_is_in_the_audit_log_of_the_admin_api(make_operator, make_user, sa_api):
    """Written after the refused service's transaction rolled back, with the operator's
    address and the request's id, and listed by ``/admin/activities/admin``."""
    operator, client = make_operator("compliance")
    admin = make_user(role="admin")

    response = client.put(
        f"{ADMIN}/users", {"uid": admin.uid, "state": "banned"}, HTTP_X_REQUEST_ID="req-refused-1"
    )

    assert response.status_code == 422
    log = sa_api.get(f"{ADMIN}/activities/admin", {"target_uid": admin.uid})
    [row] = log.json()
    assert (row["topic"], row["action"], row["result"]) == ("users", "update", "denied")
    assert row["admin"]["uid"] == operator.uid
    assert row["target"]["uid"] == admin.uid
    assert row["user_ip"] == "203.0.113.10"
    assert json.loads(row["data"]) == {
        "error": "admin.user.insufficient_rank",
        "uid": admin.uid,
        "target_role": "admin",
    }
    stored = Activity.objects.get(category="admin", target_uid=admin.uid)
    assert stored.request_id == "req-refused-1"


def test_a_refused_role_grant_names_the_role(admin_may_give_roles, make_operator, make_user):
    _, client = make_operator("admin")
    member = make_user()

    client.post(f"{ADMIN}/users/role", {"uid": member.uid, "role": "superadmin"})

    row = Activity.objects.get(category="admin", target_uid=member.uid)
    assert row.result == "denied"
    assert json.loads(row.data) == {
        "error": "admin.user.superadmin_change",
        "uid": member.uid,
        "target_role": "member",
        "role": "superadmin",
    }
