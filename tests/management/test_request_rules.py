"""Every management endpoint: request rules and signature checks, before any parameter."""

import json
import logging
import time
from http import HTTPStatus

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from management.jws import b64url_decode, b64url_encode
from tests.keys import private_pem
from tests.management.conftest import SCOPES, expired_claims

ENDPOINTS = [
    ("labels/filter/users", "post"),
    ("labels/list", "post"),
    ("labels", "post"),
    ("labels", "put"),
    ("labels/delete", "post"),
    ("users/get", "post"),
    ("users/list", "post"),
    ("users", "post"),
    ("users/import", "post"),
    ("users/update", "post"),
    ("profiles", "post"),
    ("timestamp", "post"),
    ("otp/sign", "post"),
    ("documents", "post"),
    ("confirmations", "post"),
    ("confirmations/get", "post"),
]
FAILED = {"error": "Failed to verify JWT."}
NOT_ENOUGH = {"error": "Not enough signatures for the action."}
pytestmark = pytest.mark.django_db


def _send(api, path, method, body, **extra):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    content_type = extra.pop("content_type", "application/json")
    url = f"/api/v2/management/{path}{extra.pop('query', '')}"
    return api.generic(method.upper(), url, data, content_type=content_type, **extra)


@pytest.mark.parametrize(("path", "method"), ENDPOINTS)
class TestEveryEndpoint:
    def test_mandatory_signer_missing(self, api, management_file, sign, path, method):
        response = _send(api, path, method, sign({}, "jeff"))
        assert response.status_code == HTTPStatus.UNAUTHORIZED
        assert response.json() == NOT_ENOUGH

    def test_unknown_signer_alone(self, api, management_file, sign, path, method):
        response = _send(api, path, method, sign({}, "mallory"))
        assert response.status_code == HTTPStatus.UNAUTHORIZED
        assert response.json() == NOT_ENOUGH

    def test_signer_not_permitted_for_the_scope(self, api, management_file, sign, path, method):
        only_jeff = {"permitted_signers": ["jeff"], "mandatory_signers": ["jeff"]}
        management_file(scopes={scope: only_jeff for scope in SCOPES})
        response = _send(api, path, method, sign({}, "alex"))
        assert response.status_code == HTTPStatus.UNAUTHORIZED
        assert response.json() == NOT_ENOUGH

    def test_tampered_payload(self, api, management_file, sign, path, method):
        body = sign({"uid": "ID0000000001"}, "alex")
        claims = json.loads(b64url_decode(body["payload"]))
        claims["data"] = {"uid": "ID0000000002"}
        body["payload"] = b64url_encode(json.dumps(claims).encode())
        response = _send(api, path, method, body)
        assert response.status_code == HTTPStatus.UNAUTHORIZED
        assert response.json() == FAILED

    def test_expired(self, api, management_file, sign, path, method):
        response = _send(api, path, method, sign({}, "alex", claims=expired_claims()))
        assert response.status_code == HTTPStatus.UNAUTHORIZED
        assert response.json() == FAILED

    def test_replayed_jti(self, api, management_file, sign, path, method):
        body = sign({}, "alex")
        first = _send(api, path, method, body)
        assert first.status_code != HTTPStatus.UNAUTHORIZED
        again = sign(
            {"other": "payload"},
            "alex",
            claims={"jti": json.loads(b64url_decode(body["payload"]))["jti"]},
        )
        for replay in (body, again):
            response = _send(api, path, method, replay)
            assert response.status_code == HTTPStatus.UNAUTHORIZED
            assert response.json() == FAILED

    def test_wrong_method(self, api, management_file, sign, path, method):
        for verb in ("get", "delete", "patch", "options"):
            response = _send(api, path, verb, sign({}, "alex"))
            assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
            assert response.json() == {"error": "Only POST and PUT verbs are allowed."}

    def test_query_string(self, api, management_file, sign, path, method):
        response = _send(api, path, method, sign({}, "alex"), query="?uid=ID1")
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert response.json() == {"error": "Query parameters are not allowed."}

    def test_content_type(self, api, management_file, sign, path, method):
        for content_type in ("application/x-www-form-urlencoded", "text/plain", ""):
            body = json.dumps(sign({}, "alex"))
            response = _send(api, path, method, body, content_type=content_type)
            assert response.status_code == HTTPStatus.BAD_REQUEST
            assert response.json() == {"error": "Only JSON body is accepted."}

    def test_without_config_every_call_is_refused(
        self, api, settings, management_file, sign, path, method
    ):
        settings.BARONG_MANAGEMENT_API_CONFIG = ""
        response = _send(api, path, method, sign({}, "alex"))
        assert response.status_code == HTTPStatus.UNAUTHORIZED
        assert response.json() == FAILED

    def test_gateway_prefix(self, api, management_file, sign, path, method):
        url = f"/api/v2/barong/management/{path}"
        response = getattr(api, method)(
            url, json.dumps(sign({}, "jeff")), content_type="application/json"
        )
        assert response.json() == NOT_ENOUGH


