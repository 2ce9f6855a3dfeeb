"""/admin/restrictions list (filters), create, update, delete."""

import re
from datetime import timedelta
from http import HTTPStatus

import pytest

from activities.models import Activity
from barong.api.errors import ApiError
from permissions.models import Restriction
from permissions.services import restriction_create, restriction_update
from tests.authz.conftest import login

pytestmark = pytest.mark.django_db

URL = "/api/v2/admin/restrictions"
PING = "/api/v2/auth/api/v2/barong/identity/ping"
RAW_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
FORMATS = ["json", "multipart"]


@pytest.fixture
def rows(superadmin):
    made = [
        restriction_create(
            admin=superadmin, category="blacklist", scope="ip", value="198.51.100.1"
        ),
        restriction_create(
            admin=superadmin, category="whitelist", scope="ip_subnet", value="10.0.0.0/8"
        ),
        restriction_create(admin=superadmin, category="blacklist", scope="country", value="JP"),
        restriction_create(
            admin=superadmin, category="maintenance", scope="all", value="all", state="disabled"
        ),
    ]
    return made


def _snapshot() -> list[tuple]:
    return list(Restriction.objects.order_by("id").values_list())


def _new(**fields) -> dict:
    return {"category": "blacklist", "scope": "ip", "value": "198.51.100.9"} | fields


# ---------------------------------------------------------------- GET /admin/restrictions


def test_list_returns_raw_rows(sa_cookie_api, rows):
    response = sa_cookie_api.get(URL)

    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert [row["id"] for row in body] == [row.pk for row in rows]
    assert list(body[0]) == [
        "id", "category", "scope", "value", "code", "state", "created_at", "updated_at",
    ]  # fmt: skip
    assert body[0]["value"] == "198.51.100.1"
    assert body[0]["code"] is None
    assert RAW_TIME.match(body[0]["updated_at"])
    assert response["Total"] == "4"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"scope": "ip"}, [0]),
        ({"scope": "all"}, [3]),
        ({"category": "blacklist"}, [0, 2]),
        ({"category": "blacklist", "scope": "country"}, [2]),
        ({"scope": "continent"}, []),
    ],
)
def test_list_filters(sa_cookie_api, rows, params, expected):
    response = sa_cookie_api.get(URL, params)

    assert [row["id"] for row in response.json()] == [rows[i].pk for i in expected]


def test_list_time_range_is_inclusive_and_on_the_chosen_column(sa_cookie_api, rows):
    old = rows[0]
    Restriction.objects.filter(pk=old.pk).update(created_at=old.created_at - timedelta(days=10))
    old.refresh_from_db()
    stamp = int(old.created_at.timestamp())

    created = sa_cookie_api.get(URL, {"from": stamp, "to": stamp}).json()
    newer = sa_cookie_api.get(URL, {"from": stamp + 1}).json()
    updated = sa_cookie_api.get(URL, {"range": "updated", "to": stamp}).json()

    assert [row["id"] for row in created] == [old.pk]
    assert old.pk not in [row["id"] for row in newer]
    assert len(newer) == 3
    assert updated == []  # every row was updated just now


def test_list_pagination(sa_cookie_api, rows):
    response = sa_cookie_api.get(URL, {"limit": 2, "page": 2})

    assert [row["id"] for row in response.json()] == [rows[2].pk, rows[3].pk]
    assert (response["Total"], response["Page"], response["Per-Page"]) == ("4", "2", "2")


@pytest.mark.parametrize(
    ("params", "keys"),
    [
        ({"scope": "planet"}, ["admin.restriction.invalid_scope"]),
        ({"category": "greylist"}, ["admin.restriction.invalid_category"]),
        ({"range": "deleted"}, ["admin.restriction.invalid_range"]),
        (
            {"scope": "x", "category": "y", "range": "z"},
            [
                "admin.restriction.invalid_scope",
                "admin.restriction.invalid_category",
                "admin.restriction.invalid_range",
            ],
        ),
        ({"from": "yesterday"}, ["admin.restriction.invalid_from"]),
        ({"to": "x" * 10_000}, ["admin.restriction.invalid_to"]),
        ({"from": "99999999999999999"}, ["admin.restriction.invalid_from"]),
        ({"to": "-99999999999999999"}, ["admin.restriction.invalid_to"]),
        ({"limit": 0}, ["invalid_limit"]),
    ],
)
def test_list_refusals(sa_cookie_api, rows, params, keys):
    response = sa_cookie_api.get(URL, params)

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": keys}


