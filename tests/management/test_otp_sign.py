"""otp/sign never produces a session token: it countersigns management-call payloads only,
with a key of its own that the JWT key set does not list.

The forgery: a caller holding the otp_sign signer's key and one TOTP code of its own
account asked Barong to countersign a payload shaped like a superadmin's session token;
``protected.payload.signature`` of the answer was then a valid session JWT here and for
every upstream trusting the JWK set (Peatio verifies RS256, iss, aud, sub, exp/iat/jti).
"""

import base64
import json
import secrets
import time
from http import HTTPStatus

import jwt as pyjwt
import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from activities.models import Activity
from barong import jwt as barong_jwt
from management import config as management_config
from management import keys as management_keys
from management.jws import b64url_decode, b64url_encode, jws_generate, signature_make
from management.keys import management_signing_key
from management.verification import VerificationFailed, management_call_verify
from tests.keys import private_pem
from tests.resource_account import helpers
from tests.resource_account.helpers import two_factor_on

pytestmark = pytest.mark.django_db
clock = helpers.clock  # the TOTP clock fixture
ME = "/api/v2/resource/users/me"


@pytest.fixture(scope="module")
def applogic_key():
    """applogic's own signing key: the signature Peatio requires next to Barong's."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def member(make_user, clock):
    return two_factor_on(make_user(email="withdrawer@example.com"), clock)


def _withdrawal_payload(uid: str) -> dict:
    """What applogic's ManagementAPIv1::Client#payload builds for Peatio's withdraws/new."""
    now = int(time.time())
    data = {
        "uid": uid,
        "tid": "TIDDEADBEEF01",
        "rid": "0xa96bbd0de64ef10659ae49d5ca4bb8109169007eb90d53aa3f87b6dc65530d8a",
        "currency": "eth",
        "amount": "0.25",
        "action": "process",
    }
    return {
        "data": data,
        "iat": now,
        "exp": now + 60,
        "jti": secrets.token_hex(12),
        "iss": "applogic",
    }


def _session_payload(superadmin) -> dict:
    """The issue's forgery: a superadmin's session token, as barong/jwt.py mints them."""
    now = int(time.time())
    return {
        "uid": superadmin.uid,
        "email": superadmin.email,
        "role": "superadmin",
        "level": 3,
        "state": "active",
        "referral_id": None,
        "iat": now,
        "exp": now + 3600,
        "sub": "session",
        "iss": "barong",
        "aud": ["peatio", "barong"],
        "jti": secrets.token_hex(10),
    }


def _inner(applogic_key, payload: dict) -> dict:
    return jws_generate(payload, [("applogic", applogic_key, "RS256")])


def _inner_raw(applogic_key, text: str) -> dict:
    """A JWS of exactly these payload bytes (duplicate names, odd literals)."""
    payload_b64 = b64url_encode(text.encode())
    signature = signature_make(
        payload_b64=payload_b64, kid="applogic", private_key=applogic_key, algorithm="RS256"
    )
    return {"payload": payload_b64, "signatures": [signature]}


def _compact(signed: dict, kid: str = "barong") -> str:
    entry = next(s for s in signed["signatures"] if s["header"]["kid"] == kid)
    return f"{entry['protected']}.{signed['payload']}.{entry['signature']}"


def _peatio_session_claims(token: str, public_key) -> dict:
    """Peatio 2.4's session check (config/initializers/jwt.rb): RS256 with the key it
    trusts for sessions, iss barong, aud peatio, sub session, exp/iat/jti required."""
    return pyjwt.decode(
        token,
        public_key,
        algorithms=["RS256"],
        issuer="barong",
        audience="peatio",
        subject="session",
        options={"require": ["exp", "iat", "jti", "sub", "iss", "aud"]},
    )


def _identity_jwks_keys(api) -> list:
    return [pyjwt.PyJWK(jwk) for jwk in api.get("/api/v2/identity/jwks").json()["keys"]]


def _sign(mgmt, member, code: str, jws: dict):
    return mgmt("otp/sign", {"user_uid": member.uid, "otp_code": code, "jwt": jws})


# ---------------------------------------------------------------- the forgery


@pytest.fixture(params=[False, True], ids=["own key", "barong 2.4 key"])
def production(request, settings) -> bool:
    """otp/sign's own key, or in production without BARONG_MANAGEMENT_SIGNING_KEY Barong 2.4's
    JWT key, guarded."""
    if request.param:
        settings.PRODUCTION = True
        settings.BARONG_MANAGEMENT_SIGNING_KEY = ""
    return request.param


def test_the_session_token_forgery_is_refused(
    mgmt,
    member,
    make_admin,
    clock,
    applogic_key,
    production,
):
    """End to end: a real management JWS from the otp_sign signer, a real TOTP code."""
    superadmin = make_admin(email="root@example.com")
    code = clock.next_code(member)

    response = _sign(mgmt, member, code, _inner(applogic_key, _session_payload(superadmin)))

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY, response.content
    assert response.json() == {
        "error": 'JWT is invalid by the reason "the payload carries sub, a claim of session tokens"'
    }
    row = Activity.objects.get(topic="management", action="otp sign")
    assert row.result == "failed"
    assert json.loads(row.data)["reason"] == response.json()["error"]
    # Refused before the code was used: the same code still confirms a real withdrawal.
    ok = _sign(mgmt, member, code, _inner(applogic_key, _withdrawal_payload(member.uid)))
    assert ok.status_code == HTTPStatus.CREATED, ok.content


def test_nothing_otp_sign_signs_passes_as_a_session_token(
    mgmt,
    api,
    member,
    make_admin,
    clock,
    applogic_key,
    production,
):
    """The closest payload the rules let through (a superadmin's uid and role, no sub, aud or
    barong iss): its countersignature's compact form is refused here and by Peatio."""
    superadmin = make_admin(email="root@example.com")
    payload = {
        **{k: v for k, v in _session_payload(superadmin).items() if k not in ("sub", "aud")},
        "iss": "applogic",
        "exp": int(time.time()) + 60,
        "data": {},
    }
    response = _sign(mgmt, member, clock.next_code(member), _inner(applogic_key, payload))
    assert response.status_code == HTTPStatus.CREATED, response.content
    token = _compact(response.json())

    for path in (ME, "/api/v2/admin/users"):
        answer = api.get(path, HTTP_AUTHORIZATION=f"Bearer {token}")
        assert answer.status_code == HTTPStatus.UNAUTHORIZED, (path, answer.content)
    for key in _identity_jwks_keys(api):
        with pytest.raises(pyjwt.InvalidTokenError):
            _peatio_session_claims(token, key)
    header = json.loads(b64url_decode(token.split(".")[0]))
    identity_kids = {jwk.key_id for jwk in _identity_jwks_keys(api)}
    if production:  # the JWT key signed it: only the missing sub/aud stop it upstream
        assert header["kid"] in identity_kids
        with pytest.raises(pyjwt.MissingRequiredClaimError):
            _peatio_session_claims(token, barong_jwt.signing_key().public_key)
    else:  # a key no JWT verifier holds
        assert header["kid"] not in identity_kids
        for key in _identity_jwks_keys(api):
            with pytest.raises(pyjwt.InvalidSignatureError):
                pyjwt.decode(token, key, algorithms=["RS256"], options={"verify_aud": False})


