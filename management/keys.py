"""The key of otp/sign's ``barong`` signature, kept apart from the key that signs JWTs.

Barong 2.4 countersigned with its JWT key, so whatever otp/sign signed verified against
the JWK set every upstream trusts for session tokens. Here the countersignature has its
own RSA key (``BARONG_MANAGEMENT_SIGNING_KEY``, RS256), its own ``kid`` (RFC 7638
thumbprint) in the protected header, and its own JWK set at ``GET
/api/v2/management/jwks``; ``/api/v2/identity/jwks`` never lists it. Development generates
one into the data directory. Production without the variable keeps Barong 2.4's
behaviour, signing with the JWT key, so that Peatio keychains holding Barong's JWT public
key under ``barong`` keep working; ``manage.py check --deploy`` warns
(docs/compatibility.md, "otp/sign").
"""

import base64
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from barong import jwt as barong_jwt
from barong.jwt import KeyPair

ALGORITHM = "RS256"
SETTING = "BARONG_MANAGEMENT_SIGNING_KEY"


@lru_cache(maxsize=4)
def _key(value: str, path: str | None) -> KeyPair:
    private = barong_jwt.private_key_load(value, Path(path) if path else None, name=SETTING)
    if not isinstance(private, rsa.RSAPrivateKey) or private.key_size < 2048:
        raise ImproperlyConfigured(f"{SETTING} must be an RSA key of 2048 bits or more (RS256)")
    return barong_jwt.key_pair(private)


def management_key_source() -> str:
    """Where otp/sign's key comes from, in words (for the command and the checks)."""
    if settings.BARONG_MANAGEMENT_SIGNING_KEY:
        return SETTING
    if settings.PRODUCTION:
        return f"JWT_PRIVATE_KEY ({SETTING} is not set)"
    return f"the development key {settings.BARONG_MANAGEMENT_SIGNING_KEY_FILE}"


def management_signing_key() -> KeyPair:
    """The key otp/sign countersigns with (read once per value of the settings)."""
    if settings.BARONG_MANAGEMENT_SIGNING_KEY:
        return _key(settings.BARONG_MANAGEMENT_SIGNING_KEY, None)
    if settings.PRODUCTION:
        return barong_jwt.signing_key()
    return _key("", str(settings.BARONG_MANAGEMENT_SIGNING_KEY_FILE))


def management_jwks() -> dict[str, list[dict[str, str]]]:
    """The countersignature's public key as a JWK set (the only key in it)."""
    pair = management_signing_key()
    jwk = barong_jwt.public_jwk(pair.public_key)
    return {"keys": [{**jwk, "kid": pair.kid, "alg": ALGORITHM, "use": "sig"}]}


def management_keychain_value() -> str:
    """URL-safe base64 of the public PEM: the ``value`` of the ``barong`` entry in the
    keychain of a service that checks the countersignature (Peatio's management_api_v1.yml)."""
    pem = management_signing_key().public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.urlsafe_b64encode(pem).decode("ascii")
