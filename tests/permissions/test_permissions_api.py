"""/admin/permissions list, create, update, delete."""

import re
from http import HTTPStatus

import pytest

from activities.models import Activity
from barong.api.errors import ApiError
from permissions.models import Permission
from permissions.services import permission_create, permission_update
from tests.authz.conftest import login

pytestmark = pytest.mark.django_db

URL = "/api/v2/admin/permissions"
RAW_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
FORMATS = ["json", "multipart"]


def _rule(**fields) -> dict:
    return {
        "role": "member",
        "verb": "get",
        "path": "api/v2/peatio/new",
        "action": "accept",
    } | fields


def _snapshot() -> list[tuple]:
    return list(Permission.objects.order_by("id").values_list())


# ---------------------------------------------------------------- GET /admin/permissions


def test_list_returns_raw_rows_paginated(sa_cookie_api):
    response = sa_cookie_api.get(URL)

    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert len(body) == 100
    assert (response["Total"], response["Page"], response["Per-Page"]) == ("151", "1", "100")
    first = Permission.objects.order_by("id").first()
    assert list(body[0]) == [
        "id", "action", "role", "verb", "path", "topic", "step_up_max_age", "security_lock",
        "created_at", "updated_at",
    ]  # fmt: skip
    assert body[0]["id"] == first.pk
    assert (body[0]["role"], body[0]["verb"], body[0]["action"]) == (
        first.role,
        first.verb,
        first.action,
    )
    assert RAW_TIME.match(body[0]["created_at"])


def test_list_second_page(sa_cookie_api):
    response = sa_cookie_api.get(URL, {"page": 2, "limit": 100})

    assert len(response.json()) == 51
    assert response["Page"] == "2"


@pytest.mark.parametrize(
    ("params", "key"),
    [
        ({"page": "abc"}, "non_integer_page"),
        ({"page": 0}, "non_positive_page"),
        ({"limit": 101}, "invalid_limit"),
        ({"limit": "x" * 10_000}, "non_integer_limit"),
    ],
)
def test_list_bad_pagination(sa_cookie_api, params, key):
    response = sa_cookie_api.get(URL, params)

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": [key]}


@pytest.mark.parametrize("role", ["admin", "accountant", "compliance", "technical", "support"])
def test_only_superadmin_may_use_the_permissions_api(api, make_admin, role):
    api.credentials(HTTP_X_CSRF_TOKEN=login(api, make_admin(role=role)))
    before = _snapshot()

    listed = api.get(URL)
    created = api.post(URL, _rule(), format="json")

    assert listed.status_code == created.status_code == HTTPStatus.FORBIDDEN
    assert created.json() == {"errors": ["authz.invalid_permission"]}
    assert _snapshot() == before


# ---------------------------------------------------------------- POST /admin/permissions


@pytest.mark.parametrize("fmt", FORMATS)
def test_create_stores_verb_and_action_upper_case(sa_cookie_api, superadmin, fmt):
    response = sa_cookie_api.post(URL, _rule(topic="orders"), format=fmt)

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {}
    row = Permission.objects.get(path="api/v2/peatio/new")
    assert (row.role, row.verb, row.action, row.topic) == ("member", "GET", "ACCEPT", "orders")
    audit = Activity.objects.get(user=superadmin, category="admin", topic="permissions")
    assert (audit.action, audit.result) == ("create", "succeed")


def test_create_accepts_every_verb_and_action_in_any_case(sa_cookie_api):
    for verb in ("GET", "post", "Put", "delete", "PATCH", "head", "all"):
        for action in ("accept", "DROP", "Audit"):
            response = sa_cookie_api.post(URL, _rule(verb=verb, action=action), format="json")
            assert response.status_code == HTTPStatus.OK, (verb, action)


def test_leading_slash_of_the_path_is_dropped(sa_cookie_api):
    sa_cookie_api.post(URL, _rule(path="/api/v2/peatio/slash"), format="json")

    assert Permission.objects.filter(path="api/v2/peatio/slash").exists()