def _now() -> int:
    return int(time.time())


REFUSED_PAYLOADS = {
    "sub": lambda: {"data": {}, "iat": _now(), "exp": _now() + 60, "sub": "session"},
    "Sub": lambda: {"data": {}, "iat": _now(), "exp": _now() + 60, "Sub": "session"},
    "SUB": lambda: {"data": {}, "iat": _now(), "exp": _now() + 60, "SUB": "x"},
    "sub with spaces": lambda: {"data": {}, "iat": _now(), "exp": _now() + 60, " sub ": "s"},
    "sub null": lambda: {"data": {}, "iat": _now(), "exp": _now() + 60, "sub": None},
    "aud": lambda: {"data": {}, "iat": _now(), "exp": _now() + 60, "aud": "peatio"},
    "Aud list": lambda: {"data": {}, "iat": _now(), "exp": _now() + 60, "Aud": ["peatio"]},
    "iss barong": lambda: {"data": {}, "iat": _now(), "exp": _now() + 60, "iss": "barong"},
    "iss BaRoNg": lambda: {"data": {}, "iat": _now(), "exp": _now() + 60, "ISS": " BaRoNg "},
    "iss list": lambda: {"data": {}, "iat": _now(), "exp": _now() + 60, "iss": ["applogic"]},
    "no data": lambda: {"iat": _now(), "exp": _now() + 60, "amount": "1 BTC"},
    "data not an object": lambda: {"data": ["uid"], "iat": _now(), "exp": _now() + 60},
    "no iat": lambda: {"data": {}, "exp": _now() + 60},
    "no exp": lambda: {"data": {}, "iat": _now()},
    "expired": lambda: {"data": {}, "iat": _now() - 120, "exp": _now() - 60},
    "a year ahead": lambda: {"data": {}, "iat": _now(), "exp": _now() + 365 * 86400},
    "exp a float": lambda: {"data": {}, "iat": _now(), "exp": _now() + 60.5},
    "exp 1e308": lambda: {"data": {}, "iat": _now(), "exp": 1e308},
    "iat a boolean": lambda: {"data": {}, "iat": True, "exp": _now() + 60},
    "Barong's spec shape": lambda: {"amount": "1 BTC"},
}


