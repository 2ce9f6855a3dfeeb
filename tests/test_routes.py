"""Every seed operation resolves under both prefixes and is documented with its parameters."""

import pytest
from django.urls import Resolver404, resolve

from tests.seed_operations import SEED_OPERATIONS

PREFIXES = ["/api/v2", "/api/v2/barong"]
PATH_VALUES = {"{uid}": "ID0123456789", "{kid}": "0123456789abcdef", "{key}": "email"}
PATH_VALUES["{topic}"] = "session"


def concrete(path: str) -> str:
    for placeholder, value in PATH_VALUES.items():
        path = path.replace(placeholder, value)
    return path


def test_the_seed_has_67_operations():
    assert len(SEED_OPERATIONS) == 67


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize(("method", "path", "params"), SEED_OPERATIONS)
def test_operation_resolves_to_a_handler(prefix, method, path, params):
    try:
        match = resolve(prefix + concrete(path))
    except Resolver404:
        pytest.fail(f"{method} {prefix}{path} does not resolve")
    actions = getattr(match.func, "actions", None)

    assert actions is not None, f"{prefix}{path} is not an API view"
    assert method.lower() in actions, f"{method} {prefix}{path} has no handler ({actions})"


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from rest_framework.test import APIClient

    with django_db_blocker.unblock():
        response = APIClient().get("/api/v2/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def _resolve_ref(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        node = schema["components"]["schemas"][name]
    return node


def documented_params(schema: dict, operation: dict) -> set[str]:
    names = {p["name"] for p in operation.get("parameters", [])}
    for media in operation.get("requestBody", {}).get("content", {}).values():
        body = _resolve_ref(schema, media.get("schema", {}))
        names |= set(body.get("properties", {}))
    return names


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize(("method", "path", "params"), SEED_OPERATIONS)
def test_operation_is_in_the_schema_with_every_seed_parameter(schema, prefix, method, path, params):
    operation = schema["paths"].get(prefix + path, {}).get(method.lower())

    assert operation is not None, f"{method} {prefix}{path} is missing from /api/v2/schema/"
    missing = set(params) - documented_params(schema, operation)
    assert not missing, f"{method} {prefix}{path} does not document {sorted(missing)}"


SEED_PATHS = sorted({path for _, path, _ in SEED_OPERATIONS})


@pytest.mark.parametrize("path", SEED_PATHS)
def test_options_is_method_not_allowed_not_a_server_error(make_admin, auth_api, path):
    """DRF's OPTIONS self-description is off: Barong answers 405 there (found by fuzzing)."""
    response = auth_api(make_admin()).options("/api/v2" + concrete(path))

    assert response.status_code == 405
    assert response.json() == {"errors": ["route.method_not_allowed"]}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v2/resource/labels/ab%00cd"),
        ("patch", "/api/v2/resource/labels/ab%00cd"),
        ("delete", "/api/v2/resource/labels/ab%00cd"),
        ("patch", "/api/v2/resource/api_keys/ab%00cd"),
        ("delete", "/api/v2/resource/api_keys/ab%00cd"),
        ("get", "/api/v2/resource/users/activity/all%00"),
        ("get", "/api/v2/admin/users/ID0123456789%00"),
    ],
)
def test_nul_in_a_path_parameter_is_not_found(make_admin, auth_api, method, path):
    """PostgreSQL refuses NUL in a query: a path parameter with one matches no row."""
    response = getattr(auth_api(make_admin()), method)(path)

    assert response.status_code == 404
    assert response.json()["errors"][0] in ("record.not_found", "route.not_found")
