"""A Bearer JWT is taken by this server's API only as the authz endpoint mints it.

Each forgery starts from a genuine token (bound to a live session, so the binding check
would pass) and changes one thing an attacker controls: the algorithm, the key, a key
named in the header, the validity window, the issuer, the audience or the subject. Every
one is 401 ``jwt.decode_and_verify``; the genuine token, re-signed unchanged, still works
(so the refusals come from the change, not from the re-signing). docs/security.md, V9.
"""

import base64
import hashlib
import hmac
import json
import time
from http import HTTPStatus

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from barong import jwt as barong_jwt
from tests.authz.gateway import bearer_get
from tests.conftest import bearer_for

pytestmark = pytest.mark.django_db

REFUSED = {"errors": ["jwt.decode_and_verify"]}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _genuine_claims(user) -> dict:
    return jwt.decode(bearer_for(user), options={"verify_signature": False})


def _signed(claims: dict, *, key=None, headers: dict | None = None) -> str:
    pair = barong_jwt.signing_key()
    return jwt.encode(
        claims,
        key or pair.private_key,
        algorithm="RS256",
        headers={"kid": pair.kid, **(headers or {})},
    )


def _refused(token: str) -> None:
    response = bearer_get(token)
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == REFUSED


def test_the_genuine_claims_resigned_pass(make_user):
    user = make_user()

    response = bearer_get(_signed(_genuine_claims(user)))

    assert response.status_code == HTTPStatus.OK
    assert response.json()["uid"] == user.uid


def test_alg_none_is_refused(make_user):
    claims = _genuine_claims(make_user())
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    body = _b64(json.dumps(claims).encode())

    _refused(f"{header}.{body}.")


def test_hs256_keyed_with_the_public_key_is_refused(make_user):
    """Key confusion: the served public key used as an HMAC secret."""
    claims = _genuine_claims(make_user())
    pair = barong_jwt.signing_key()
    public_pem = pair.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": pair.kid}).encode())
    body = _b64(json.dumps(claims).encode())
    mac = hmac.new(public_pem, f"{header}.{body}".encode(), hashlib.sha256).digest()

    _refused(f"{header}.{body}.{_b64(mac)}")


def test_another_key_under_our_kid_is_refused(make_user):
    claims = _genuine_claims(make_user())
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    _refused(_signed(claims, key=stranger))


@pytest.mark.parametrize("where", ["jwk", "jku", "x5u"])
def test_a_key_named_in_the_header_is_not_used(make_user, where):
    """The key comes from the configured ring only; ``jwk``, ``jku``, ``x5u`` are ignored."""
    claims = _genuine_claims(make_user())
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    named = {
        "jwk": {**barong_jwt.public_jwk(stranger.public_key()), "kid": "mine"},
        "jku": "https://attacker.example/jwks.json",
        "x5u": "https://attacker.example/cert.pem",
    }[where]

    _refused(_signed(claims, key=stranger, headers={where: named, "kid": "mine"}))


@pytest.mark.parametrize(
    "change",
    [
        {"exp": int(time.time()) - 3600},  # expired
        {"nbf": int(time.time()) + 3600},  # not valid yet
        {"iat": int(time.time()) + 3600},  # issued in the future
        {"iss": "someone-else"},
        {"aud": ["someone-else"]},
        {"sub": "reset"},  # a password-reset token's subject
        {"sub": "confirmation"},
    ],
    ids=["exp", "nbf", "iat", "iss", "aud", "sub-reset", "sub-confirmation"],
)
def test_claims_outside_what_was_minted_are_refused(make_user, change):
    claims = {**_genuine_claims(make_user()), **change}

    _refused(_signed(claims))


@pytest.mark.parametrize("claim", ["exp", "iat", "jti", "sub"])
def test_a_required_claim_missing_is_refused(make_user, claim):
    claims = _genuine_claims(make_user())
    del claims[claim]

    _refused(_signed(claims))
