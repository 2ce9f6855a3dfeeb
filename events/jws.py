"""Event API bodies: a JWS in JSON general serialization, signed RS256 with the JWT key.

The shape is what Barong's consumers (its mailer, Peatio, applogic) verify:
``{"payload": b64url(claims), "signatures": [{"protected": b64url(header),
"header": {"kid": "barong"}, "signature": b64url(sig)}]}``. The protected header also
names the key's JWKS ``kid`` so a consumer can pick the key from /.well-known/jwks.json.
Signing is barong/jose.py's.
"""

import time
from typing import Any

from barong import jwt as barong_jwt
from barong.jose import Signer, general_sign

SIGNER = "barong"  # Barong's signer name: the unprotected header's kid and the claims' iss
LIFETIME = 60  # seconds, as Barong


def event_sign(*, jti: str, event: dict[str, Any], now: int | None = None) -> dict[str, Any]:
    """The signed body of one event; ``jti`` is the outbox row's, so redeliveries share it."""
    issued = int(time.time()) if now is None else now
    claims = {"iss": SIGNER, "jti": jti, "iat": issued, "exp": issued + LIFETIME, "event": event}
    pair = barong_jwt.signing_key()
    signer = Signer(pair.private_key, "RS256", protected={"kid": pair.kid}, header={"kid": SIGNER})
    return general_sign(claims, [signer])
