"""With the default seeds, each role reaches exactly the admin operations its rules allow."""

from http import HTTPStatus

import pytest

from activities.models import Activity
from tests.seed_operations import SEED_OPERATIONS

pytestmark = pytest.mark.django_db

SA, A, ACC, COMP, TECH, SUP = (
    "superadmin",
    "admin",
    "accountant",
    "compliance",
    "technical",
    "support",
)
READERS = {SA, A, ACC, COMP, TECH, SUP}
# (method, path, allowed roles) as the seeded permission table allows them.
OPERATIONS = [
    ("get", "/admin/users", READERS),
    ("get", "/admin/users/{uid}", READERS),
    ("put", "/admin/users", {SA, A, ACC, COMP}),
    ("post", "/admin/users/update", {SA, A, ACC, COMP}),
    ("post", "/admin/users/role", {SA}),
    ("get", "/admin/users/documents/pending", READERS),
    ("delete", "/admin/users/data_storage", {SA, A, COMP}),
    ("get", "/admin/users/labels", READERS),
    ("get", "/admin/users/labels/list", READERS),
    ("post", "/admin/users/labels", {SA, A, COMP}),
    ("post", "/admin/users/labels/update", {SA, A, COMP}),
    ("put", "/admin/users/labels", {SA, A, COMP}),
    ("delete", "/admin/users/labels", {SA, A, COMP}),
    ("get", "/admin/profiles", {SA, A, ACC, TECH}),
    ("put", "/admin/profiles", {SA, A}),
    ("get", "/admin/activities", READERS),
    ("get", "/admin/activities/admin", {SA}),
    ("get", "/admin/metrics", READERS),
    ("get", "/admin/levels", {SA, A, ACC, TECH}),
]


def test_the_table_covers_every_seed_admin_operation():
    # The permissions and restrictions APIs have their own role tests (tests/permissions).
    seed = {
        (method.lower(), path)
        for method, path, _params in SEED_OPERATIONS
        if path.startswith("/admin/")
        and not path.startswith(("/admin/permissions", "/admin/restrictions"))
    }

    assert sorted((method, path) for method, path, _allowed in OPERATIONS) == sorted(seed)


@pytest.mark.parametrize("prefix", ["/api/v2", "/api/v2/barong"])
@pytest.mark.parametrize("role", [SA, A, ACC, COMP, TECH, SUP, "member"])
def test_role_reaches_exactly_its_operations(make_operator, make_user, prefix, role):
    _user, client = make_operator(role)
    member = make_user()
    wrong: list[str] = []

    for method, path, allowed in OPERATIONS:
        # Writes carry no parameters: an allowed call stops at validation and changes nothing.
        response = getattr(client, method)(prefix + path.format(uid=member.uid))
        denied = response.status_code == HTTPStatus.FORBIDDEN
        if denied:
            assert response.json() == {"errors": ["authz.invalid_permission"]}
        if denied == (role in allowed):
            wrong.append(f"{method.upper()} {path}: {response.status_code}")

    assert wrong == []


def test_a_denial_is_in_the_audit_log(make_operator):
    user, client = make_operator("support")

    response = client.put("/api/v2/admin/users", {"uid": user.uid, "state": "banned"})

    assert response.status_code == HTTPStatus.FORBIDDEN
    row = Activity.objects.get(category="admin", result="denied")
    assert (row.user_id, row.action, row.topic) == (user.pk, "update", "users")


@pytest.mark.parametrize(("method", "path", "allowed"), OPERATIONS)
def test_no_credentials_is_401(api, method, path, allowed):
    response = getattr(api, method)("/api/v2" + path.format(uid="ID0000000000"))

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"errors": ["jwt.decode_and_verify"]}


@pytest.mark.parametrize("header", ["Bearer not-a-jwt", "Basic abc", "Bearer "])
def test_bad_credentials_are_401(api, header):
    response = api.get("/api/v2/admin/users", HTTP_AUTHORIZATION=header)

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"errors": ["jwt.decode_and_verify"]}


def test_a_banned_operator_token_stops_working(make_operator):
    from accounts.models import User

    user, client = make_operator("superadmin")
    User.objects.filter(pk=user.pk).update(state="banned")

    response = client.get("/api/v2/admin/users")

    assert response.status_code == HTTPStatus.UNAUTHORIZED


def test_unknown_method_on_an_admin_path_is_405(sa_api):
    response = sa_api.patch("/api/v2/admin/users/labels")

    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert response.json() == {"errors": ["route.method_not_allowed"]}
