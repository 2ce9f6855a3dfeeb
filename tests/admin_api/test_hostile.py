"""Every parameter of every admin operation, fed hostile values: a clear 4xx, never a 500,
and a refused write leaves the database as it was."""

import json

import pytest
from django.db import transaction

from accounts.models import Label, User
from accounts.services import label_set, user_otp_set
from kyc.models import DataStorage, Profile
from tests.admin_api.conftest import ADMIN, full_kyc
from tests.conftest import rows_once
from tests.factories import make_admin_user, make_user_with
from tests.seed_operations import USER_SEARCH

pytestmark = pytest.mark.django_db

HOSTILE = [
    "x" * 10_240,
    "ユーザー名💥",
    "\u202egnp.exe",
    "",
    " ",
    {"$ne": None},
    ["a", "b"],
    12345678901234567890123,
    True,
    None,
    "'; DROP TABLE users; --",
]
WRITES = [
    ("put", "/users", {"uid": None, "state": "banned"}),
    ("post", "/users/update", {"uid": None, "state": "banned"}),
    ("put", "/users", {"uid": None, "otp": False}),
    ("post", "/users/role", {"uid": None, "role": "support"}),
    ("delete", "/users/data_storage", {"uid": None, "title": "personal"}),
    (
        "post",
        "/users/labels",
        {"uid": None, "key": "new_one", "value": "gold", "description": "d", "scope": "public"},
    ),
    (
        "post",
        "/users/labels/update",
        {
            "uid": None,
            "key": "tier",
            "value": "silver",
            "scope": "public",
            "description": "d",
            "replace": True,
        },
    ),
    (
        "put",
        "/users/labels",
        {"uid": None, "key": "tier", "value": "silver", "scope": "public", "description": "d"},
    ),
    ("delete", "/users/labels", {"uid": None, "key": "tier", "scope": "public"}),
    (
        "put",
        "/profiles",
        {
            "uid": None,
            "first_name": "Ada",
            "last_name": "King",
            "dob": "1990-01-01",
            "address": "1 Main St",
            "postcode": "N1 9GU",
            "city": "London",
            "country": "GB",
            "state": "verified",
            "metadata": "{}",
        },
    ),
]
READS = [
    ("/users", list(USER_SEARCH)),
    (
        "/users/documents/pending",
        ["extended", "uid", "email", "level", "range", "from", "to", "page", "limit"],
    ),
    ("/users/labels", ["key", "value", "page", "limit"]),
    ("/users/labels/list", ["key"]),
    ("/profiles", ["page", "limit"]),
    ("/levels", ["page"]),
    (
        "/activities",
        ["topic", "action", "uid", "email", "from", "to", "target_uid", "page", "limit"],
    ),
    ("/activities/admin", ["topic", "uid", "target_uid", "range", "from", "to", "page"]),
    ("/metrics", ["created_from", "created_to"]),
]


def fingerprint() -> tuple:
    return (
        list(User.objects.order_by("id").values_list("uid", "state", "otp", "role", "level")),
        list(Label.objects.order_by("id").values_list("key", "value", "scope", "description")),
        list(Profile.objects.order_by("id").values_list("first_name", "state", "dob", "city")),
        DataStorage.objects.count(),
    )


def _operator_and_member() -> tuple[User, User]:
    member = make_user_with()
    full_kyc(member)
    label_set(user=member, key="tier", value="gold")
    return make_admin_user(), member


@pytest.fixture(scope="module")
def built(django_db_setup, django_db_blocker):
    """The superadmin and the KYC'd member, built once; each test changes them only inside
    its own savepoint."""
    yield from rows_once(django_db_blocker, _operator_and_member)


@pytest.fixture
def superadmin(built):
    return User.objects.get(pk=built[0].pk)


@pytest.fixture
def target(built):
    return User.objects.get(pk=built[1].pk)


def _cases():
    for method, path, body in WRITES:
        for name in body:
            yield pytest.param(method, path, body, name, id=f"{method}{path}-{name}")


@pytest.mark.parametrize(("method", "path", "body", "name"), list(_cases()))
def test_hostile_write_parameter(sa_api, target, method, path, body, name):
    for value in HOSTILE:
        params = {**body, "uid": target.uid, name: value}
        before = fingerprint()
        # Each attempt runs in a savepoint rolled back afterwards, so an accepted value
        # (a Unicode name is a valid name) does not change what the next one meets.
        with transaction.atomic():
            response = getattr(sa_api, method)(ADMIN + path, params, format="json")
            assert response.status_code < 500, (value, response.status_code)
            if response.status_code >= 400:
                assert response.status_code in (404, 422), (value, response.status_code)
                assert response.json()["errors"]
                assert fingerprint() == before, value
            transaction.set_rollback(True)


@pytest.mark.parametrize(("path", "names"), READS)
def test_hostile_read_parameters(sa_api, target, path, names):
    for name in names:
        for value in HOSTILE:
            response = sa_api.generic(
                "GET", ADMIN + path, json.dumps({name: value}), content_type="application/json"
            )
            assert response.status_code in (200, 422), (name, value, response.status_code)
            if response.status_code == 422:
                assert response.json()["errors"]


def test_malformed_json_body_is_a_clear_400(sa_api):
    response = sa_api.generic(
        "PUT", f"{ADMIN}/users", '{"uid": "ID1', content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json() == {"errors": ["request.malformed"]}


def test_a_json_array_body_is_refused_cleanly(sa_api):
    response = sa_api.generic(
        "POST", f"{ADMIN}/users/labels", '["uid", "key"]', content_type="application/json"
    )

    assert response.status_code == 422
    assert "admin.user.missing_uid" in response.json()["errors"]


@pytest.mark.parametrize(("method", "path", "body"), WRITES, ids=[f"{m}{p}" for m, p, _ in WRITES])
def test_the_untouched_bodies_succeed(sa_api, target, method, path, body):
    """The hostile cases above change one valid parameter at a time."""
    if body.get("otp") is False:
        user_otp_set(user=target, enabled=True)

    response = getattr(sa_api, method)(ADMIN + path, {**body, "uid": target.uid}, format="json")

    assert response.status_code == 200, response.json()
