"""Each management handler states its scope and parameters once (``management_operation``):
the view verifies the call for that scope and parses ``params`` by that declaration before
the handler runs, and the OpenAPI document describes the same declaration."""

import json
import re
from http import HTTPStatus

import pytest
import yaml
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory

from management.base import ManagementView
from management.params import Param
from management.schema import management_operation
from management.urls import ROUTES, SCOPES

pytestmark = pytest.mark.django_db

SEEN: list[dict] = []


class DeclaredView(ManagementView):
    """A view that exists only in this test: nothing but its declaration."""

    @management_operation(
        scope="tools",
        summary="Echo",
        params=(Param("n", type="integer", required=True), Param("tag", default="none")),
        output=None,
        status=201,
    )
    def post(self, request):
        SEEN.append(self.params)
        return Response(self.params, status=201)


def call(sign, data, *signers):
    body = json.dumps(sign(data, *signers))
    request = APIRequestFactory().post("/declared", body, content_type="application/json")
    return DeclaredView.as_view()(request)


def test_the_scope_comes_from_the_declaration(management_file, sign):
    assert DeclaredView.scopes == {"post": "tools"}
    management_file(
        scopes={"tools": {"mandatory_signers": ["jeff"], "permitted_signers": ["jeff"]}}
    )

    response = call(sign, {"n": 1}, "alex")

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert call(sign, {"n": 1}, "jeff").status_code == HTTPStatus.CREATED


def test_params_are_parsed_by_the_declaration_before_the_handler(management_file, sign):
    SEEN.clear()

    refused = call(sign, {"tag": "x"}, "alex")
    answered = call(sign, {"n": "7", "other": "dropped"}, "alex")

    assert refused.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert refused.data == {"error": "n is missing"}
    assert answered.status_code == HTTPStatus.CREATED
    assert SEEN == [{"n": 7, "tag": "none"}]


def test_a_method_without_a_declaration_is_not_allowed(management_file, sign):
    body = json.dumps(sign({"n": 1}, "alex"))
    request = APIRequestFactory().put("/declared", body, content_type="application/json")

    response = DeclaredView.as_view()(request)

    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from django.test import Client

    with django_db_blocker.unblock():
        response = Client().get("/api/v2/schema/")
    return yaml.safe_load(response.content)


@pytest.mark.parametrize(("path", "method"), sorted(SCOPES))
def test_the_document_describes_the_declared_parameters(schema, path, method):
    view = dict(ROUTES)[path]
    operation = view.operations[method]
    description = schema["paths"][f"/api/v2/management/{path}"][method]["description"]

    assert f"`{operation.scope}`" in description
    assert re.findall(r"^- `([^`]+)`", description, re.MULTILINE) == [
        param.name for param in operation.params
    ]