@pytest.mark.parametrize("name", sorted(REFUSED_PAYLOADS))
def test_payloads_that_are_not_management_calls_are_refused(
    mgmt,
    member,
    clock,
    applogic_key,
    name,
):
    code = clock.next_code(member)
    response = _sign(mgmt, member, code, _inner(applogic_key, REFUSED_PAYLOADS[name]()))
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY, response.content
    assert response.json()["error"].startswith('JWT is invalid by the reason "')
    ok = _sign(mgmt, member, code, _inner(applogic_key, _withdrawal_payload(member.uid)))
    assert ok.status_code == HTTPStatus.CREATED  # the code was not used up


@pytest.mark.parametrize(
    "template",
    [
        # Python and Ruby read the last of two equal names, some parsers the first: a
        # payload that means one thing here and another upstream is refused outright.
        '{{"data":{{}},"iat":{now},"exp":{exp},"iss":"applogic","iss":"barong"}}',
        '{{"data":{{}},"iat":{now},"exp":{exp},"iss":"barong","iss":"applogic"}}',
        '{{"sub":"session","data":{{}},"iat":{now},"exp":{exp},"sub":null}}',
        '{{"data":{{"amount":"1","amount":"1000"}},"iat":{now},"exp":{exp}}}',
        '{{"data":{{}},"iat":{now},"exp":{exp},"exp":{far}}}',
        '{{"data":{{}},"iat":{now},"exp":NaN}}',
        '{{"data":{{}},"iat":{now},"exp":Infinity}}',
        '{{"data":{{}},"iat":{now},"exp":{exp},"s\\u0075b":"session"}}',
    ],
    ids=[
        "iss twice, barong last",
        "iss twice, barong first",
        "sub twice",
        "amount twice in data",
        "exp twice",
        "exp NaN",
        "exp Infinity",
        "sub escaped",
    ],
)
def test_raw_payload_tricks_are_refused(mgmt, member, clock, applogic_key, template):
    now = _now()
    text = template.format(now=now, exp=now + 60, far=now + 10**8)
    code = clock.next_code(member)
    response = _sign(mgmt, member, code, _inner_raw(applogic_key, text))
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY, (text, response.content)
    assert response.json()["error"].startswith('JWT is invalid by the reason "')


# ---------------------------------------------------------------- what callers get