@pytest.mark.parametrize(("role", "status"), [("accountant", 200), ("technical", 200)])
def test_read_only_roles_may_list(api, make_admin, role, status):
    api.credentials(HTTP_X_CSRF_TOKEN=login(api, make_admin(role=role)))

    assert api.get(URL).status_code == status


@pytest.mark.parametrize("role", ["compliance", "support", "member"])
def test_other_roles_may_not_list(api, make_admin, role):
    api.credentials(HTTP_X_CSRF_TOKEN=login(api, make_admin(role=role)))

    response = api.get(URL)

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json() == {"errors": ["authz.invalid_permission"]}


def test_accountant_may_not_create(api, make_admin):
    api.credentials(HTTP_X_CSRF_TOKEN=login(api, make_admin(role="accountant")))
    before = _snapshot()

    response = api.post(URL, _new(), format="json")

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert _snapshot() == before


# ---------------------------------------------------------------- POST /admin/restrictions


@pytest.mark.parametrize("fmt", FORMATS)
def test_create_stores_the_row_enabled_by_default(sa_cookie_api, superadmin, fmt):
    response = sa_cookie_api.post(URL, _new(code=433), format=fmt)

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {}
    row = Restriction.objects.get()
    assert (row.category, row.scope, row.value, row.state, row.code) == (
        "blacklist",
        "ip",
        "198.51.100.9",
        "enabled",
        433,
    )
    audit = Activity.objects.get(user=superadmin, topic="restrictions")
    assert (audit.action, audit.result) == ("create", "succeed")


@pytest.mark.parametrize(
    ("scope", "value", "stored"),
    [
        ("ip", "2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
        ("ip", " 198.51.100.9 ", "198.51.100.9"),
        ("ip_subnet", "198.51.100.7/24", "198.51.100.0/24"),
        ("ip_subnet", "2001:db8:aa::/48", "2001:db8:aa::/48"),
        ("country", "Japan", "JP"),
        ("country", "jp", "JP"),
        ("country", "USA", "US"),
        ("continent", "Europe", "EU"),
        ("continent", "sa", "SA"),
        ("all", "all", "all"),
    ],
)
def test_values_are_normalised(sa_cookie_api, scope, value, stored):
    response = sa_cookie_api.post(URL, _new(scope=scope, value=value), format="json")

    assert response.status_code == HTTPStatus.OK
    assert Restriction.objects.get().value == stored


def test_created_restriction_applies_on_the_next_authz_request(
    sa_cookie_api, api, django_capture_on_commit_callbacks
):
    assert api.get(PING, REMOTE_ADDR="198.51.100.9").status_code == HTTPStatus.OK

    with django_capture_on_commit_callbacks(execute=True):
        sa_cookie_api.post(URL, _new(), format="json")

    response = api.get(PING, REMOTE_ADDR="198.51.100.9")
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"errors": ["authz.restrict.blacklist"]}


@pytest.mark.parametrize("fmt", FORMATS)
def test_create_without_params(sa_cookie_api, fmt):
    response = sa_cookie_api.post(URL, {}, format=fmt)

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {
        "errors": [
            "admin.restriction.missing_scope",
            "admin.restriction.empty_scope",
            "admin.restriction.missing_value",
            "admin.restriction.empty_value",
        ]
    }


@pytest.mark.parametrize("fmt", FORMATS)
def test_create_without_category_is_a_blacklist_rule(sa_cookie_api, fmt):
    """Barong 2.4.0 clients send no category: their rules are deny rules."""
    fields = {"scope": "ip", "value": "198.51.100.77"}

    response = sa_cookie_api.post(URL, fields, format=fmt)

    assert response.status_code == HTTPStatus.OK
    row = Restriction.objects.get(value="198.51.100.77")
    assert row.category == "blacklist"


