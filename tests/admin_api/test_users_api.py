"""Admin API, users: search, one user's KYC file, state/2FA, role, pending documents, storage."""

import json
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Label, User
from accounts.services import label_set, user_otp_set
from activities.models import Activity
from apikeys.models import APIKey
from apikeys.services import api_key_create
from kyc.models import DataStorage
from tests.admin_api.conftest import ADMIN, full_kyc, submitted_profile
from tests.entities import USER, USER_WITH_KYC, USER_WITH_PROFILE

pytestmark = pytest.mark.django_db

UPDATE_ROUTES = [("put", f"{ADMIN}/users"), ("post", f"{ADMIN}/users/update")]
HOSTILE = ["x" * 10_240, {"a": 1}, ["a"], "ユーザー名", "\u202e"]


def errors(response) -> list[str]:
    return response.json()["errors"]


def snapshot(user: User) -> tuple:
    user.refresh_from_db()
    return (user.state, user.otp, user.role, user.level, user.updated_at)


# ---------------------------------------------------------------- GET /admin/users


def test_list_answers_users_by_id_with_pagination_headers(sa_api, superadmin, make_user):
    users = [superadmin, make_user(), make_user()]

    response = sa_api.get(f"{ADMIN}/users")

    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert [row["uid"] for row in body] == [u.uid for u in users]
    assert list(body[0]) == USER
    assert (response["Total"], response["Page"], response["Per-Page"]) == ("3", "1", "100")


def test_list_extended_adds_profiles_and_timestamps(sa_api, make_user):
    member = make_user(email="ada@example.com")
    submitted_profile(member)

    response = sa_api.get(f"{ADMIN}/users", {"extended": "true", "email": "ada@example.com"})

    assert response.status_code == HTTPStatus.OK
    (row,) = response.json()
    assert list(row) == USER_WITH_PROFILE
    assert row["profiles"][0]["first_name"] == "Ada"
    assert row["profiles"][0]["state"] == "submitted"


@pytest.mark.parametrize("value", ["maybe", "2", "{}"])
def test_list_bad_extended_is_barong_key(sa_api, value):
    response = sa_api.get(f"{ADMIN}/users", {"extended": value})

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert errors(response) == ["admin.user.non_boolean_extended"]


def test_list_filters_by_uid_email_role_state_and_level(sa_api, make_user):
    target = make_user(email="Target@Example.com", role="support")
    make_user(role="support")
    pending = make_user(verified=False)

    def uids(**params):
        response = sa_api.get(f"{ADMIN}/users", params)
        assert response.status_code == HTTPStatus.OK
        return [row["uid"] for row in response.json()]

    assert uids(uid=target.uid.lower()) == [target.uid]
    assert uids(email="TARGET@example.com") == [target.uid]
    assert uids(role="support", email="target@example.com") == [target.uid]
    assert uids(state="pending") == [pending.uid]
    assert uids(level=0) == [pending.uid]
    assert uids(uid="ID0000000000") == []


def test_list_profile_filters_match_any_profile_and_list_the_user_once(sa_api, make_user):
    member = make_user()
    submitted_profile(member, first_name="Zoë", last_name="Ångström", country="SE")
    profile = member.profiles.get()
    profile.state = "rejected"
    profile.save()
    submitted_profile(member, first_name="Zoë", last_name="Ångström", country="SE")
    make_user()

    response = sa_api.get(
        f"{ADMIN}/users", {"first_name": "zoë", "last_name": "Ångström", "country": "se"}
    )

    assert response.status_code == HTTPStatus.OK
    assert [row["uid"] for row in response.json()] == [member.uid]
    assert response["Total"] == "1"


