"""Admin API: users by label, label statistics, and operators' label writes."""

import json
from http import HTTPStatus

import pytest

from accounts.models import Label, User
from accounts.services import label_set
from activities.models import Activity
from tests.admin_api.conftest import ADMIN
from tests.entities import USER

pytestmark = pytest.mark.django_db

LABELS = f"{ADMIN}/users/labels"
FORMATS = ["json", "multipart"]


def errors(response) -> list[str]:
    return response.json()["errors"]


def labels_of(user: User) -> list[tuple]:
    return list(
        Label.objects.filter(user=user)
        .order_by("key", "scope")
        .values_list("key", "value", "scope", "description")
    )


def audit_rows(user: User) -> int:
    return Activity.objects.filter(category="admin", target_uid=user.uid).count()


# ---------------------------------------------------------------- GET users/labels


def test_users_having_a_label_in_any_scope(sa_api, make_user):
    public, private, other = make_user(), make_user(), make_user()
    label_set(user=public, key="tier", value="gold")
    label_set(user=private, key="tier", value="gold", scope="private")
    label_set(user=other, key="tier", value="silver")

    response = sa_api.get(LABELS, {"key": "TIER", "value": " Gold "})

    assert response.status_code == HTTPStatus.OK
    assert [row["uid"] for row in response.json()] == [public.uid, private.uid]
    assert list(response.json()[0]) == USER
    assert response["Total"] == "2"


def test_users_having_a_label_needs_key_and_value(sa_api):
    missing = sa_api.get(LABELS)
    blank = sa_api.get(LABELS, {"key": "", "value": ""})

    assert missing.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert errors(missing) == ["admin.user.missing_key", "admin.user.missing_value"]
    assert (blank.status_code, blank.json()) == (200, [])


@pytest.mark.parametrize("value", ["x" * 10_240, "ラベル", "a\u0301"])
def test_users_having_a_label_hostile_values_match_nobody(sa_api, value):
    response = sa_api.get(LABELS, {"key": value, "value": value})

    assert (response.status_code, response.json()) == (200, [])


def test_users_having_a_label_json_object_is_refused(sa_api):
    response = sa_api.generic(
        "GET", LABELS, json.dumps({"key": {"a": 1}, "value": "x"}), content_type="application/json"
    )

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert errors(response) == ["admin.user.invalid_key"]


# ---------------------------------------------------------------- GET users/labels/list


def test_label_statistics_keep_barongs_key_shape(sa_api, superadmin, make_user):
    first, second = make_user(), make_user()
    label_set(user=first, key="document", value="pending", scope="private")
    label_set(user=second, key="tier", value="gold")  # public labels are not counted

    response = sa_api.get(f"{LABELS}/list")

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {
        '["email", "verified"]': 3,
        '["document", "pending"]': 1,
    }


def test_label_statistics_of_an_empty_table(sa_api):
    Label.objects.all().delete()

    response = sa_api.get(f"{LABELS}/list")

    assert (response.status_code, response.json()) == (200, {})


# ---------------------------------------------------------------- POST users/labels


@pytest.mark.parametrize("fmt", FORMATS)
def test_add_a_public_label(admin_api, make_user, fmt):
    member = make_user()

    response = admin_api.post(
        LABELS,
        {"uid": member.uid, "key": "VIP_Tier", "value": " Gold ", "description": "Big trader"},
        format=fmt,
    )

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {}
    label = Label.objects.get(user=member, scope="public")
    assert (label.key, label.value, label.description) == ("vip_tier", "gold", "Big trader")
    assert audit_rows(member) == 1


def test_a_space_inside_a_label_key_is_refused(admin_api, make_user):
    member = make_user()

    response = admin_api.post(LABELS, {"uid": member.uid, "key": "VIP Tier", "value": "gold"})

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert errors(response) == ["key.invalid"]


def test_add_a_public_label_normalises_to_a_valid_key(admin_api, make_user):
    member = make_user()

    response = admin_api.post(LABELS, {"uid": member.uid, "key": " KYC_Tier ", "value": "Gold"})

    assert response.status_code == HTTPStatus.OK
    assert ("kyc_tier", "gold", "public", None) in labels_of(member)


