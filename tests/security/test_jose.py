"""barong/jose.py: the one place that signs and verifies JWS, in its three serializations.

What is signed here must read back through the independent verifier (PyJWT for the
compact form), and what a hostile party changes must fail."""

import ast
import json
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from barong import jose

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
CLAIMS = {"iat": 1, "exp": 2, "data": {"name": "Zoë \ud800"}}


def _check(document: dict, entry: dict, key, algorithm: str) -> dict:
    return jose.signature_check(
        protected=entry["protected"],
        payload_b64=document["payload"],
        signature=entry["signature"],
        algorithm=algorithm,
        public_key=key.public_key(),
        who="test",
    )


def test_general_serialization_carries_one_signature_per_signer():
    signers = [
        jose.Signer(RSA_KEY, "RS256", header={"kid": "applogic"}),
        jose.Signer(EC_KEY, "ES256", protected={"kid": "k2"}, header={"kid": "peatio"}),
    ]
    document = jose.general_sign(CLAIMS, signers)
    assert json.loads(jose.b64url_decode(document["payload"])) == CLAIMS
    first, second = document["signatures"]
    assert first["header"] == {"kid": "applogic"}
    assert second["header"] == {"kid": "peatio"}
    assert _check(document, first, RSA_KEY, "RS256") == {"alg": "RS256"}
    assert _check(document, second, EC_KEY, "ES256") == {"alg": "ES256", "kid": "k2"}
    with pytest.raises(jose.JWSError):  # one signer's signature is not another's
        _check(document, first, EC_KEY, "ES256")


def test_flattened_serialization_is_one_signature_at_the_top():
    document = jose.flattened_sign(CLAIMS, jose.Signer(RSA_KEY, "RS256", header={"kid": "x"}))
    assert set(document) == {"payload", "protected", "header", "signature"}
    assert _check(document, document, RSA_KEY, "RS256") == {"alg": "RS256"}


def test_compact_serialization_is_a_jwt_pyjwt_reads():
    token = jose.compact_sign({"sub": "s", "exp": 2**40}, jose.Signer(RSA_KEY, "RS256"))
    assert jwt.decode(token, RSA_KEY.public_key(), algorithms=["RS256"])["sub"] == "s"
    payload = jose.compact_verify(token, algorithm="RS256", public_key=RSA_KEY.public_key())
    assert json.loads(payload)["sub"] == "s"
    general = jose.general_sign(b"raw", [jose.Signer(RSA_KEY, "RS256", header={"kid": "a"})])
    compact = jose.general_to_compact(general)
    assert jose.compact_verify(compact, algorithm="RS256", public_key=RSA_KEY.public_key()) == (
        b"raw"
    )


@pytest.mark.parametrize(
    "tamper",
    [
        lambda d, e: d.update(payload=jose.payload_encode({**CLAIMS, "iat": 0})),
        lambda d, e: d.update(payload=d["payload"] + "="),  # padded
        lambda d, e: d.update(payload=" " + d["payload"]),
        lambda d, e: e.update(protected=jose.b64url_encode(b'{"alg":"none"}')),
        lambda d, e: e.update(protected=jose.b64url_encode(b'{"alg":"HS256"}')),
        lambda d, e: e.update(protected=jose.b64url_encode(b'{"alg":"RS256","crit":["x"]}')),
        lambda d, e: e.update(protected=jose.b64url_encode(b'{"alg":"RS256","b64":false}')),
        lambda d, e: e.update(protected=jose.b64url_encode(b"[1]")),
        lambda d, e: e.update(signature=e["signature"][:-4]),
        lambda d, e: e.update(signature="!!"),
    ],
)
def test_a_changed_document_fails(tamper):
    document = jose.general_sign(CLAIMS, [jose.Signer(RSA_KEY, "RS256", header={"kid": "a"})])
    entry = document["signatures"][0]
    tamper(document, entry)
    with pytest.raises(jose.JWSError):
        _check(document, entry, RSA_KEY, "RS256")


@pytest.mark.parametrize("token", ["a.b", "a.b.c.d", "a=.b.c", 7, "x.y.!"])
def test_a_malformed_compact_jws_fails(token):
    with pytest.raises(jose.JWSError):
        jose.compact_verify(token, algorithm="RS256", public_key=RSA_KEY.public_key())


def test_no_other_module_signs_or_encodes_base64url():
    """The one JOSE module: no app reaches for PyJWT's algorithms or base64url itself."""
    root = Path(__file__).resolve().parents[2]
    offenders = []
    for package in ("accounts", "apikeys", "barong", "events", "management", "permissions"):
        for path in (root / package).rglob("*.py"):
            if path.name == "jose.py" or "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text())
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.module == "jwt.algorithms":
                    offenders.append(f"{path.relative_to(root)} imports jwt.algorithms")
                if (
                    isinstance(node, ast.Attribute)
                    and node.attr == "encode"
                    and isinstance(node.value, ast.Name)
                    and node.value.id == "jwt"
                ):
                    offenders.append(f"{path.relative_to(root)} signs with PyJWT's encode")
                if isinstance(node, ast.Attribute) and node.attr == "urlsafe_b64decode":
                    offenders.append(f"{path.relative_to(root)} decodes base64url")
                if (
                    isinstance(node, ast.Attribute)
                    and node.attr == "urlsafe_b64encode"
                    and path.name != "keys.py"  # the keychain's PEM is padded base64, not JOSE
                ):
                    offenders.append(f"{path.relative_to(root)} encodes base64url")
    assert offenders == []