def test_list_time_range_is_inclusive_unix_seconds(sa_api, superadmin, make_user):
    old, new = make_user(), make_user()
    moment = timezone.now().replace(microsecond=0) - timedelta(days=10)
    User.objects.filter(pk=old.pk).update(created_at=moment, updated_at=moment)
    User.objects.filter(pk=superadmin.pk).update(created_at=moment - timedelta(days=1))
    second = int(moment.timestamp())

    def uids(**params):
        response = sa_api.get(f"{ADMIN}/users", params)
        assert response.status_code == HTTPStatus.OK
        return [row["uid"] for row in response.json()]

    assert uids(**{"from": second, "to": second}) == [old.uid]
    assert uids(**{"from": second + 1}) == [new.uid]
    assert uids(**{"range": "updated", "to": second}) == [old.uid]
    assert new.uid in uids(**{"range": "updated", "from": second + 1})


def test_a_narrow_time_range_is_sorted_not_walked_along_the_ids(
    sa_api, superadmin, make_user, monkeypatch
):
    # PostgreSQL expecting few users in the range: the page is sorted after the range is
    # read (ORDER BY id + 0), not found by walking the primary key; same users, same order.
    users = [make_user() for _ in range(5)]
    moment = timezone.now().replace(microsecond=0) - timedelta(days=30)
    User.objects.filter(pk__in=[user.pk for user in users[1:]]).update(created_at=moment)
    second = int(moment.timestamp())
    monkeypatch.setattr("barong.db.counting.planner_rows", lambda queryset: 4)

    pages = []
    with CaptureQueriesContext(connection) as queries:
        for page in (1, 2, 3):
            response = sa_api.get(
                f"{ADMIN}/users", {"from": second, "to": second, "page": page, "limit": 2}
            )
            assert response.status_code == HTTPStatus.OK
            assert response["Total"] == "4"
            pages.append([row["uid"] for row in response.json()])

    assert pages == [[users[1].uid, users[2].uid], [users[3].uid, users[4].uid], []]
    ordered = [q["sql"] for q in queries.captured_queries if '"created_at" >=' in q["sql"]]
    ordered = [sql for sql in ordered if "ORDER BY" in sql]
    assert ordered
    assert all('ORDER BY ("users"."id" + ' in sql for sql in ordered)
    # Many expected (a wide range): the primary key's order, walked as before.
    monkeypatch.setattr("barong.db.counting.planner_rows", lambda queryset: 10**6)
    with CaptureQueriesContext(connection) as queries:
        response = sa_api.get(f"{ADMIN}/users", {"from": second, "to": second, "limit": 2})
    assert [row["uid"] for row in response.json()] == [users[1].uid, users[2].uid]
    ordered = [q["sql"] for q in queries.captured_queries if '"created_at" >=' in q["sql"]]
    ordered = [sql for sql in ordered if "ORDER BY" in sql]
    assert ordered
    assert all('ORDER BY "users"."id" ASC' in sql for sql in ordered)


@pytest.mark.parametrize(
    ("params", "key"),
    [
        ({"range": "deleted"}, "admin.user.invalid_range"),
        ({"range": {"a": 1}}, "admin.user.invalid_range"),
        ({"level": "abc"}, "invalid"),
        ({"level": "1.5"}, "invalid"),
        ({"level": "9" * 40}, "invalid"),
        ({"from": "yesterday"}, "invalid"),
        ({"to": "9" * 30}, "invalid"),
        ({"from": -5}, "invalid"),
        ({"email": {"a": 1}}, "admin.user.invalid_email"),
        ({"uid": ["ID1"]}, "admin.user.invalid_uid"),
        ({"first_name": "a\x00b"}, "admin.user.invalid_first_name"),
    ],
)
def test_list_bad_filters_are_422(sa_api, params, key):
    response = sa_api.generic(
        "GET", f"{ADMIN}/users", json.dumps(params), content_type="application/json"
    )

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert key in errors(response)


@pytest.mark.parametrize("value", ["x" * 10_240, "ユーザー", "' OR 1=1 --"])
def test_list_hostile_strings_just_match_nobody(sa_api, value):
    response = sa_api.get(
        f"{ADMIN}/users", {"uid": value, "email": value, "first_name": value, "state": value}
    )

    assert response.status_code == HTTPStatus.OK
    assert response.json() == []