def test_adding_a_private_ban_label_bans_the_user(admin_api, make_user):
    member = make_user()

    response = admin_api.post(
        LABELS, {"uid": member.uid, "key": "ban", "value": "fraud", "scope": "private"}
    )

    assert response.status_code == HTTPStatus.OK
    member.refresh_from_db()
    assert member.state == "banned"
    row = Activity.objects.get(category="admin", target_uid=member.uid)
    assert (row.topic, row.action) == ("users", "create")


def test_document_verified_is_the_kyc_decision(admin_api, make_user):
    member = make_user()
    label_set(user=member, key="phone", value="verified", scope="private")
    label_set(user=member, key="document", value="pending", scope="private")

    response = admin_api.post(
        f"{LABELS}/update",
        {"uid": member.uid, "key": "document", "value": "verified", "scope": "private"},
    )

    assert response.status_code == HTTPStatus.OK
    member.refresh_from_db()
    assert member.level == 3
    row = Activity.objects.get(category="admin", target_uid=member.uid)
    assert json.loads(row.data)["kyc_decision"] == "verified"


@pytest.mark.parametrize(
    ("params", "status", "keys"),
    [
        ({"key": "email", "value": "verified", "scope": "private"}, 422, ["key.taken"]),
        ({"key": "tier", "value": "gold", "scope": "secret"}, 422, ["scope.inclusion"]),
        ({"key": "ab", "value": "gold"}, 422, ["key.too_short"]),
        ({"key": "tier", "value": "g!"}, 422, ["value.too_short", "value.invalid"]),
        ({"key": "x" * 10_240, "value": "gold"}, 422, ["key.too_long"]),
        ({"key": "ラベル", "value": "gold"}, 422, ["key.invalid"]),
        ({"key": "tier", "value": "gold", "description": "d" * 300}, 422, ["description.too_long"]),
        (
            {"key": "tier", "value": "gold", "description": ""},
            422,
            ["admin.user.empty_description"],
        ),
        ({"key": "tier", "value": "gold", "scope": ""}, 422, ["admin.user.empty_scope"]),
        ({"key": "", "value": "gold"}, 422, ["admin.user.empty_key"]),
        ({"key": {"a": 1}, "value": "gold"}, 422, ["admin.user.invalid_key"]),
        ({"key": "tier", "value": ["gold"]}, 422, ["admin.user.invalid_value"]),
        ({"value": "gold"}, 422, ["admin.user.missing_key", "admin.user.empty_key"]),
    ],
)
def test_add_label_refusals_write_nothing(admin_api, make_user, params, status, keys):
    member = make_user()
    before = labels_of(member)

    response = admin_api.post(LABELS, {"uid": member.uid, **params}, format="json")

    assert response.status_code == status
    assert errors(response) == keys
    assert labels_of(member) == before
    assert audit_rows(member) == 0


def test_add_label_uid_errors_and_superadmin_guard(make_operator, admin_api):
    target, _ = make_operator("superadmin")

    unknown = admin_api.post(LABELS, {"uid": "ID0000000000", "key": "tier", "value": "gold"})
    missing = admin_api.post(LABELS, {"key": "tier", "value": "gold"})
    guarded = admin_api.post(LABELS, {"uid": target.uid, "key": "tier", "value": "gold"})

    assert (unknown.status_code, errors(unknown)) == (404, ["admin.user.doesnt_exist"])
    assert errors(missing) == ["admin.user.missing_uid", "admin.user.empty_uid"]
    assert (guarded.status_code, errors(guarded)) == (422, ["admin.user.superadmin_change"])
    assert not Label.objects.filter(user=target, key="tier").exists()


# ---------------------------------------------------------------- POST users/labels/update


@pytest.mark.parametrize("fmt", FORMATS)
def test_upsert_creates_a_missing_label_with_its_description(admin_api, make_user, fmt):
    member = make_user()

    response = admin_api.post(
        f"{LABELS}/update",
        {"uid": member.uid, "key": "tier", "value": "gold", "scope": "public", "description": "d"},
        format=fmt,
    )

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {}
    assert ("tier", "gold", "public", "d") in labels_of(member)