def test_put_on_a_post_only_endpoint_is_405(mgmt):
    response = mgmt("timestamp", method="put")
    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert response.json() == {"error": "405 Not Allowed"}


def test_json_with_charset_is_json(api, management_file, sign):
    body = json.dumps(sign({}, "alex"))
    response = api.post(
        "/api/v2/management/timestamp", body, content_type="application/json; charset=utf-8"
    )
    assert response.status_code == HTTPStatus.OK


def test_es256_signer(mgmt, management_file):
    management_file(scopes={"tools": {"permitted_signers": ["eve"], "mandatory_signers": ["eve"]}})
    response = mgmt("timestamp", signers=("eve",))
    assert response.status_code == HTTPStatus.OK
    assert abs(response.json()["timestamp"] - time.time()) < 5


def test_every_mandatory_signer_is_needed(mgmt, management_file):
    both = {"permitted_signers": ["alex", "jeff"], "mandatory_signers": ["alex", "jeff"]}
    management_file(scopes={"tools": both})
    assert mgmt("timestamp", signers=("alex",)).json() == NOT_ENOUGH
    assert mgmt("timestamp", signers=("jeff",)).json() == NOT_ENOUGH
    assert mgmt("timestamp", signers=("alex", "jeff")).status_code == HTTPStatus.OK


def test_extra_signers_outside_the_scope_are_ignored(mgmt):
    """jwt-multisig checks only the scope's keys: an unknown extra signature does not count."""
    assert mgmt("timestamp", signers=("alex", "mallory")).status_code == HTTPStatus.OK


def test_a_bad_signature_of_a_permitted_signer_fails_the_call(api, management_file, sign):
    body = sign({}, "alex", "jeff")
    body["signatures"][1]["signature"] = body["signatures"][0]["signature"]
    response = api.post("/api/v2/management/timestamp", body, format="json")
    assert response.json() == FAILED


def test_signature_made_with_another_key_fails(api, management_file, sign):
    body = sign({}, "mallory")
    body["signatures"][0]["header"]["kid"] = "alex"
    response = api.post("/api/v2/management/timestamp", body, format="json")
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == FAILED


def test_algorithm_must_be_the_keychain_one(api, management_file, sign):
    body = sign({}, "alex")
    body["signatures"][0]["protected"] = b64url_encode(b'{"alg":"HS256"}')
    assert api.post("/api/v2/management/timestamp", body, format="json").json() == FAILED
    body["signatures"][0]["protected"] = b64url_encode(b'{"alg":"none"}')
    body["signatures"][0]["signature"] = ""
    assert api.post("/api/v2/management/timestamp", body, format="json").json() == FAILED


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": None},
        {"exp": "tomorrow"},
        {"iat": int(time.time()) + 3600},
        {"nbf": int(time.time()) + 3600},
        {"jti": ""},
        {"jti": ["a"]},
        {"jti": "x" * 300},
    ],
)
def test_bad_claims(mgmt, claims):
    assert mgmt("timestamp", claims=claims).json() == FAILED


