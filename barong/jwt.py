"""The RS256 signing key, its JWK set, and minting/verifying Barong's JWTs."""

import base64
import hashlib
import json
import os
import secrets
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from rest_framework_simplejwt.backends import TokenBackend
from rest_framework_simplejwt.exceptions import TokenBackendError

from barong.jose import (
    JWSError,
    Signer,
    b64url_decode,
    b64url_encode,
    b64url_uint,
    compact_sign,
    compact_split,
    json_object,
)


@dataclass(frozen=True)
class KeyPair:
    kid: str
    private_key: Any  # RSAPrivateKey, or None for a verification-only (previous) key
    public_key: Any


def public_jwk(public_key) -> dict[str, str]:
    numbers = public_key.public_numbers()
    return {"kty": "RSA", "e": b64url_uint(numbers.e), "n": b64url_uint(numbers.n)}


def thumbprint(public_key) -> str:
    """RFC 7638 thumbprint: a stable kid derived from the key itself."""
    jwk = public_jwk(public_key)
    canonical = json.dumps({k: jwk[k] for k in ("e", "kty", "n")}, separators=(",", ":"))
    return b64url_encode(hashlib.sha256(canonical.encode()).digest())


def _pem(text: str, name: str = "JWT key") -> bytes:
    text = text.strip()
    if "-----BEGIN" not in text:
        try:
            text = base64.b64decode(text).decode()
        except ValueError as exc:
            raise ImproperlyConfigured(f"{name} must be PEM or base64 of PEM") from exc
    return text.encode()


def _generated(path: Path) -> bytes:
    """Development: an RSA key generated once and kept at ``path`` (mode 600), so tokens
    survive restarts. Written aside and linked into place: processes starting together
    (test workers, gunicorn's) all read the one key that won."""
    if not path.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        aside = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        handle = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(handle, pem)
        finally:
            os.close(handle)
        try:
            os.link(aside, path)
        except FileExistsError:
            pass  # another process generated it first: its key is the key
        finally:
            os.unlink(aside)
    return path.read_bytes()


def private_key_load(value: str, path: Path | None, *, name: str) -> Any:
    """A private key from ``value`` (PEM or base64 of the PEM), or when it is empty the
    development RSA key at ``path``."""
    if value:
        pem = _pem(value, name)
    elif path is not None:
        pem = _generated(path)
    else:
        raise ImproperlyConfigured(f"{name} is not set")
    try:
        return serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(f"{name} is not an unencrypted PEM private key") from exc


def key_pair(private_key: Any) -> KeyPair:
    """A signing key with its RFC 7638 thumbprint as kid."""
    public = private_key.public_key()
    return KeyPair(thumbprint(public), private_key, public)


def _load_private() -> Any:
    path = None if settings.JWT_PRIVATE_KEY else settings.JWT_PRIVATE_KEY_FILE
    return private_key_load(settings.JWT_PRIVATE_KEY, path, name="JWT_PRIVATE_KEY")


@lru_cache(maxsize=1)
def keyring() -> tuple[KeyPair, ...]:
    """Current signing key first, then an optional previous key kept for verification."""
    keys = [key_pair(_load_private())]
    if settings.JWT_PREVIOUS_PUBLIC_KEY:
        previous = serialization.load_pem_public_key(_pem(settings.JWT_PREVIOUS_PUBLIC_KEY))
        keys.append(KeyPair(thumbprint(previous), None, previous))
    return tuple(keys)


def signing_key() -> KeyPair:
    return keyring()[0]


def jwks() -> dict[str, list[dict[str, str]]]:
    return {
        "keys": [
            {**public_jwk(pair.public_key), "kid": pair.kid, "alg": "RS256", "use": "sig"}
            for pair in keyring()
        ]
    }


# Claims every Barong JWT carries (PyJWT's ``require``, which simplejwt does not pass).
REQUIRED_CLAIMS = ("exp", "iat", "jti", "sub")
MAX_TOKEN_CHARS = 8192


def encode(payload: dict[str, Any], *, sub: str = "session", lifetime: int | None = None) -> str:
    """Sign Barong claims: iat, exp, sub, iss, aud and a fresh jti are added here.

    Signed by barong/jose.py, not simplejwt's ``TokenBackend.encode``: that one writes no
    ``kid`` header, and upstreams pick the key from the JWKS by it during a rotation; it
    is no faster (docs/architecture.md, "JOSE").
    """
    now = int(time.time())
    claims = {
        **payload,
        "iat": now,
        "exp": now + (lifetime if lifetime is not None else settings.BARONG_JWT_EXPIRE_TIME),
        "sub": sub,
        "iss": settings.JWT_ISSUER,
        "aud": settings.JWT_AUDIENCE,
        "jti": secrets.token_hex(10),
    }
    pair = signing_key()
    signer = Signer(pair.private_key, "RS256", protected={"typ": "JWT", "kid": pair.kid})
    return compact_sign(claims, signer)


def token_backend(pair: KeyPair) -> TokenBackend:
    """simplejwt's verifier for one key of the ring, with this server's audience, issuer
    and clock-skew allowance (read each time: tests and operators change them)."""
    return TokenBackend(
        "RS256",
        verifying_key=pair.public_key,
        audience=settings.JWT_AUDIENCE,
        issuer=settings.JWT_ISSUER,
        leeway=settings.JWT_LEEWAY,
    )


def _header(token: str) -> dict[str, Any]:
    try:
        protected, _, _ = compact_split(token)
        return json_object(b64url_decode(protected), "header")
    except JWSError as exc:
        raise jwt.DecodeError(str(exc)) from exc


def decode(token: str, *, sub: str) -> dict[str, Any]:
    """Verify signature (any key of the ring), exp/iat/nbf, iss, aud, jti and ``sub``.

    simplejwt's ``TokenBackend`` verifies (PyJWT refuses an iat, nbf or exp beyond the
    leeway); the key is the ring's entry named by ``kid``, else each key in turn, so a
    token of the previous key verifies during a rotation. Raises
    ``jwt.InvalidTokenError`` on any failure.
    """
    if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS:
        raise jwt.InvalidTokenError("token too long")
    header = _header(token)
    if header.get("alg") != "RS256":
        raise jwt.InvalidAlgorithmError("RS256 only")
    candidates = [p for p in keyring() if p.kid == header.get("kid")] or list(keyring())
    last_error: Exception = jwt.InvalidSignatureError("no key")
    for pair in candidates:
        try:
            claims = token_backend(pair).decode(token)
        except TokenBackendError as exc:
            if isinstance(exc.__cause__, jwt.InvalidSignatureError):
                last_error = exc.__cause__
                continue
            raise jwt.InvalidTokenError(str(exc)) from exc
        for claim in REQUIRED_CLAIMS:
            if claim not in claims:
                raise jwt.MissingRequiredClaimError(claim)
        if claims.get("sub") != sub:
            raise jwt.InvalidTokenError("wrong subject")
        return claims
    raise last_error