def test_an_applogic_withdrawal_is_countersigned_with_the_management_key(
    mgmt,
    api,
    member,
    clock,
    applogic_key,
):
    inner = _inner(applogic_key, _withdrawal_payload(member.uid))
    response = _sign(mgmt, member, clock.next_code(member), inner)
    assert response.status_code == HTTPStatus.CREATED, response.content
    signed = response.json()
    assert signed["payload"] == inner["payload"]
    assert [s["header"]["kid"] for s in signed["signatures"]] == ["applogic", "barong"]
    assert signed["signatures"][0] == inner["signatures"][0]

    jwks = api.get("/api/v2/management/jwks").json()
    assert len(jwks["keys"]) == 1
    key = pyjwt.PyJWK(jwks["keys"][0])
    pair = management_signing_key()
    assert key.key_id == pair.kid == barong_jwt.thumbprint(pair.public_key)
    token = _compact(signed)
    assert json.loads(b64url_decode(token.split(".")[0])) == {"alg": "RS256", "kid": pair.kid}
    claims = pyjwt.decode(token, key, algorithms=["RS256"])
    assert claims["data"]["amount"] == "0.25"
    assert claims["iss"] == "applogic"
    # The JWT key set neither lists this key nor verifies the signature.
    assert pair.kid not in {jwk.key_id for jwk in _identity_jwks_keys(api)}
    assert pair.kid != barong_jwt.signing_key().kid
    with pytest.raises(pyjwt.InvalidSignatureError):
        pyjwt.decode(token, barong_jwt.signing_key().public_key, algorithms=["RS256"])


def _keychain_entry() -> dict:
    from io import StringIO

    out = StringIO()
    call_command("management_keychain", stdout=out)
    return yaml.safe_load(out.getvalue())


def _peatio_config(applogic_key, barong_value: str) -> str:
    """Peatio's config/management_api_v1.yml for withdraws/new behind Barong's TOTP."""
    pem = applogic_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return yaml.safe_dump(
        {
            "keychain": {
                "applogic": {"algorithm": "RS256", "value": base64.urlsafe_b64encode(pem).decode()},
                "barong": {"algorithm": "RS256", "value": barong_value},
            },
            "jwt": {},
            "scopes": {
                "write_withdraws": {
                    "permitted_signers": ["applogic", "barong"],
                    "mandatory_signers": ["applogic", "barong"],
                }
            },
        }
    )


def test_peatio_keychain_needs_the_printed_entry(
    mgmt,
    member,
    clock,
    applogic_key,
    settings,
    tmp_path,
):
    """The withdrawal otp/sign returns verifies, jwt-multisig style, against a keychain
    holding ``manage.py management_keychain``'s entry, and not against the JWT key."""
    entry = _keychain_entry()
    assert list(entry) == ["barong"]
    assert entry["barong"]["algorithm"] == "RS256"
    value = entry["barong"]["value"]
    assert serialization.load_pem_public_key(base64.urlsafe_b64decode(value)).public_numbers() == (
        management_signing_key().public_key.public_numbers()
    )

    inner = _inner(applogic_key, _withdrawal_payload(member.uid))
    signed = _sign(mgmt, member, clock.next_code(member), inner).json()

    peatio = tmp_path / "management_api_v1.yml"
    settings.BARONG_MANAGEMENT_API_CONFIG = str(peatio)
    jwt_pem = barong_jwt.signing_key().public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    peatio.write_text(_peatio_config(applogic_key, base64.urlsafe_b64encode(jwt_pem).decode()))
    management_config._cached.update(stamp=None)
    with pytest.raises(VerificationFailed) as refused:
        management_call_verify(signed, scope="write_withdraws")
    assert refused.value.message == "Failed to verify JWT."

    peatio.write_text(_peatio_config(applogic_key, value))
    management_config._cached.update(stamp=None)
    call = management_call_verify(signed, scope="write_withdraws")
    assert call.signers == ("applogic", "barong")
    assert call.data["action"] == "process"


