"""The account-security operations are in the schema under both prefixes and, at the gateway,
reachable by a member through the seeded permission table."""

from http import HTTPStatus

import pytest

from tests.authz.conftest import login

pytestmark = pytest.mark.django_db

PREFIXES = ["/api/v2/", "/api/v2/barong/"]
OPERATIONS = [
    ("get", "resource/sessions"),
    ("delete", "resource/sessions"),
    ("delete", "resource/sessions/{id}"),
    ("get", "resource/otp/recovery_codes"),
    ("post", "resource/otp/recovery_codes"),
    ("post", "resource/webauthn/register/options"),
    ("post", "resource/webauthn/register/verify"),
    ("get", "resource/webauthn/credentials"),
    ("delete", "resource/webauthn/credentials/{credential_id}"),
    ("post", "identity/sessions/webauthn/options"),
    ("post", "identity/sessions/webauthn/verify"),
    ("get", "resource/users/me/export"),
    ("get", "admin/users/{uid}/sessions"),
    ("delete", "admin/users/{uid}/sessions"),
    ("delete", "admin/users/{uid}/sessions/{id}"),
    ("delete", "admin/users/{uid}/passkeys"),
]


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from rest_framework.test import APIClient

    with django_db_blocker.unblock():
        response = APIClient().get("/api/v2/schema/", {"format": "json"})
    assert response.status_code == HTTPStatus.OK
    return response.json()


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_operation_is_in_the_schema(schema, prefix, method, path):
    assert method in schema["paths"].get(prefix + path, {}), f"{method} {prefix}{path}"


@pytest.mark.parametrize(
    "path",
    [
        "api/v2/barong/resource/sessions",
        "api/v2/barong/resource/otp/recovery_codes",
        "api/v2/barong/resource/webauthn/credentials",
        "api/v2/barong/resource/users/me/export",
    ],
)
def test_a_member_passes_the_gateway(api, make_user, path):
    login(api, make_user())

    assert api.get(f"/api/v2/auth/{path}").status_code == HTTPStatus.OK


def test_a_member_is_refused_the_admin_sessions_at_the_gateway(api, make_user):
    user = make_user()
    login(api, user)

    response = api.get(f"/api/v2/auth/api/v2/barong/admin/users/{user.uid}/sessions")

    assert response.status_code == HTTPStatus.FORBIDDEN