def test_upsert_replaces_value_and_clears_an_unsent_description(admin_api, make_user):
    member = make_user()
    label_set(user=member, key="tier", value="gold", description="old")

    response = admin_api.post(
        f"{LABELS}/update",
        {"uid": member.uid, "key": "TIER", "value": "silver", "scope": "public"},
    )

    assert response.status_code == HTTPStatus.OK
    assert ("tier", "silver", "public", None) in labels_of(member)
    assert Label.objects.filter(user=member, key="tier").count() == 1


@pytest.mark.parametrize("replace", ["false", "0", "no", False])
def test_upsert_without_replace_needs_the_label(admin_api, make_user, replace):
    member = make_user()
    before = labels_of(member)

    response = admin_api.post(
        f"{LABELS}/update",
        {"uid": member.uid, "key": "tier", "value": "gold", "scope": "public", "replace": replace},
        format="json",
    )

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert errors(response) == ["admin.label.doesnt_exist"]
    assert labels_of(member) == before


@pytest.mark.parametrize(
    ("params", "keys"),
    [
        ({"replace": "perhaps"}, ["admin.user.non_boolean_replace"]),
        ({"replace": {"a": 1}}, ["admin.user.non_boolean_replace"]),
        ({"scope": None}, ["admin.user.empty_scope"]),
        ({"value": "g"}, ["value.too_short"]),
        ({"scope": "secret"}, ["scope.inclusion"]),
    ],
)
def test_upsert_refusals(admin_api, make_user, params, keys):
    member = make_user()
    before = labels_of(member)
    body = {"uid": member.uid, "key": "tier", "value": "gold", "scope": "public", **params}

    response = admin_api.post(f"{LABELS}/update", body, format="json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert errors(response) == keys
    assert labels_of(member) == before


def test_upsert_needs_every_required_parameter(admin_api):
    response = admin_api.post(f"{LABELS}/update", {})

    assert errors(response) == [
        "admin.user.missing_uid",
        "admin.user.empty_uid",
        "admin.user.missing_key",
        "admin.user.empty_key",
        "admin.user.missing_scope",
        "admin.user.empty_scope",
        "admin.user.missing_value",
        "admin.user.empty_value",
    ]


# ---------------------------------------------------------------- PUT users/labels


@pytest.mark.parametrize("fmt", FORMATS)
def test_update_changes_value_and_keeps_description_unless_sent(admin_api, make_user, fmt):
    member = make_user()
    label_set(user=member, key="tier", value="gold", description="keep me")

    kept = admin_api.put(
        LABELS,
        {"uid": member.uid, "key": "tier", "scope": "public", "value": "silver"},
        format=fmt,
    )
    assert kept.status_code == HTTPStatus.OK
    assert kept.json() == {}
    assert ("tier", "silver", "public", "keep me") in labels_of(member)

    changed = admin_api.put(
        LABELS,
        {
            "uid": member.uid,
            "key": "tier",
            "scope": "public",
            "value": "bronze",
            "description": "n",
        },
        format=fmt,
    )
    assert changed.status_code == HTTPStatus.OK
    assert ("tier", "bronze", "public", "n") in labels_of(member)
    assert audit_rows(member) == 2


def test_update_a_private_label_recomputes_the_level(admin_api, make_user):
    member = make_user()

    response = admin_api.put(
        LABELS, {"uid": member.uid, "key": "email", "scope": "private", "value": "unverified"}
    )

    assert response.status_code == HTTPStatus.OK
    member.refresh_from_db()
    assert (member.level, member.state) == (0, "pending")


@pytest.mark.parametrize(
    ("params", "status", "keys"),
    [
        ({"key": "tier", "scope": "private", "value": "x1x"}, 404, ["admin.label.doesnt_exist"]),
        ({"key": "nothing", "scope": "public", "value": "x1x"}, 404, ["admin.label.doesnt_exist"]),
        ({"key": "tier", "scope": "public", "value": "!!!"}, 422, ["value.invalid"]),
        ({"key": "tier", "scope": "public", "value": ""}, 422, ["admin.user.empty_value"]),
        (
            {"key": "tier", "scope": "public"},
            422,
            ["admin.user.missing_value", "admin.user.empty_value"],
        ),
        ({"key": "tier", "scope": "public", "value": "x" * 10_240}, 422, ["value.too_long"]),
    ],
)
def test_update_refusals_write_nothing(admin_api, make_user, params, status, keys):
    member = make_user()
    label_set(user=member, key="tier", value="gold")
    before = labels_of(member)

    response = admin_api.put(LABELS, {"uid": member.uid, **params}, format="json")

    assert response.status_code == status
    assert errors(response) == keys
    assert labels_of(member) == before


# ---------------------------------------------------------------- DELETE users/labels


def test_delete_a_private_label_restores_the_computed_state(admin_api, make_user):
    member = make_user(labels={"ban": "fraud"})
    assert member.state == "banned"

    response = admin_api.delete(f"{LABELS}?uid={member.uid}&key=BAN&scope=private")

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {}
    member.refresh_from_db()
    assert member.state == "active"
    row = Activity.objects.get(category="admin", target_uid=member.uid)
    assert (row.action, json.loads(row.data)["key"]) == ("delete", "ban")


@pytest.mark.parametrize(
    ("query", "status", "keys"),
    [
        ("uid={uid}&key=tier&scope=private", 404, ["admin.label.doesnt_exist"]),
        ("uid={uid}&key=tier", 422, ["admin.user.missing_scope", "admin.user.empty_scope"]),
        ("uid={uid}&key=&scope=public", 422, ["admin.user.empty_key"]),
        ("key=tier&scope=public", 422, ["admin.user.missing_uid", "admin.user.empty_uid"]),
        ("uid=ID0000000000&key=tier&scope=public", 404, ["admin.user.doesnt_exist"]),
        ("uid={uid}&key=" + "x" * 10_240 + "&scope=public", 404, ["admin.label.doesnt_exist"]),
    ],
)
def test_delete_refusals_keep_the_label(admin_api, make_user, query, status, keys):
    member = make_user()
    label_set(user=member, key="tier", value="gold")
    before = labels_of(member)

    response = admin_api.delete(f"{LABELS}?" + query.format(uid=member.uid))

    assert response.status_code == status
    assert errors(response) == keys
    assert labels_of(member) == before


def test_label_writes_on_a_superadmin_need_a_superadmin(make_operator, admin_api, sa_api):
    target, _ = make_operator("superadmin")
    label_set(user=target, key="tier", value="gold")
    base = {"uid": target.uid, "key": "tier", "scope": "public", "value": "silver"}

    responses = [
        admin_api.put(LABELS, base),
        admin_api.post(f"{LABELS}/update", base),
        admin_api.delete(f"{LABELS}?uid={target.uid}&key=tier&scope=public"),
    ]

    assert [errors(r) for r in responses] == [["admin.user.superadmin_change"]] * 3
    assert ("tier", "gold", "public", None) in labels_of(target)
    assert sa_api.put(LABELS, base).status_code == HTTPStatus.OK


@pytest.mark.parametrize(
    ("method", "path", "params"),
    [
        ("post", LABELS, {"key": "document", "value": "verified", "scope": "private"}),
        ("post", f"{LABELS}/update", {"key": "document", "value": "verified", "scope": "private"}),
        ("put", LABELS, {"key": "email", "value": "verified", "scope": "private"}),
    ],
)
def test_no_operator_sets_their_own_private_labels(make_operator, method, path, params):
    admin, client = make_operator("admin")
    before = labels_of(admin)

    response = getattr(client, method)(path, {"uid": admin.uid, **params})

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert errors(response) == ["admin.user.update_himself"]
    assert labels_of(admin) == before


def test_no_operator_deletes_their_own_private_label(make_operator):
    admin, client = make_operator("admin")
    label_set(user=admin, key="phone", value="verified", scope="private")

    response = client.delete(f"{LABELS}?uid={admin.uid}&key=phone&scope=private")

    assert (response.status_code, errors(response)) == (422, ["admin.user.update_himself"])
    assert Label.objects.filter(user=admin, key="phone").exists()