def test_the_management_jwks(api):
    for prefix in ("/api/v2/management", "/api/v2/barong/management"):
        response = api.get(f"{prefix}/jwks")
        assert response.status_code == HTTPStatus.OK
        (jwk,) = response.json()["keys"]
        assert jwk["kid"] == management_signing_key().kid
        assert (jwk["kty"], jwk["alg"], jwk["use"]) == ("RSA", "RS256", "sig")
        assert "d" not in jwk
        refused = api.post(f"{prefix}/jwks", {}, format="json")
        assert refused.status_code == HTTPStatus.METHOD_NOT_ALLOWED
        assert refused.json() == {"error": "405 Not Allowed"}
    identity = api.get("/api/v2/identity/jwks").json()["keys"]
    assert management_signing_key().kid not in {jwk["kid"] for jwk in identity}


def test_the_gateway_does_not_open_the_management_jwks(api):
    """The default authz rules block api/v2/barong/management: services read it inside."""
    response = api.get("/api/v2/auth/api/v2/barong/management/jwks")
    assert response.status_code == HTTPStatus.FORBIDDEN


# ---------------------------------------------------------------- where the key comes from


@pytest.mark.parametrize("encoding", ["pem", "base64"])
def test_the_key_from_the_environment(api, settings, encoding, applogic_key):
    text = private_pem(applogic_key)
    settings.BARONG_MANAGEMENT_SIGNING_KEY = (
        text if encoding == "pem" else base64.b64encode(text.encode()).decode()
    )
    (jwk,) = api.get("/api/v2/management/jwks").json()["keys"]
    assert jwk["kid"] == barong_jwt.thumbprint(applogic_key.public_key())
    call_command("check")  # loads, and is not the JWT key


def test_development_generates_a_key_of_its_own_once(settings, tmp_path):
    settings.BARONG_MANAGEMENT_SIGNING_KEY = ""
    settings.BARONG_MANAGEMENT_SIGNING_KEY_FILE = tmp_path / "management_signing.pem"
    first = management_signing_key()
    assert (tmp_path / "management_signing.pem").stat().st_mode & 0o777 == 0o600
    assert first.kid != barong_jwt.signing_key().kid
    management_keys._key.cache_clear()  # as a restart: read back from the file
    assert management_signing_key().kid == first.kid
    assert list(tmp_path.iterdir()) == [tmp_path / "management_signing.pem"]


def test_production_without_the_key_signs_with_the_jwt_key_and_check_warns(settings):
    settings.PRODUCTION = True
    settings.BARONG_MANAGEMENT_SIGNING_KEY = ""
    assert management_signing_key().kid == barong_jwt.signing_key().kid
    assert "# otp/sign countersignature" in _keychain_output()
    with pytest.raises(SystemCheckError, match=r"management\.W001"):
        call_command("check", "--deploy", "--fail-level", "WARNING", "--tag", "security")


def _keychain_output() -> str:
    from io import StringIO

    out = StringIO()
    call_command("management_keychain", stdout=out)
    return out.getvalue()


def test_the_jwt_key_under_the_other_name_is_reported(settings):
    settings.BARONG_MANAGEMENT_SIGNING_KEY = private_pem(barong_jwt.signing_key().private_key)
    with pytest.raises(SystemCheckError, match=r"management\.W002"):
        call_command("check", "--fail-level", "WARNING")


@pytest.mark.parametrize(
    "value",
    ["not a key", base64.b64encode(b"-----BEGIN PRIVATE KEY-----\nAAAA\n").decode()],
)
def test_a_broken_key_is_reported_by_check(settings, value):
    settings.BARONG_MANAGEMENT_SIGNING_KEY = value
    with pytest.raises(SystemCheckError, match=r"management\.E002"):
        call_command("check")


def test_an_ec_or_small_key_is_refused(settings):
    from cryptography.hazmat.primitives.asymmetric import ec

    for key in (
        ec.generate_private_key(ec.SECP256R1()),
        rsa.generate_private_key(public_exponent=65537, key_size=1024),  # noqa: S505 -- refused
    ):
        settings.BARONG_MANAGEMENT_SIGNING_KEY = private_pem(key)
        with pytest.raises(SystemCheckError, match="RSA key of 2048 bits"):
            call_command("check")
