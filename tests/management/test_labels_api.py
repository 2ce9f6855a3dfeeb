"""Management labels: filter users, list, create, update, delete (private scope)."""

import json
from http import HTTPStatus

import pytest

from accounts.models import Label
from accounts.services import label_set
from activities.models import Activity
from tests.entities import USER


@pytest.fixture
def member(make_user):
    return make_user(email="member@example.com")


def _label(user, key, scope="private"):
    return Label.objects.filter(user=user, key=key, scope=scope).first()


def test_filter_users_by_label(mgmt, make_user):
    alice = make_user(email="alice@example.com", labels={"phone": "verified"})
    make_user(email="bob@example.com")
    response = mgmt("labels/filter/users", {"key": "phone", "value": "verified"})
    assert response.status_code == HTTPStatus.OK
    assert [u["uid"] for u in response.json()] == [alice.uid]
    assert response["Total"] == "1"
    assert response["Page"] == "1"
    assert response["Per-Page"] == "100"
    assert set(response.json()[0]) == set(USER)


def test_filter_users_extended_scope_and_pagination(mgmt, make_user):
    users = [make_user(labels={"tier": "gold"}) for _ in range(3)]
    response = mgmt(
        "labels/filter/users",
        {"key": "tier", "scope": "private", "extended": "true", "limit": 2, "page": 2},
    )
    assert response.status_code == HTTPStatus.OK
    assert [u["uid"] for u in response.json()] == [users[2].uid]
    assert "profiles" in response.json()[0]
    assert response["Total"] == "3"
    public = mgmt("labels/filter/users", {"key": "tier", "scope": "public"})
    assert public.json() == []


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({}, "key is missing, key is empty"),
        ({"key": " "}, "key is empty"),
        ({"key": "a", "extended": "maybe"}, "extended Non boolean extended value"),
        ({"key": "a", "range": "deleted"}, "range Invalid range"),
        ({"key": "a", "page": "x"}, "page non_integer_page"),
        ({"key": "a", "page": 0}, "page non_positive_page"),
        ({"key": "a", "limit": 101}, "limit invalid_limit"),
        ({"key": "a", "from": 10**30}, "from does not have a valid value"),
        ({"key": "a", "from": "1e3"}, "from is invalid"),
        ({"key": "a", "to": -1}, "to does not have a valid value"),
        ({"key": {"a": 1}}, "key is invalid"),
    ],
)
def test_filter_users_parameter_errors(mgmt, db, data, error):
    response = mgmt("labels/filter/users", data)
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"error": error}


def test_list_labels_of_a_user(mgmt, member):
    label_set(user=member, key="colour", value="green", scope="public")
    response = mgmt("labels/list", {"user_uid": member.uid})
    assert response.status_code == HTTPStatus.CREATED
    assert [(lbl["key"], lbl["scope"]) for lbl in response.json()] == [
        ("email", "private"),
        ("colour", "public"),
    ]
    assert set(response.json()[0]) == {
        "key",
        "value",
        "scope",
        "description",
        "created_at",
        "updated_at",
    }


def test_list_labels_errors(mgmt, db):
    assert mgmt("labels/list", {}).json() == {"error": "user_uid is missing, user_uid is empty"}
    response = mgmt("labels/list", {"user_uid": "ID0000000000"})
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"error": "Record is not found"}


def test_create_private_label_sets_level_and_audits_signers(mgmt, member):
    response = mgmt(
        "labels",
        {"user_uid": member.uid, "key": "phone", "value": "verified", "description": "checked"},
        signers=("alex", "jeff"),
    )
    assert response.status_code == HTTPStatus.CREATED, response.content
    body = response.json()
    assert {k: body[k] for k in ("key", "value", "scope")} == {
        "key": "phone",
        "value": "verified",
        "scope": "private",
    }
    assert set(body) == {"key", "value", "scope", "created_at", "updated_at"}
    member.refresh_from_db()
    assert member.level == 2
    row = Activity.objects.get(category="admin", topic="management")
    assert row.target_uid == member.uid
    assert row.action == "label create"
    assert json.loads(row.data)["signers"] == ["alex", "jeff"]


