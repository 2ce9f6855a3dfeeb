"""Management otp/sign (TOTP once, then Barong's RS256 signature), documents and timestamp."""

import base64
import json
from http import HTTPStatus

import jwt as pyjwt
import pytest

from accounts.models import Label
from activities.models import Activity
from kyc.models import Document
from management.jws import b64url_decode, jws_parse, signature_verify
from management.keys import management_signing_key
from tests.kyc.conftest import JPG, PNG
from tests.management.conftest import document_params
from tests.resource_account.helpers import clock, two_factor_on  # noqa: F401  (fixture)


@pytest.fixture
def member(make_user):
    return make_user(email="member@example.com")


@pytest.fixture
def withdrawal(sign):
    """The JWS applogic asks the user to confirm (signed by applogic = jeff here)."""
    return sign({"amount": "1.5", "currency": "btc"}, "jeff")


def test_otp_sign_adds_barong_signature(mgmt, member, clock, withdrawal):  # noqa: F811
    two_factor_on(member, clock)
    code = clock.next_code(member)
    response = mgmt("otp/sign", {"user_uid": member.uid, "otp_code": code, "jwt": withdrawal})
    assert response.status_code == HTTPStatus.CREATED, response.content
    signed = response.json()
    assert signed["payload"] == withdrawal["payload"]
    assert [s["header"]["kid"] for s in signed["signatures"]] == ["jeff", "barong"]
    assert signed["signatures"][0] == withdrawal["signatures"][0]
    parsed = jws_parse(signed)
    barong = parsed.signatures[1]
    pair = management_signing_key()
    signature_verify(jws=parsed, signature=barong, algorithm="RS256", public_key=pair.public_key)
    assert json.loads(b64url_decode(barong.protected)) == {"alg": "RS256", "kid": pair.kid}
    # The compact form verifies with any JWT library and the management JWK set's key.
    compact = f"{barong.protected}.{parsed.payload_b64}.{barong.signature}"
    claims = pyjwt.decode(compact, pair.public_key, algorithms=["RS256"])
    assert claims["data"]["currency"] == "btc"
    row = Activity.objects.get(category="admin", topic="management", action="otp sign")
    assert row.result == "succeed"

    again = mgmt("otp/sign", {"user_uid": member.uid, "otp_code": code, "jwt": withdrawal})
    assert again.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert again.json() == {"error": "OTP code is invalid"}  # a code is accepted once


def test_otp_sign_replaces_an_earlier_barong_signature(mgmt, member, clock, withdrawal):  # noqa: F811
    two_factor_on(member, clock)
    first = mgmt(
        "otp/sign",
        {"user_uid": member.uid, "otp_code": clock.next_code(member), "jwt": withdrawal},
    ).json()
    second = mgmt(
        "otp/sign", {"user_uid": member.uid, "otp_code": clock.next_code(member), "jwt": first}
    ).json()
    assert [s["header"]["kid"] for s in second["signatures"]] == ["jeff", "barong"]


def test_otp_sign_errors(mgmt, member, make_user, clock, withdrawal):  # noqa: F811
    no_2fa = mgmt("otp/sign", {"user_uid": member.uid, "otp_code": "123456", "jwt": withdrawal})
    assert no_2fa.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert no_2fa.json() == {"error": "Account has not enabled 2FA"}

    pending = make_user(email="pending@example.com", verified=False)
    response = mgmt("otp/sign", {"user_uid": pending.uid, "otp_code": "1", "jwt": withdrawal})
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"error": "Record is not found"}

    two_factor_on(member, clock)
    code = clock.next_code(member)
    broken = mgmt("otp/sign", {"user_uid": member.uid, "otp_code": code, "jwt": {"data": "x"}})
    assert broken.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert broken.json()["error"].startswith("JWT is invalid by the reason")
    # the code was not used up by the malformed JWS
    ok = mgmt("otp/sign", {"user_uid": member.uid, "otp_code": code, "jwt": withdrawal})
    assert ok.status_code == HTTPStatus.CREATED, ok.content

    wrong = mgmt("otp/sign", {"user_uid": member.uid, "otp_code": "000000", "jwt": withdrawal})
    assert wrong.json() == {"error": "OTP code is invalid"}
    failed = Activity.objects.filter(category="admin", topic="management", result="failed")
    assert [json.loads(row.data)["reason"] for row in failed.order_by("id")] == [
        'JWT is invalid by the reason "not base64url"',
        "OTP code is invalid",
    ]
    assert not any("000000" in (row.data or "") for row in failed)


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (
            {},
            "user_uid is missing, user_uid is empty, otp_code is missing, otp_code is empty, "
            "jwt is missing, jwt is empty",
        ),
        ({"user_uid": "x", "otp_code": "1", "jwt": "invalid"}, "jwt is invalid"),
        ({"user_uid": "x", "otp_code": "1", "jwt": {}}, "jwt is empty"),
    ],
)
def test_otp_sign_parameter_errors(mgmt, db, data, error):
    response = mgmt("otp/sign", data)
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"error": error}