def test_new_rule_takes_effect_on_the_next_authz_request(
    sa_cookie_api, make_user, django_capture_on_commit_callbacks
):
    from rest_framework.test import APIClient

    from tests.conftest import BROWSER_UA

    member = APIClient(HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR="203.0.113.10")
    login(member, make_user())
    me = "/api/v2/auth/api/v2/barong/resource/users/me"
    assert member.get(me).status_code == HTTPStatus.OK

    with django_capture_on_commit_callbacks(execute=True):
        sa_cookie_api.post(URL, _rule(path="api/v2/barong/resource/users", action="drop"))

    assert member.get(me).status_code == HTTPStatus.FORBIDDEN


@pytest.mark.parametrize("fmt", FORMATS)
def test_create_without_params_lists_every_missing_and_empty_key(sa_cookie_api, fmt):
    response = sa_cookie_api.post(URL, {}, format=fmt)

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {
        "errors": [
            "admin.permission.missing_role",
            "admin.permission.empty_role",
            "admin.permission.missing_verb",
            "admin.permission.empty_verb",
            "admin.permission.missing_path",
            "admin.permission.empty_path",
            "admin.permission.missing_action",
            "admin.permission.empty_action",
        ]
    }


@pytest.mark.parametrize("field", ["role", "verb", "path", "action", "topic"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_blank_param_is_empty_key(sa_cookie_api, field, fmt):
    before = _snapshot()

    response = sa_cookie_api.post(URL, _rule(**{field: ""}), format=fmt)

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": [f"admin.permission.empty_{field}"]}
    assert _snapshot() == before


@pytest.mark.parametrize(
    ("fields", "key"),
    [
        ({"verb": "fetch"}, "admin.permissions.invalid_verb"),
        ({"verb": "get "}, "admin.permissions.invalid_verb"),
        ({"action": "allow"}, "admin.permissions.invalid_action"),
        ({"verb": "fetch", "action": "allow"}, "admin.permissions.invalid_verb"),
        ({"role": "emperor"}, "admin.permission.role_doesnt_exist"),
        ({"action": "allow", "role": "emperor"}, "admin.permissions.invalid_action"),
        ({"path": "p" * 256}, "path.too_long"),
        ({"path": "p" * 10_240}, "path.too_long"),
        ({"topic": "t" * 256}, "topic.too_long"),
        ({"role": "r" * 10_240}, "admin.permission.role_doesnt_exist"),
        ({"verb": "ü"}, "admin.permissions.invalid_verb"),
        ({"role": {"a": 1}}, "admin.permission.invalid_role"),
        ({"path": ["a", "b"]}, "admin.permission.invalid_path"),
        ({"verb": None}, "admin.permission.empty_verb"),
        ({"role": "member\x00"}, "admin.permission.invalid_role"),
        ({"path": "api/v2/\x00"}, "admin.permission.invalid_path"),
        ({"topic": "\x00"}, "admin.permission.invalid_topic"),
    ],
)
def test_create_refusals_leave_the_table_unchanged(sa_cookie_api, fields, key):
    before = _snapshot()

    response = sa_cookie_api.post(URL, _rule(**fields), format="json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": [key]}
    assert _snapshot() == before


def test_identical_rule_is_path_taken(sa_cookie_api):
    assert sa_cookie_api.post(URL, _rule(), format="json").status_code == HTTPStatus.OK
    before = _snapshot()

    response = sa_cookie_api.post(URL, _rule(verb="GET", action="ACCEPT"), format="json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["path.taken"]}
    assert _snapshot() == before


def test_unicode_path_and_topic_are_stored_as_sent(sa_cookie_api):
    response = sa_cookie_api.post(URL, _rule(path="api/v2/ユーザー", topic="тема"), format="json")

    assert response.status_code == HTTPStatus.OK
    assert Permission.objects.filter(path="api/v2/ユーザー", topic="тема").exists()


# ---------------------------------------------------------------- PUT /admin/permissions


@pytest.fixture
def rule(superadmin):
    from permissions.services import permission_create

    return permission_create(
        admin=superadmin, role="member", verb="get", path="api/v2/peatio/x", action="accept"
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_update_changes_the_given_fields(sa_cookie_api, superadmin, rule, fmt):
    response = sa_cookie_api.put(
        URL, {"id": rule.pk, "verb": "post", "action": "drop", "topic": "t"}, format=fmt
    )

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {}
    rule.refresh_from_db()
    assert (rule.role, rule.verb, rule.path, rule.action, rule.topic) == (
        "member",
        "POST",
        "api/v2/peatio/x",
        "DROP",
        "t",
    )
    audit = Activity.objects.filter(user=superadmin, topic="permissions", action="update")
    assert audit.count() == 1


def test_update_with_only_the_id_changes_nothing(sa_cookie_api, rule):
    before = _snapshot()

    response = sa_cookie_api.put(URL, {"id": rule.pk}, format="json")

    assert response.status_code == HTTPStatus.OK
    assert [row[:6] for row in _snapshot()] == [row[:6] for row in before]


@pytest.mark.parametrize(
    ("fields", "status", "key"),
    [
        ({}, 422, "admin.permission.missing_id"),
        ({"id": "abc"}, 422, "invalid"),
        ({"id": 1.5}, 422, "invalid"),
        ({"id": {"a": 1}}, 422, "invalid"),
        ({"id": "9" * 10_000}, 422, "invalid"),
        ({"id": 99_999_999}, 404, "admin.permission.doesnt_exist"),
        ({"id": "99999999999999999999"}, 404, "admin.permission.doesnt_exist"),
        ({"id": -1}, 404, "admin.permission.doesnt_exist"),
        ({"verb": "fetch"}, 422, "admin.permissions.invalid_verb"),
        ({"action": "allow"}, 422, "admin.permissions.invalid_action"),
        ({"role": "emperor"}, 422, "admin.permission.role_doesnt_exist"),
        ({"role": ""}, 422, "admin.permission.empty_role"),
        ({"path": "p" * 300}, 422, "path.too_long"),
    ],
)
def test_update_refusals(sa_cookie_api, rule, fields, status, key):
    payload = {"id": rule.pk} | fields
    if "id" not in fields and fields == {}:
        payload = {}
    before = _snapshot()

    response = sa_cookie_api.put(URL, payload, format="json")

    assert response.status_code == status
    assert response.json() == {"errors": [key]}
    assert _snapshot() == before


def test_update_into_an_existing_rule_is_path_taken(sa_cookie_api, rule):
    before = _snapshot()

    response = sa_cookie_api.put(
        URL,
        {"id": rule.pk, "role": "member", "path": "api/v2/barong/resource", "verb": "all"},
        format="json",
    )

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["path.taken"]}
    assert _snapshot() == before


# ---------------------------------------------------------------- DELETE /admin/permissions


def test_delete_removes_the_rule(sa_cookie_api, superadmin, rule):
    response = sa_cookie_api.delete(f"{URL}?id={rule.pk}")

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {}
    assert not Permission.objects.filter(pk=rule.pk).exists()
    assert Activity.objects.filter(user=superadmin, topic="permissions", action="delete").exists()


@pytest.mark.parametrize(
    ("query", "status", "key"),
    [
        ("", 422, "admin.permission.missing_id"),
        ("?id=", 422, "invalid"),
        ("?id=abc", 422, "invalid"),
        ("?id=99999999", 404, "admin.permission.doesnt_exist"),
        ("?id=%00", 422, "invalid"),
    ],
)
def test_delete_refusals(sa_cookie_api, rule, query, status, key):
    before = _snapshot()

    response = sa_cookie_api.delete(URL + query)

    assert response.status_code == status
    assert response.json() == {"errors": [key]}
    assert _snapshot() == before


def test_bearer_token_works_like_the_cookie(api, superadmin, rule):
    login(api, superadmin)
    token = api.get("/api/v2/auth/api/v2/barong/admin/permissions")["Authorization"]
    api.cookies.clear()

    response = api.delete(
        f"/api/v2/barong/admin/permissions?id={rule.pk}", HTTP_AUTHORIZATION=token
    )

    assert response.status_code == HTTPStatus.OK


def test_update_of_a_row_deleted_meanwhile_is_404_and_does_not_bring_it_back(make_admin):
    admin = make_admin()
    stale = permission_create(admin=admin, role="member", verb="get", path="x", action="accept")
    Permission.objects.filter(pk=stale.pk).delete()

    with pytest.raises(ApiError) as raised:
        permission_update(admin=admin, permission=stale, path="y")

    assert (raised.value.keys, raised.value.status_code) == (["admin.permission.doesnt_exist"], 404)
    assert not Permission.objects.filter(pk=stale.pk).exists()
