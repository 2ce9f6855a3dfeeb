"""The OpenAPI document describes every management operation with its JWS body."""

from http import HTTPStatus

import pytest
import yaml

from management.urls import SCOPES


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from django.test import Client

    with django_db_blocker.unblock():
        response = Client().get("/api/v2/schema/")
    assert response.status_code == HTTPStatus.OK
    return yaml.safe_load(response.content)


@pytest.mark.parametrize(("path", "method"), sorted(SCOPES))
def test_every_management_operation_is_documented(schema, path, method):
    for prefix in ("/api/v2/management/", "/api/v2/barong/management/"):
        operation = schema["paths"][f"{prefix}{path}"][method]
        body = operation["requestBody"]["content"]
        assert list(body) == ["application/json"]
        assert body["application/json"]["schema"]["$ref"].endswith("/JWSRequest")
        assert f"`{SCOPES[(path, method)]}`" in operation["description"]
        assert {"401", "405"} <= set(operation["responses"])


def test_jws_body_component(schema):
    jws = schema["components"]["schemas"]["JWSRequest"]
    assert set(jws["required"]) == {"payload", "signatures"}
    signature = schema["components"]["schemas"]["JWSSignatureRequest"]
    assert set(signature["properties"]) == {"protected", "header", "signature"}