def test_create_existing_label_is_taken(mgmt, member):
    response = mgmt("labels", {"user_uid": member.uid, "key": "email", "value": "again"})
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"error": ["Key has already been taken"]}


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (
            {},
            "user_uid is missing, user_uid is empty, key is missing, key is empty, "
            "value is missing, value is empty",
        ),
        (
            {"user_uid": "x", "key": "abc", "value": "abc", "description": ""},
            "description is empty",
        ),
    ],
)
def test_create_label_parameter_errors(mgmt, db, data, error):
    response = mgmt("labels", data)
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"error": error}


def test_create_label_model_errors(mgmt, member):
    response = mgmt("labels", {"user_uid": member.uid, "key": "a!", "value": "ok-value"})
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json()["error"][0].startswith("Key ")
    assert _label(member, "a!") is None


def test_update_label_and_replace(mgmt, member):
    label_set(user=member, key="kyc", value="pending", scope="private", description="first")
    response = mgmt("labels", {"user_uid": member.uid, "key": "kyc", "value": "done"}, method="put")
    assert response.status_code == HTTPStatus.OK
    assert response.json()["value"] == "done"
    assert _label(member, "kyc").description == "first"  # kept when not sent
    created = mgmt("labels", {"user_uid": member.uid, "key": "fresh", "value": "yes"}, method="put")
    assert created.status_code == HTTPStatus.OK
    assert _label(member, "fresh").value == "yes"


def test_update_missing_label_without_replace_is_404(mgmt, member):
    response = mgmt(
        "labels",
        {"user_uid": member.uid, "key": "phone", "value": "verified", "replace": False},
        method="put",
    )
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"error": "label doesnt exist"}
    assert _label(member, "phone") is None


def test_update_label_parameter_errors(mgmt, member):
    response = mgmt(
        "labels", {"user_uid": member.uid, "key": "phone", "replace": "x"}, method="put"
    )
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"error": "value is missing, value is empty, replace is invalid"}


def test_delete_private_label(mgmt, member):
    label_set(user=member, key="phone", value="verified", scope="private")
    response = mgmt("labels/delete", {"user_uid": member.uid, "key": "phone"})
    assert response.status_code == HTTPStatus.NO_CONTENT
    assert response.content == b""
    assert _label(member, "phone") is None
    member.refresh_from_db()
    assert member.level == 1
    again = mgmt("labels/delete", {"user_uid": member.uid, "key": "phone"})
    assert again.status_code == HTTPStatus.NOT_FOUND
    assert again.json() == {"error": "Record is not found"}


def test_delete_never_touches_public_labels(mgmt, member):
    label_set(user=member, key="colour", value="green", scope="public")
    response = mgmt("labels/delete", {"user_uid": member.uid, "key": "colour"})
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert _label(member, "colour", scope="public") is not None


def test_delete_parameter_errors(mgmt, db):
    response = mgmt("labels/delete", {"user_uid": ""})
    assert response.json() == {"error": "user_uid is empty, key is missing, key is empty"}


def test_management_writes_show_in_the_admin_audit_log(mgmt, member, make_admin, auth_api):
    mgmt("labels", {"user_uid": member.uid, "key": "kyc", "value": "done"}, signers=("alex",))
    admin = make_admin(email="root@example.com")
    response = auth_api(admin).get("/api/v2/admin/activities/admin")
    assert response.status_code == HTTPStatus.OK
    rows = [row for row in response.json() if row["topic"] == "management"]
    assert len(rows) == 1
    assert rows[0]["action"] == "label create"
    assert rows[0]["target"]["uid"] == member.uid
    assert json.loads(rows[0]["data"])["signers"] == ["alex"]