def test_list_blank_filters_are_ignored(sa_api, superadmin, make_user):
    make_user()

    response = sa_api.get(f"{ADMIN}/users", {"email": "", "level": "", "range": "", "from": ""})

    assert response.status_code == HTTPStatus.OK
    assert len(response.json()) == 2


def test_list_pages(sa_api, make_user):
    users = [make_user() for _ in range(3)]

    response = sa_api.get(f"{ADMIN}/users", {"limit": 2, "page": 2})

    assert response.status_code == HTTPStatus.OK
    assert [row["uid"] for row in response.json()] == [users[1].uid, users[2].uid]
    assert (response["Total"], response["Page"], response["Per-Page"]) == ("4", "2", "2")


@pytest.mark.parametrize(
    ("params", "keys"),
    [
        ({"limit": 101}, ["invalid_limit"]),
        ({"page": 0}, ["non_positive_page"]),
        ({"page": "x", "limit": "y"}, ["non_integer_page", "non_integer_limit"]),
    ],
)
def test_list_bad_pagination(sa_api, params, keys):
    response = sa_api.get(f"{ADMIN}/users", params)

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert errors(response) == keys


# ---------------------------------------------------------------- GET /admin/users/{uid}


def test_get_user_answers_the_kyc_file(sa_api, make_user):
    member = make_user()
    full_kyc(member)

    response = sa_api.get(f"{ADMIN}/users/{member.uid}")

    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert list(body) == USER_WITH_KYC
    assert body["uid"] == member.uid
    assert {(lb["key"], lb["scope"]) for lb in body["labels"]} == {
        ("email", "private"),
        ("tier", "public"),
        ("document", "private"),
        ("profile", "private"),
    }
    tier = next(lb for lb in body["labels"] if lb["key"] == "tier")
    assert tier["description"] == "vip"
    assert body["phones"][0]["country"] == "GB"
    assert body["documents"][0]["doc_number"] == "AB123"
    assert body["data_storages"][0]["title"] == "personal"
    assert body["profiles"][0]["state"] == "submitted"


def test_get_user_by_lower_case_uid(sa_api, make_user):
    member = make_user()

    response = sa_api.get(f"{ADMIN}/users/{member.uid.lower()}")

    assert response.status_code == HTTPStatus.OK
    assert response.json()["uid"] == member.uid


@pytest.mark.parametrize("uid", ["ID0000000000", "nobody", "X" * 64])
def test_get_unknown_user_is_404(sa_api, uid):
    response = sa_api.get(f"{ADMIN}/users/{uid}")

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert errors(response) == ["admin.user.doesnt_exist"]


@pytest.mark.parametrize("uid", ["a" * 65, "ID%2F1", "ユーザー"])
def test_get_non_uid_path_is_route_not_found(sa_api, uid):
    response = sa_api.get(f"{ADMIN}/users/{uid}")

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert errors(response) == ["route.not_found"]


@pytest.mark.parametrize(
    ("method", "path", "key"),
    [
        ("get", "/users/labels", "admin.user.missing_key"),
        ("post", "/users/update", "admin.user.missing_uid"),
        ("post", "/users/role", "admin.user.missing_uid"),
        ("delete", "/users/data_storage", "admin.user.missing_uid"),
    ],
)
def test_literal_sub_paths_are_not_taken_for_uids(sa_api, method, path, key):
    response = getattr(sa_api, method)(f"{ADMIN}{path}")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert key in errors(response)


def test_documents_is_not_a_uid(sa_api):
    response = sa_api.get(f"{ADMIN}/users/documents")

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert errors(response) == ["route.not_found"]


# ---------------------------------------------------------------- PUT users, POST users/update