def test_small_clock_skew_is_tolerated(mgmt):
    now = int(time.time())
    response = mgmt("timestamp", claims={"iat": now + 10, "exp": now - 10})
    assert response.status_code == HTTPStatus.OK


def test_a_token_without_jti_is_still_accepted_once(api, management_file, sign):
    """Barong's own clients send only exp and data: the payload itself is the replay key."""
    body = sign({}, "alex", payload={"exp": int(time.time()) + 60, "data": {}})
    assert api.post("/api/v2/management/timestamp", body, format="json").status_code == 200
    assert api.post("/api/v2/management/timestamp", body, format="json").json() == FAILED


def test_a_refused_token_does_not_burn_its_jti(api, management_file, sign):
    good = sign({}, "alex", "jeff")
    forged = {**good, "signatures": [good["signatures"][1]]}  # jeff alone: not enough
    assert api.post("/api/v2/management/timestamp", forged, format="json").json() == NOT_ENOUGH
    assert api.post("/api/v2/management/timestamp", good, format="json").status_code == 200


@pytest.mark.parametrize(
    ("options", "claims", "ok"),
    [
        ({"verify_iss": True, "iss": "applogic"}, {"iss": "applogic"}, True),
        ({"verify_iss": True, "iss": "applogic"}, {"iss": "hacker"}, False),
        ({"verify_aud": True, "aud": "barong"}, {"aud": ["peatio", "barong"]}, True),
        ({"verify_aud": True, "aud": "barong"}, {"aud": "hacker"}, False),
        ({"verify_sub": True, "sub": "management"}, {"sub": "other"}, False),
        ({"verify_jti": True}, {"jti": None}, False),
        ({"verify_iat": True}, {"iat": None}, False),
        ({"leeway": 600}, {"exp": -300}, True),  # seconds from when the test runs
    ],
)
def test_jwt_options_of_the_config_file(mgmt, management_file, options, claims, ok):
    if "exp" in claims:  # not from collection time: a long run would outlive the leeway
        claims = {**claims, "exp": int(time.time()) + claims["exp"]}
    management_file(jwt=options)
    response = mgmt("timestamp", claims=claims)
    assert (response.status_code == HTTPStatus.OK) is ok, response.content


# ---------------------------------------------------------------- hostile bodies


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "{",
        "[" * 100000,
        b"\xff\xfe",
    ],
)
def test_unparsable_body_is_400(api, management_file, body):
    response = api.post("/api/v2/management/timestamp", body, content_type="application/json")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {"error": "Couldn't parse JWT."}


@pytest.mark.parametrize(
    "body",
    [
        [],
        "just a string",
        {},
        {"payload": "e30", "signatures": []},
        {"payload": "e30", "signatures": "x"},
        {
            "payload": "!!!",
            "signatures": [{"protected": "e30", "header": {"kid": "alex"}, "signature": "AA"}],
        },
        {
            "payload": "W10",
            "signatures": [{"protected": "e30", "header": {"kid": "alex"}, "signature": "AA"}],
        },
        {
            "payload": "e30",
            "signatures": [{"protected": "e30", "header": "alex", "signature": "AA"}],
        },
        {
            "payload": "e30",
            "signatures": [{"protected": "!", "header": {"kid": "alex"}, "signature": "AA"}],
        },
        {
            "payload": "e30",
            "signatures": [{"protected": "e30", "header": {"kid": "alex"}, "signature": "A"}],
        },
        {
            "payload": "e30",
            "signatures": [{"protected": "e30", "header": {"kid": "alex"}, "signature": "AA"}] * 17,
        },
        {
            "payload": "e30",
            "signatures": [{"protected": "e30", "header": {"kid": ["alex"]}, "signature": "AA"}],
        },
    ],
)
def test_garbage_jws_is_401(api, management_file, body):
    response = api.post(
        "/api/v2/management/timestamp", json.dumps(body), content_type="application/json"
    )
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() in (FAILED, NOT_ENOUGH)


