"""Every answer under /api/v2 is JSON, failures included: 400, 404, 413 and 500."""

import io
import json
import logging
from http import HTTPStatus

import pytest
from django.core.exceptions import RequestDataTooBig
from rest_framework.test import APIClient

from barong.api.parsers import JSONParser, json_refusal
from tests.conftest import BROWSER_UA

pytestmark = pytest.mark.django_db

DEEP = "[" * 1000 + "]" * 1000
NESTED = {"email": json.loads("[" * 30 + "]" * 30), "password": "x"}


@pytest.fixture
def strict():
    """A client that, like a browser, gets Django's CSRF check unless a view is exempt."""
    return APIClient(
        enforce_csrf_checks=True,
        raise_request_exception=False,
        HTTP_USER_AGENT=BROWSER_UA,
        REMOTE_ADDR="203.0.113.10",
    )


def _deep_object(depth: int) -> str:
    return '{"email":' + '{"a":' * depth + "1" + "}" * depth + ',"password":"x"}'


BODIES = [DEEP, _deep_object(1000), _deep_object(100_000)]


@pytest.mark.parametrize("url", ["/api/v2/identity/sessions", "/api/v2/barong/identity/users"])
@pytest.mark.parametrize("body", BODIES)
def test_json_nested_too_deep_is_malformed(strict, url, body):
    response = strict.post(url, body, content_type="application/json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {"errors": ["request.malformed"]}


@pytest.mark.parametrize(
    "url", ["/api/v2/resource/labels", "/api/v2/admin/users/labels", "/api/v2/admin/restrictions"]
)
@pytest.mark.parametrize("body", BODIES)
def test_json_nested_too_deep_is_malformed_when_logged_in(auth_api, make_admin, url, body):
    client = auth_api(make_admin())

    response = client.post(url, body, content_type="application/json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {"errors": ["request.malformed"]}


def test_moderate_nesting_still_parses(strict, db):
    """Thirty levels are parsed (and then refused by the parameter rules, not the parser)."""
    response = strict.post(
        "/api/v2/identity/sessions", json.dumps(NESTED), content_type="application/json"
    )

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY


def test_brackets_inside_strings_are_not_structure(api, make_user):
    user = make_user(password="Correct-Horse-9")
    password = "[" * 500 + "}"

    response = api.post(
        "/api/v2/identity/sessions",
        json.dumps({"email": user.email, "password": password}),
        content_type="application/json",
    )

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"errors": ["identity.session.invalid_params"]}


def test_json_with_too_many_values_is_malformed(strict):
    body = json.dumps({f"k{i}": "v" for i in range(6000)})

    response = strict.post("/api/v2/identity/sessions", body, content_type="application/json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {"errors": ["request.malformed"]}


def test_deep_geetest_captcha_text_is_a_captcha_error(api, db, settings):
    settings.BARONG_CAPTCHA = "geetest"
    settings.BARONG_GEETEST_KEY = "k"

    response = api.post(
        "/api/v2/identity/sessions",
        {"email": "a@example.com", "password": "x", "captcha_response": DEEP},
        format="json",
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {"errors": ["identity.captcha.mandatory_fields"]}


@pytest.mark.parametrize("content_type", ["application/json", "application/x-www-form-urlencoded"])
def test_body_over_the_limit_is_413(strict, settings, content_type):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = '{"email":"' + "a" * 2000 + '"}' if "json" in content_type else "email=" + "a" * 2000

    response = strict.post("/api/v2/identity/sessions", body, content_type=content_type)

    assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert response.json() == {"errors": ["request.too_large"]}


def test_multipart_body_over_the_upload_allowance_is_413(strict, settings):
    """Multipart may carry the KYC files on top: the allowance is 1 KiB + 1 file of 1 MiB."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    settings.BARONG_DOC_NUM_LIMIT = 1
    settings.BARONG_UPLOAD_SIZE_MAX_RANGE = 1
    small = io.BytesIO(b"x" * 1000)
    small.name = "a.png"
    big = io.BytesIO(b"x" * (2**20 + 4096))
    big.name = "a.png"

    accepted = strict.post("/api/v2/identity/sessions", {"upload": small}, format="multipart")
    refused = strict.post("/api/v2/identity/sessions", {"upload": big}, format="multipart")

    assert accepted.status_code == HTTPStatus.UNPROCESSABLE_ENTITY  # read, then refused
    assert refused.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert refused.json() == {"errors": ["request.too_large"]}


def test_json_parser_stops_reading_at_the_limit(settings):
    """A chunked body declares no length: the parser reads at most limit + 1 bytes."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    stream = io.BytesIO(b'{"email":"' + b"a" * 10_000 + b'"}')

    with pytest.raises(RequestDataTooBig):
        JSONParser().parse(stream)

    assert stream.tell() == 1025


@pytest.mark.parametrize(
    ("body", "refusal"),
    [
        (b'{"a": [1, {"b": "[[[["}]}', None),
        (b'"\\"[[[[[["', None),
        (b'["\\\\", "]]]]"]', None),
        (b"[" * 33 + b"]" * 33, "nested too deep"),
        (b"[" * 32 + b"]" * 32, None),
        (b"[" * 40, "nested too deep"),
        (b'["x",' * 5001, "too many values"),
    ],
)
def test_json_refusal(body, refusal):
    assert json_refusal(body) == refusal


def test_too_many_form_fields_is_malformed(strict):
    body = "&".join(f"f{i}=x" for i in range(201))

    response = strict.post(
        "/api/v2/identity/sessions", body, content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {"errors": ["request.malformed"]}


def test_too_many_query_fields_is_malformed(strict):
    query = "&".join(f"f{i}=x" for i in range(201))

    response = strict.get(f"/api/v2/identity/ping?{query}")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {"errors": ["request.malformed"]}


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"])
@pytest.mark.parametrize(
    "path",
    [
        "/api/v2/identity/nowhere",
        "/api/v2/identity/sessions/",
        "/api/v2/barong/resource/users/me/",
        "/api/v2/admin/users/x/y/z",
        "/api/v2",
    ],
)
def test_unknown_paths_are_route_not_found_for_every_method(strict, method, path):
    response = strict.generic(method, path, "a=1", content_type="application/x-www-form-urlencoded")

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response["Content-Type"] == "application/json"
    if method != "HEAD":
        assert response.json() == {"errors": ["route.not_found"]}


def test_back_office_still_has_djangos_csrf(strict):
    response = strict.post("/admin/login/", {"username": "a", "password": "b"})

    assert response.status_code == HTTPStatus.FORBIDDEN


# ---------------------------------------------------------------- 500 and the request id


@pytest.fixture
def broken_jwks(monkeypatch):
    """A bug in a view: the exception's text must not reach the client."""

    def explode():
        raise RuntimeError("secret detail /etc/barong")

    monkeypatch.setattr("barong.jwt.jwks", explode)


def test_unhandled_error_is_json_500_with_request_id(strict, broken_jwks, caplog):
    with caplog.at_level(logging.ERROR, logger="barong.failures"):
        response = strict.get("/api/v2/barong/identity/jwks")

    assert response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    assert response.json() == {"errors": ["server.internal_error"]}
    assert "secret detail" not in response.content.decode()
    request_id = response["X-Request-ID"]
    assert len(request_id) == 32
    logged = [r for r in caplog.records if request_id in r.getMessage()]
    assert logged
    assert logged[0].exc_info is not None


def test_a_sane_incoming_request_id_is_kept(strict, broken_jwks, caplog):
    with caplog.at_level(logging.ERROR, logger="barong.failures"):
        response = strict.get("/api/v2/identity/jwks", HTTP_X_REQUEST_ID="gw-1234-abcd")

    assert response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    assert response["X-Request-ID"] == "gw-1234-abcd"
    assert any("gw-1234-abcd" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    "sent", ["x", "a b c d e f g h", "id\nwith-newline-in", "é" * 10, "a" * 65]
)
def test_an_odd_incoming_request_id_is_replaced(strict, sent):
    response = strict.get("/api/v2/identity/ping", HTTP_X_REQUEST_ID=sent)

    assert response.status_code == HTTPStatus.OK
    assert response["X-Request-ID"] != sent
    assert len(response["X-Request-ID"]) == 32


def test_every_answer_carries_a_request_id(strict):
    first = strict.get("/api/v2/identity/ping")
    second = strict.get("/api/v2/identity/nowhere")

    assert first["X-Request-ID"] != second["X-Request-ID"]


def test_error_in_the_authz_endpoint_is_json_500(strict, monkeypatch, db):
    def explode(*args, **kwargs):
        raise RuntimeError("secret")

    monkeypatch.setattr("permissions.engine.check", explode)
    strict.cookies.load({})

    response = strict.get(
        "/api/v2/auth/api/v2/barong/resource/users/me",
        HTTP_X_AUTH_APIKEY="x",
        HTTP_X_AUTH_NONCE="1",
        HTTP_X_AUTH_SIGNATURE="y",
    )
    monkeypatch.setattr("permissions.restrictions.evaluate", explode)
    broken = strict.get("/api/v2/auth/api/v2/barong/resource/users/me")

    assert response.status_code == HTTPStatus.UNAUTHORIZED  # refused before the bug
    assert broken.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    assert broken.json() == {"errors": ["server.internal_error"]}
    assert "X-Request-ID" in broken


def test_error_outside_any_view_is_json_500(strict, monkeypatch, make_user):
    """A failure in a middleware (here saving the session) reaches Django's handler500."""
    user = make_user(password="Correct-Horse-9")

    def explode(self, must_create=False):
        raise RuntimeError("secret")

    monkeypatch.setattr("accounts.session_store.SessionStore.save", explode)

    response = strict.post(
        "/api/v2/identity/sessions",
        {"email": user.email, "password": "Correct-Horse-9"},
        format="json",
    )

    assert response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    assert response.json() == {"errors": ["server.internal_error"]}
    assert "X-Request-ID" in response