@pytest.mark.parametrize(("method", "path"), UPDATE_ROUTES)
@pytest.mark.parametrize("fmt", ["json", "multipart"])
def test_state_change_deactivates_api_keys_and_is_audited(admin_api, make_user, method, path, fmt):
    member = make_user()
    user_otp_set(user=member, enabled=True)
    key, _secret = api_key_create(user=member, algorithm="HS256", scope=[])

    response = getattr(admin_api, method)(path, {"uid": member.uid, "state": "banned"}, format=fmt)

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {}
    member.refresh_from_db()
    assert member.state == "banned"
    assert APIKey.objects.get(pk=key.pk).state == "inactive"
    row = Activity.objects.get(category="admin", target_uid=member.uid)
    assert (row.topic, row.action, row.result) == ("users", "update", "succeed")
    assert json.loads(row.data)["state"] == "banned"


@pytest.mark.parametrize(("method", "path"), UPDATE_ROUTES)
@pytest.mark.parametrize("value", ["false", "0", "off", False])
def test_operator_switches_2fa_off(admin_api, make_user, method, path, value):
    member = make_user()
    user_otp_set(user=member, enabled=True)

    response = getattr(admin_api, method)(path, {"uid": member.uid, "otp": value}, format="json")

    assert response.status_code == HTTPStatus.OK
    member.refresh_from_db()
    assert member.otp is False
    assert Activity.objects.filter(category="admin", target_uid=member.uid).count() == 1


@pytest.mark.parametrize(("method", "path"), UPDATE_ROUTES)
@pytest.mark.parametrize(
    ("setup", "params", "status", "key"),
    [
        (None, {"otp": "true"}, 422, "admin.user.enable_2fa"),
        (None, {"otp": "false"}, 422, "admin.user.otp_no_change"),
        (None, {"state": "active"}, 422, "admin.user.state_no_change"),
        (None, {"state": "frozen"}, 422, "state.inclusion"),
        (None, {"state": "x" * 10_240}, 422, "state.inclusion"),
        (None, {"state": "Banned"}, 422, "state.inclusion"),
        (None, {}, 422, "admin.user.one_of_state_otp"),
        (None, {"state": "banned", "otp": "false"}, 422, "admin.user.one_of_state_otp"),
        (None, {"state": ""}, 422, "admin.user.empty_state"),
        (None, {"otp": ""}, 422, "admin.user.empty_otp"),
        (None, {"otp": "maybe"}, 422, "invalid"),
        (None, {"otp": {"a": 1}}, 422, "invalid"),
        (None, {"state": {"a": 1}}, 422, "admin.user.invalid_state"),
        (None, {"state": ["banned"]}, 422, "admin.user.invalid_state"),
    ],
)
def test_update_refusals_change_nothing(
    admin_api, make_user, method, path, setup, params, status, key
):
    member = make_user()
    before = snapshot(member)

    response = getattr(admin_api, method)(path, {"uid": member.uid, **params}, format="json")

    assert response.status_code == status
    assert key in errors(response)
    assert snapshot(member) == before
    assert not Activity.objects.filter(category="admin", target_uid=member.uid).exists()


@pytest.mark.parametrize(("method", "path"), UPDATE_ROUTES)
@pytest.mark.parametrize(
    ("params", "status", "keys"),
    [
        ({"state": "banned"}, 422, ["admin.user.missing_uid", "admin.user.empty_uid"]),
        ({"uid": "", "state": "banned"}, 422, ["admin.user.empty_uid"]),
        ({"uid": {"a": 1}, "state": "banned"}, 422, ["admin.user.invalid_uid"]),
        ({"uid": "ID0000000000", "state": "banned"}, 404, ["admin.user.doesnt_exist"]),
        ({"uid": "x" * 10_240, "state": "banned"}, 404, ["admin.user.doesnt_exist"]),
        ({"uid": "ユーザー", "state": "banned"}, 404, ["admin.user.doesnt_exist"]),
    ],
)
def test_update_uid_errors(admin_api, method, path, params, status, keys):
    response = getattr(admin_api, method)(path, params, format="json")

    assert response.status_code == status
    assert errors(response) == keys