# ---------------------------------------------------------------- documents


def test_pushdocument_params(mgmt, member):
    response = mgmt("documents", document_params(member, metadata='{"source":"kyc-vendor"}'))
    assert response.status_code == HTTPStatus.CREATED, response.content
    assert response.json() == {}
    document = Document.objects.get(user=member)
    assert document.doc_number == "AB123456"
    assert document.upload.read() == PNG
    assert Label.objects.get(user=member, key="document", scope="private").value == "pending"


def test_push_document_without_label_update(mgmt, member):
    response = mgmt("documents", document_params(member, update_labels=False, file_ext="png"))
    assert response.status_code == HTTPStatus.CREATED
    assert not Label.objects.filter(user=member, key="document").exists()


@pytest.mark.parametrize(
    ("extra", "status", "error"),
    [
        ({"uid": "ID0000000000"}, 404, "Record is not found"),
        ({"upload": "%%%not base64"}, 422, "upload is invalid"),
        ({"doc_expire": "soon"}, 422, "doc_expire management.documents.expire_not_a_date"),
        (
            {"update_labels": "sometimes"},
            422,
            "update_labels management.documents.update_labels_inalid",
        ),
        ({"file_ext": ".exe"}, 422, "Upload extension whitelist error"),
        ({"doc_type": "Diary"}, 422, "Doc type is not included in the list"),
        ({"upload": base64.b64encode(b"MZ not a png").decode()}, 422, "Upload integrity error"),
        (  # a JPEG with HTML after its end: a polyglot (kyc/polyglots.py)
            {"upload": base64.b64encode(JPG + b"<html><script>x()</script>").decode()}
            | {"file_ext": ".jpg"},
            422,
            "Upload integrity error",
        ),
    ],
)
def test_push_document_errors(mgmt, member, extra, status, error):
    response = mgmt("documents", document_params(member, **extra))
    assert response.status_code == status
    assert response.json() == {"error": error}
    assert not Document.objects.filter(user=member).exists()


def test_push_document_parameter_errors(mgmt, db):
    response = mgmt("documents", {})
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {
        "error": "uid is missing, uid is empty, doc_type is missing, doc_type is empty, "
        "doc_number is missing, doc_number is empty, filename is missing, filename is empty, "
        "file_ext is missing, file_ext is empty, upload is missing"
    }


def test_timestamp(mgmt, db):
    response = mgmt("timestamp")
    assert response.status_code == HTTPStatus.OK
    assert isinstance(response.json()["timestamp"], int)


def test_otp_sign_counts_against_the_otp_budget(mgmt, member, clock, withdrawal, settings):  # noqa: F811
    two_factor_on(member, clock)
    settings.BARONG_RATE_LIMIT_RULES = {
        **settings.BARONG_RATE_LIMIT_RULES,
        "otp_account": "2/300",
    }  # enabling used one
    first = mgmt("otp/sign", {"user_uid": member.uid, "otp_code": "000000", "jwt": withdrawal})
    assert first.json() == {"error": "OTP code is invalid"}
    code = clock.next_code(member)
    response = mgmt("otp/sign", {"user_uid": member.uid, "otp_code": code, "jwt": withdrawal})
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert response.json() == {"error": "Too many OTP attempts, try again later"}
