"""Signers, a management_api.yml written the way Barong's is, and a client that signs."""

import base64
import json
import time

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from management import config as management_config
from management.jws import jws_generate, payload_make
from tests.kyc.conftest import PNG


def _public_b64(key) -> str:
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.urlsafe_b64encode(pem).decode()


@pytest.fixture(scope="session")
def signer_keys():
    """RSA signers (as Barong's specs), one ES256 signer, and one no config knows."""
    return {
        "alex": (rsa.generate_private_key(public_exponent=65537, key_size=2048), "RS256"),
        "jeff": (rsa.generate_private_key(public_exponent=65537, key_size=2048), "RS256"),
        "eve": (ec.generate_private_key(ec.SECP256R1()), "ES256"),
        "mallory": (rsa.generate_private_key(public_exponent=65537, key_size=2048), "RS256"),
    }


def document_params(member, **extra) -> dict:
    """A document push for the member: a small PNG passport, good until 2099."""
    return {
        "uid": member.uid,
        "doc_type": "Passport",
        "doc_number": "AB123456",
        "filename": "passport",
        "file_ext": ".png",
        "upload": base64.b64encode(PNG).decode(),
        "doc_expire": "2099-01-01",
        **extra,
    }


SCOPES = (
    "read_users",
    "read_labels",
    "write_labels",
    "write_users",
    "tools",
    "otp_sign",
    "write_documents",
    "write_confirmations",
    "read_confirmations",
)


def config_text(signer_keys, *, scopes: dict | None = None, jwt: dict | None = None) -> str:
    keychain = {
        name: {"algorithm": alg, "value": _public_b64(key)}
        for name, (key, alg) in signer_keys.items()
        if name != "mallory"
    }
    default = {"permitted_signers": ["alex", "jeff", "eve"], "mandatory_signers": ["alex"]}
    body = {
        "keychain": keychain,
        "jwt": jwt or {},
        "scopes": scopes if scopes is not None else {scope: default for scope in SCOPES},
    }
    return json.dumps(body)  # YAML is a superset of JSON


@pytest.fixture
def management_file(settings, tmp_path, signer_keys):
    """Writes the config file; ``management_file(scopes=…, jwt=…)`` rewrites it."""
    path = tmp_path / "management_api.yml"
    settings.BARONG_MANAGEMENT_API_CONFIG = str(path)

    def write(**kwargs) -> str:
        path.write_text(config_text(signer_keys, **kwargs))
        management_config._cached.update(stamp=None)
        return str(path)

    write()
    return write


@pytest.fixture
def sign(signer_keys):
    """``sign(data, "alex", "jeff", claims={...})``: a JWS body as a service would send it."""

    def build(data, *signers, claims=None, payload=None):
        """``claims`` override the defaults; a claim set to None is left out."""
        body = payload if payload is not None else {**payload_make(data), **(claims or {})}
        body = {key: value for key, value in body.items() if value is not None}
        return jws_generate(body, [(s, *signer_keys[s]) for s in signers])

    return build


@pytest.fixture
def mgmt(api, management_file, sign):
    """``mgmt(path, data, signers=("alex",), method="post")``: a signed management call."""

    def call(path, data=None, *, signers=("alex",), method="post", claims=None, prefix=None):
        body = sign(data or {}, *signers, claims=claims)
        url = f"{prefix or '/api/v2/management/'}{path}"
        return getattr(api, method)(url, json.dumps(body), content_type="application/json")

    return call


def expired_claims() -> dict:
    now = int(time.time())
    return {"iat": now - 600, "exp": now - 300}