@pytest.mark.parametrize(("method", "path"), UPDATE_ROUTES)
def test_update_guards(make_operator, method, path):
    target, _ = make_operator("superadmin")
    admin, admin_client = make_operator("admin")

    on_superadmin = getattr(admin_client, method)(path, {"uid": target.uid, "state": "banned"})
    on_himself = getattr(admin_client, method)(path, {"uid": admin.uid, "state": "banned"})

    assert on_superadmin.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert errors(on_superadmin) == ["admin.user.superadmin_change"]
    assert on_himself.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert errors(on_himself) == ["admin.user.update_himself"]
    assert User.objects.get(pk=target.pk).state == "active"
    assert User.objects.get(pk=admin.pk).state == "active"


def test_superadmin_may_change_another_superadmin(make_operator, sa_api):
    other, _ = make_operator("superadmin")

    response = sa_api.put(f"{ADMIN}/users", {"uid": other.uid, "state": "locked"})

    assert response.status_code == HTTPStatus.OK
    assert User.objects.get(pk=other.pk).state == "locked"


def test_unknown_uid_is_checked_before_the_one_of_rule_passes(admin_api):
    response = admin_api.put(f"{ADMIN}/users", {"uid": "ID0000000000", "otp": "true"})

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert errors(response) == ["admin.user.doesnt_exist"]


# ---------------------------------------------------------------- POST /admin/users/role


@pytest.mark.parametrize("fmt", ["json", "multipart"])
def test_superadmin_changes_a_role(sa_api, make_user, fmt):
    member = make_user()

    response = sa_api.post(
        f"{ADMIN}/users/role", {"uid": member.uid, "role": "compliance"}, format=fmt
    )

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {}
    assert User.objects.get(pk=member.pk).role == "compliance"
    row = Activity.objects.get(category="admin", target_uid=member.uid)
    assert json.loads(row.data)["role"] == "compliance"
    assert json.loads(row.data)["previous_role"] == "member"


def test_superadmin_may_grant_superadmin(sa_api, make_user):
    member = make_user()

    response = sa_api.post(f"{ADMIN}/users/role", {"uid": member.uid, "role": "superadmin"})

    assert response.status_code == HTTPStatus.OK
    assert User.objects.get(pk=member.pk).role == "superadmin"


@pytest.mark.parametrize(
    ("role", "status", "keys"),
    [
        ("member", 422, ["admin.user.role_no_change"]),
        ("wizard", 422, ["role.doesnt_exist"]),
        ("Admin", 422, ["role.doesnt_exist"]),
        ("x" * 10_240, 422, ["role.doesnt_exist"]),
        ("", 422, ["admin.user.empty_role"]),
        ({"a": 1}, 422, ["admin.user.invalid_role"]),
    ],
)
def test_role_refusals(sa_api, make_user, role, status, keys):
    member = make_user()

    response = sa_api.post(f"{ADMIN}/users/role", {"uid": member.uid, "role": role}, format="json")

    assert response.status_code == status
    assert errors(response) == keys
    assert User.objects.get(pk=member.pk).role == "member"


def test_role_parameter_errors(sa_api, superadmin):
    missing = sa_api.post(f"{ADMIN}/users/role", {})
    unknown = sa_api.post(f"{ADMIN}/users/role", {"uid": "ID0000000000", "role": "admin"})
    himself = sa_api.post(f"{ADMIN}/users/role", {"uid": superadmin.uid, "role": "admin"})

    assert errors(missing) == [
        "admin.user.missing_uid",
        "admin.user.empty_uid",
        "admin.user.missing_role",
        "admin.user.empty_role",
    ]
    assert (unknown.status_code, errors(unknown)) == (404, ["admin.user.doesnt_exist"])
    assert (himself.status_code, errors(himself)) == (422, ["admin.user.update_himself"])
    assert User.objects.get(pk=superadmin.pk).role == "superadmin"


