"""The app's own role check for direct calls: a member can never use the admin API directly."""

import re
from http import HTTPStatus

import pytest
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve

from barong.api.views import route_not_found
from permissions.services import restriction_create
from tests.authz.conftest import login

pytestmark = pytest.mark.django_db

SAMPLE = "ID0000000001"
METHODS = ["get", "post", "put", "patch", "delete"]


def _sample(pattern: str) -> str:
    """A concrete path for a route regex: every named group becomes a uid-like sample."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("(?P<", i):
            depth, j = 0, i
            while j < len(pattern):
                if pattern[j] == "\\":
                    j += 2
                    continue
                depth += pattern[j] == "("
                depth -= pattern[j] == ")"
                j += 1
                if depth == 0:
                    break
            out.append(SAMPLE)
            i = j
        else:
            out.append(pattern[i])
            i += 1
    return re.sub(r"\\Z|\$|\^", "", "".join(out))


def _routes(patterns=None, prefix: str = "") -> list[str]:
    found: list[str] = []
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        piece = _sample(str(entry.pattern))
        if isinstance(entry, URLResolver):
            found += _routes(entry.url_patterns, prefix + piece)
        elif isinstance(entry, URLPattern):
            found.append(prefix + piece)
    return found


def admin_paths() -> list[str]:
    paths = []
    for route in _routes():
        if not re.match(r"api/v2/(barong/)?admin/", route):
            continue
        path = "/" + route
        try:
            match = resolve(path)
        except Resolver404:  # a sample that does not fit its own route's pattern
            continue
        if match.func is not route_not_found:
            paths.append(path)
    return sorted(set(paths))


ADMIN_PATHS = admin_paths()


def test_admin_routes_are_found_under_both_prefixes():
    assert "/api/v2/admin/permissions" in ADMIN_PATHS
    assert "/api/v2/barong/admin/restrictions" in ADMIN_PATHS


@pytest.fixture
def member_token(api, member):
    login(api, member)
    response = api.get("/api/v2/auth/api/v2/barong/resource/users/me")
    assert response.status_code == HTTPStatus.OK
    return response["Authorization"]


@pytest.mark.parametrize("path", ADMIN_PATHS)
def test_member_bearer_token_is_refused_on_every_admin_route(api, member_token, path):
    api.cookies.clear()
    for method in METHODS:
        response = getattr(api, method)(path, HTTP_AUTHORIZATION=member_token)
        assert response.status_code == HTTPStatus.FORBIDDEN, (method, path)
        assert response.json() == {"errors": ["authz.invalid_permission"]}


@pytest.mark.parametrize("path", ADMIN_PATHS)
def test_member_session_cookie_is_refused_on_every_admin_route(api, member, path):
    csrf = login(api, member)
    for method in METHODS:
        response = getattr(api, method)(path, HTTP_X_CSRF_TOKEN=csrf)
        assert response.status_code == HTTPStatus.FORBIDDEN, (method, path)
        assert response.json() == {"errors": ["authz.invalid_permission"]}


def test_admin_route_without_credentials_is_401(api, db):
    response = api.get("/api/v2/admin/permissions")

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"errors": ["jwt.decode_and_verify"]}


def test_admin_role_is_refused_the_permissions_api_in_app(api, make_admin):
    login(api, make_admin(role="admin"))

    assert api.get("/api/v2/admin/permissions").status_code == HTTPStatus.FORBIDDEN
    assert api.get("/api/v2/admin/restrictions").status_code == HTTPStatus.OK


def test_superadmin_token_from_authz_works_in_app(api, make_admin):
    login(api, make_admin())
    token = api.get("/api/v2/auth/api/v2/barong/admin/permissions")["Authorization"]
    api.cookies.clear()

    response = api.get("/api/v2/barong/admin/permissions", HTTP_AUTHORIZATION=token)

    assert response.status_code == HTTPStatus.OK


def test_restrictions_are_not_enforced_in_app_so_operators_can_lift_them(api, make_admin):
    admin = make_admin()
    row = restriction_create(admin=admin, category="maintenance", scope="all", value="all")
    csrf = login(api, admin)
    assert api.get("/api/v2/auth/api/v2/barong/admin/restrictions").status_code == 471

    response = api.delete(f"/api/v2/admin/restrictions?id={row.pk}", HTTP_X_CSRF_TOKEN=csrf)

    assert response.status_code == HTTPStatus.OK