@pytest.mark.parametrize("category", ["whitelist", "maintenance"])
def test_create_with_category_keeps_it(sa_cookie_api, category):
    response = sa_cookie_api.post(
        URL, _new(category=category, value="198.51.100.78"), format="json"
    )

    assert response.status_code == HTTPStatus.OK
    assert Restriction.objects.get(value="198.51.100.78").category == category


@pytest.mark.parametrize(
    ("fields", "key"),
    [
        ({"scope": "planet"}, "admin.restriction.invalid_scope"),
        ({"scope": ""}, "admin.restriction.empty_scope"),
        ({"scope": ["ip"]}, "admin.restriction.invalid_scope"),
        ({"category": "greylist"}, "admin.restriction.invalid_category"),
        ({"category": {"a": 1}}, "admin.restriction.invalid_category"),
        ({"state": "paused"}, "admin.restriction.invalid_state"),
        ({"code": "abc"}, "admin.restriction.invalid_code"),
        ({"code": 1.5}, "admin.restriction.invalid_code"),
        ({"code": 1000}, "code.invalid"),
        ({"code": -401}, "code.invalid"),
        ({"value": ""}, "admin.restriction.empty_value"),
        ({"value": "999.1.1.1"}, "value.invalid"),
        ({"value": "01.2.3.4"}, "value.invalid"),
        ({"value": "1.2.3"}, "value.invalid"),
        ({"value": "1.2.3.4/24"}, "value.invalid"),
        ({"value": "2001:db8::zz"}, "value.invalid"),
        ({"value": "x" * 10_240}, "value.invalid"),
        ({"value": "١٢٣.1.1.1"}, "value.invalid"),
        ({"scope": "ip_subnet", "value": "198.51.100.7"}, "value.invalid"),
        ({"scope": "ip_subnet", "value": "198.51.100.0/33"}, "value.invalid"),
        ({"scope": "ip_subnet", "value": "2001:db8::/129"}, "value.invalid"),
        ({"scope": "country", "value": "Atlantis"}, "value.invalid"),
        ({"scope": "country", "value": "EU"}, "value.invalid"),
        ({"scope": "continent", "value": "Middle Earth"}, "value.invalid"),
        ({"scope": "continent", "value": "JP"}, "value.invalid"),
        ({"scope": "all", "value": "a" * 65}, "value.too_long"),
        ({"scope": "all", "value": "a\x00"}, "admin.restriction.invalid_value"),
        ({"scope": "ip\x00"}, "admin.restriction.invalid_scope"),
    ],
)
def test_create_refusals_leave_the_table_unchanged(sa_cookie_api, fields, key):
    before = _snapshot()

    response = sa_cookie_api.post(URL, _new(**fields), format="json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": [key]}
    assert _snapshot() == before


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"value": "198.51.100.9"}, {"value": "198.51.100.9"}),
        ({"scope": "country", "value": "JP"}, {"scope": "country", "value": "Japan"}),
        ({"scope": "ip", "value": "2001:db8::1"}, {"scope": "ip", "value": "2001:DB8::0:1"}),
    ],
)
def test_duplicate_is_value_taken(sa_cookie_api, first, second):
    assert sa_cookie_api.post(URL, _new(**first), format="json").status_code == HTTPStatus.OK
    before = _snapshot()

    response = sa_cookie_api.post(URL, _new(**second), format="json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["value.taken"]}
    assert _snapshot() == before


def test_same_value_in_another_category_is_allowed(sa_cookie_api):
    assert sa_cookie_api.post(URL, _new(), format="json").status_code == HTTPStatus.OK

    response = sa_cookie_api.post(URL, _new(category="whitelist"), format="json")

    assert response.status_code == HTTPStatus.OK


# ---------------------------------------------------------------- PUT /admin/restrictions


@pytest.mark.parametrize("fmt", FORMATS)
def test_update_changes_the_given_fields(sa_cookie_api, superadmin, rows, fmt):
    row = rows[0]

    response = sa_cookie_api.put(URL, {"id": row.pk, "state": "disabled", "code": 499}, format=fmt)

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {}
    row.refresh_from_db()
    assert (row.value, row.state, row.code) == ("198.51.100.1", "disabled", 499)
    assert Activity.objects.filter(user=superadmin, topic="restrictions", action="update").exists()


def test_update_scope_and_value_together(sa_cookie_api, rows):
    row = rows[0]

    response = sa_cookie_api.put(
        URL, {"id": row.pk, "scope": "ip_subnet", "value": "198.51.100.0/24"}, format="json"
    )

    assert response.status_code == HTTPStatus.OK
    row.refresh_from_db()
    assert (row.scope, row.value) == ("ip_subnet", "198.51.100.0/24")


@pytest.mark.parametrize(
    ("fields", "status", "key"),
    [
        ({"id": None}, 422, "invalid"),
        ({"id": "abc"}, 422, "invalid"),
        ({"id": 99_999_999}, 404, "admin.restriction.doesnt_exist"),
        ({"id": "99999999999999999999"}, 404, "admin.restriction.doesnt_exist"),
        ({"scope": "ip_subnet"}, 422, "value.invalid"),
        ({"scope": "planet"}, 422, "admin.restriction.invalid_scope"),
        ({"state": "on"}, 422, "admin.restriction.invalid_state"),
        ({"category": "x"}, 422, "admin.restriction.invalid_category"),
        ({"value": "nope"}, 422, "value.invalid"),
        ({"value": ""}, 422, "admin.restriction.empty_value"),
        ({"code": "x"}, 422, "admin.restriction.invalid_code"),
    ],
)
def test_update_refusals(sa_cookie_api, rows, fields, status, key):
    payload = {"id": rows[0].pk} | fields
    before = _snapshot()

    response = sa_cookie_api.put(URL, payload, format="json")

    assert response.status_code == status
    assert response.json() == {"errors": [key]}
    assert _snapshot() == before


def test_update_without_id(sa_cookie_api, rows):
    response = sa_cookie_api.put(URL, {"state": "disabled"}, format="json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["admin.restriction.missing_id"]}


def test_update_into_an_existing_row_is_value_taken(sa_cookie_api, superadmin, rows):
    restriction_create(admin=superadmin, category="blacklist", scope="ip", value="198.51.100.2")
    before = _snapshot()

    response = sa_cookie_api.put(URL, {"id": rows[0].pk, "value": "198.51.100.2"}, format="json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["value.taken"]}
    assert _snapshot() == before


# ---------------------------------------------------------------- DELETE /admin/restrictions


def test_delete_removes_the_row(sa_cookie_api, superadmin, rows):
    response = sa_cookie_api.delete(f"{URL}?id={rows[0].pk}")

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {}
    assert not Restriction.objects.filter(pk=rows[0].pk).exists()
    assert Activity.objects.filter(user=superadmin, topic="restrictions", action="delete").exists()


@pytest.mark.parametrize(
    ("query", "status", "key"),
    [
        ("", 422, "admin.restriction.missing_id"),
        ("?id=abc", 422, "invalid"),
        ("?id=99999999", 404, "admin.restriction.doesnt_exist"),
        ("?id=" + "9" * 30, 422, "invalid"),
    ],
)
def test_delete_refusals(sa_cookie_api, rows, query, status, key):
    before = _snapshot()

    response = sa_cookie_api.delete(URL + query)

    assert response.status_code == status
    assert response.json() == {"errors": [key]}
    assert _snapshot() == before


def test_update_of_a_row_deleted_meanwhile_is_404_and_does_not_bring_it_back(make_admin):
    admin = make_admin()
    stale = restriction_create(admin=admin, category="blacklist", scope="ip", value="192.0.2.1")
    Restriction.objects.filter(pk=stale.pk).delete()

    with pytest.raises(ApiError) as raised:
        restriction_update(admin=admin, restriction=stale, value="192.0.2.2")

    assert (raised.value.keys, raised.value.status_code) == (
        ["admin.restriction.doesnt_exist"],
        404,
    )
    assert not Restriction.objects.filter(pk=stale.pk).exists()