# ---------------------------------------------------------------- GET users/documents/pending


def _document(user, value: str, minutes_ago: int) -> None:
    label_set(user=user, key="document", value=value, scope="private")
    moment = timezone.now() - timedelta(minutes=minutes_ago)
    Label.objects.filter(user=user, key="document", scope="private").update(updated_at=moment)


def test_pending_documents_oldest_request_first(sa_api, make_user):
    newer, older, replaced, verified = (make_user() for _ in range(4))
    make_user()
    _document(newer, "pending", 5)
    _document(older, "pending", 50)
    _document(replaced, "replaced", 20)
    _document(verified, "verified", 90)
    label_set(user=verified, key="document", value="pending", scope="public")

    response = sa_api.get(f"{ADMIN}/users/documents/pending")

    assert response.status_code == HTTPStatus.OK
    assert [row["uid"] for row in response.json()] == [older.uid, replaced.uid, newer.uid]
    assert list(response.json()[0]) == USER
    assert response["Total"] == "3"


def test_pending_documents_pages_walk_the_queue_from_its_label_index(sa_api, make_user):
    waiting = [make_user() for _ in range(5)]
    for minutes, user in zip((40, 10, 30, 50, 20), waiting, strict=True):
        _document(user, "pending" if minutes % 20 else "replaced", minutes)
    _document(make_user(), "verified", 60)
    oldest_first = [waiting[i].uid for i in (3, 0, 2, 4, 1)]

    with CaptureQueriesContext(connection) as queries:
        pages = [
            sa_api.get(f"{ADMIN}/users/documents/pending", {"limit": 2, "page": page})
            for page in (1, 2, 3, 4)
        ]

    assert [row["uid"] for page in pages for row in page.json()] == oldest_first
    assert [page["Total"] for page in pages] == ["5"] * 4
    assert pages[3].json() == []
    # A page's user ids come from the labels alone (labels_document_waiting), not from
    # labels joined to users for every entry skipped; page 4 is past the exact total.
    walks = [q["sql"] for q in queries.captured_queries if "OFFSET" in q["sql"]]
    assert len(walks) == 2
    assert all('FROM "labels"' in sql and '"users"' not in sql for sql in walks)


def test_pending_documents_by_profile_count_the_queue_against_the_profiles(sa_api, make_user):
    # Profile filters alone narrow the queue's labels: no join to users for the Total or
    # the page's ids; the same users in the queue's order as the filter on users gave.
    waiting = [make_user() for _ in range(5)]
    countries = ("GB", "DE", "gb", "FR", "GB")
    for minutes, user, country in zip((40, 10, 30, 50, 20), waiting, countries, strict=True):
        submitted_profile(user, country=country, first_name=f"Ann{minutes % 20}")
        _document(user, "pending", minutes)
    british = make_user()
    submitted_profile(british, country="GB")  # no document waiting

    def listed(params: dict) -> tuple[list[str], str, list[str]]:
        with CaptureQueriesContext(connection) as queries:
            response = sa_api.get(f"{ADMIN}/users/documents/pending", params)
        assert response.status_code == HTTPStatus.OK
        counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"]]
        return [row["uid"] for row in response.json()], response["Total"], counts

    uids, total, counts = listed({"country": "gb"})
    assert uids == [waiting[0].uid, waiting[2].uid, waiting[4].uid]
    assert total == "3"
    assert counts
    assert all('"users"' not in sql for sql in counts)
    uids, total, _ = listed({"country": "GB", "first_name": "ann0", "limit": 1, "page": 2})
    assert (uids, total) == ([waiting[4].uid], "2")
    # Any other filter pages the users themselves, as before.
    uids, total, counts = listed({"country": "GB", "email": waiting[2].email})
    assert (uids, total) == ([waiting[2].uid], "1")
    assert all('"users"' in sql for sql in counts)


