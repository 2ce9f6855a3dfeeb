"""Event API bodies: a JWS in JSON general serialization, signed RS256 with the JWT key.

The shape is what Barong's consumers (its mailer, Peatio, applogic) verify:
``{"payload": b64url(claims), "signatures": [{"protected": b64url(header),
"header": {"kid": "barong"}, "signature": b64url(sig)}]}``. The protected header also
names the key's JWKS ``kid`` so a consumer can pick the key from /.well-known/jwks.json.
"""

import base64
import json
import time
from typing import Any

from jwt.algorithms import RSAAlgorithm

from barong import jwt as barong_jwt

SIGNER = "barong"  # Barong's signer name: the unprotected header's kid and the claims' iss
LIFETIME = 60  # seconds, as Barong


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def event_sign(*, jti: str, event: dict[str, Any], now: int | None = None) -> dict[str, Any]:
    """The signed body of one event; ``jti`` is the outbox row's, so redeliveries share it."""
    issued = int(time.time()) if now is None else now
    claims = {"iss": SIGNER, "jti": jti, "iat": issued, "exp": issued + LIFETIME, "event": event}
    pair = barong_jwt.signing_key()
    protected = _b64url(_json({"alg": "RS256", "kid": pair.kid}))
    payload = _b64url(_json(claims))
    signer = RSAAlgorithm(RSAAlgorithm.SHA256)
    signature = signer.sign(f"{protected}.{payload}".encode(), pair.private_key)
    return {
        "payload": payload,
        "signatures": [
            {"protected": protected, "header": {"kid": SIGNER}, "signature": _b64url(signature)}
        ],
    }