def test_huge_body_is_refused_before_reading(api, management_file, settings):
    settings.BARONG_MANAGEMENT_MAX_BODY = 1000
    body = json.dumps({"payload": "A" * 5000, "signatures": []})
    response = api.post("/api/v2/management/timestamp", body, content_type="application/json")
    assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert response.json() == {"error": "Request body is too large."}


def test_data_must_be_an_object(mgmt, api, sign):
    body = sign(None, "alex", claims={"data": ["uid"]})
    response = api.post("/api/v2/management/timestamp", body, format="json")
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"error": "data is invalid"}


def test_refusals_are_logged_with_signers_but_not_the_payload(api, management_file, sign, caplog):
    body = sign({"secret_field": "hunter2"}, "jeff")
    with caplog.at_level(logging.WARNING, logger="management.verification"):
        api.post("/api/v2/management/labels", body, format="json")
    text = caplog.text
    assert "jeff" in text
    assert "write_labels" in text
    assert "hunter2" not in text
    assert body["payload"] not in text


# ---------------------------------------------------------------- the config file


def test_empty_config_file_refuses_every_call(mgmt, settings, tmp_path):
    path = tmp_path / "empty.yml"
    path.write_text("# nothing configured\n")
    settings.BARONG_MANAGEMENT_API_CONFIG = str(path)
    assert mgmt("timestamp").json() == FAILED


def test_barong_default_file_refuses_every_call(mgmt, settings, tmp_path):
    path = tmp_path / "barong_default.yml"
    path.write_text("keychain: {}\njwt: {}\nscopes: {}\n")
    settings.BARONG_MANAGEMENT_API_CONFIG = str(path)
    assert mgmt("timestamp").json() == FAILED


def test_private_key_in_the_keychain_is_refused(mgmt, settings, tmp_path, signer_keys, caplog):
    import base64

    key, _ = signer_keys["alex"]
    pem = private_pem(key).encode()
    path = tmp_path / "private.yml"
    path.write_text(
        "keychain:\n  alex:\n    algorithm: RS256\n"
        f"    value: {base64.urlsafe_b64encode(pem).decode()}\n"
        "scopes:\n  tools:\n    permitted_signers: [alex]\n    mandatory_signers: [alex]\n"
    )
    settings.BARONG_MANAGEMENT_API_CONFIG = str(path)
    assert mgmt("timestamp").json() == FAILED
    with pytest.raises(SystemCheckError, match="private key"):
        call_command("check")


@pytest.mark.parametrize(
    "text",
    [
        "keychain: [1, 2]",
        "scopes:\n  tools:\n    permitted_signers: [alex]\n    mandatory_signers: []\n",
        "keychain:\n  x:\n    algorithm: HS256\n    value: c2VjcmV0\n",
        "keychain:\n  x:\n    algorithm: RS256\n    value: '!!!'\n",
        "jwt:\n  leeway: -5\n",
        ": : :",
    ],
)
def test_broken_config_files_are_reported_by_check(settings, tmp_path, text, mgmt):
    path = tmp_path / "broken.yml"
    path.write_text(text)
    settings.BARONG_MANAGEMENT_API_CONFIG = str(path)
    assert mgmt("timestamp").json() == FAILED
    with pytest.raises(SystemCheckError, match=r"management\.E001"):
        call_command("check")


def test_config_is_read_again_when_the_file_changes(mgmt, management_file):
    assert mgmt("timestamp").status_code == HTTPStatus.OK
    only_jeff = {"permitted_signers": ["jeff"], "mandatory_signers": ["jeff"]}
    management_file(scopes={"tools": only_jeff})
    assert mgmt("timestamp").json() == NOT_ENOUGH
    assert mgmt("timestamp", signers=("jeff",)).status_code == HTTPStatus.OK