def test_pending_documents_extended_and_filtered(sa_api, make_user):
    first = make_user(email="first@example.com")
    second = make_user()
    full_kyc(first)
    full_kyc(second)

    response = sa_api.get(
        f"{ADMIN}/users/documents/pending", {"extended": "yes", "email": "FIRST@example.com"}
    )

    assert response.status_code == HTTPStatus.OK
    (row,) = response.json()
    assert list(row) == USER_WITH_KYC
    assert row["uid"] == first.uid


@pytest.mark.parametrize(
    ("params", "key"),
    [
        ({"extended": "sure"}, "admin.user.non_boolean_extended"),
        ({"range": "deleted"}, "admin.user.invalid_range"),
        ({"level": "high"}, "invalid"),
    ],
)
def test_pending_documents_bad_params(sa_api, params, key):
    response = sa_api.get(f"{ADMIN}/users/documents/pending", params)

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert errors(response) == [key]


# ---------------------------------------------------------------- DELETE users/data_storage


def test_delete_data_storage_answers_the_user_and_drops_its_label(admin_api, make_user):
    member = make_user()
    full_kyc(member)
    label_set(user=member, key="personal", value="recorded", scope="private")

    response = admin_api.delete(f"{ADMIN}/users/data_storage?uid={member.uid}&title=PERSONAL")

    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert list(body) == USER_WITH_KYC
    assert body["data_storages"] == []
    assert "personal" not in {label["key"] for label in body["labels"]}
    assert not DataStorage.objects.filter(user=member).exists()
    row = Activity.objects.get(category="admin", target_uid=member.uid)
    assert (row.action, json.loads(row.data)["data_storage"]) == ("delete", "personal")


@pytest.mark.parametrize(
    ("query", "status", "keys"),
    [
        ("title=personal", 422, ["admin.user.missing_uid", "admin.user.empty_uid"]),
        ("uid={uid}", 422, ["admin.user.missing_title", "admin.user.empty_title"]),
        ("uid={uid}&title=", 422, ["admin.user.empty_title"]),
        ("uid=ID0000000000&title=personal", 404, ["admin.user.doesnt_exist"]),
        ("uid={uid}&title=secrets", 404, ["admin.storage.doesnt_exist"]),
        ("uid={uid}&title=" + "x" * 10_240, 404, ["admin.storage.doesnt_exist"]),
        ("uid={uid}&title=%E3%83%A6", 404, ["admin.storage.doesnt_exist"]),
    ],
)
def test_delete_data_storage_errors_keep_the_row(admin_api, make_user, query, status, keys):
    member = make_user()
    full_kyc(member)

    response = admin_api.delete(f"{ADMIN}/users/data_storage?" + query.format(uid=member.uid))

    assert response.status_code == status
    assert errors(response) == keys
    assert DataStorage.objects.filter(user=member).count() == 1


def test_delete_data_storage_of_a_superadmin_needs_a_superadmin(make_operator, admin_api):
    target, _ = make_operator("superadmin")
    full_kyc(target)

    response = admin_api.delete(f"{ADMIN}/users/data_storage?uid={target.uid}&title=personal")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert errors(response) == ["admin.user.superadmin_change"]
    assert DataStorage.objects.filter(user=target).count() == 1


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_uid_never_500s(sa_api, value):
    # A superadmin may use every route, so the uid itself is what gets refused.
    if isinstance(value, str):
        expected = (HTTPStatus.NOT_FOUND, ["admin.user.doesnt_exist"])
    else:
        expected = (HTTPStatus.UNPROCESSABLE_ENTITY, ["admin.user.invalid_uid"])
    for method, path in [*UPDATE_ROUTES, ("post", f"{ADMIN}/users/role")]:
        response = getattr(sa_api, method)(
            path, {"uid": value, "state": "banned", "role": "admin"}, format="json"
        )
        assert (response.status_code, errors(response)) == expected, path
