"""E-mail confirmation and password-reset tokens: RS256 JWTs, single-use, newest only.

A token is a Barong JWT (``sub`` = ``confirmation`` or ``reset``, claims ``email`` and
``uid``). The cache remembers, per user and purpose, which jti was issued last, and
keeps one "unused" marker for it. Issuing a token replaces the marker, so every older
token stops working; using a token deletes the marker, and ``cache.delete`` reports
whether the key was still there, so two concurrent uses of one token succeed once.
"""

from typing import Any

import jwt
from django.conf import settings
from django.core.cache import cache

from accounts.models import User
from barong import jwt as barong_jwt
from barong.api.errors import ApiError
from barong.cache import batch

CONFIRMATION = "confirmation"
RESET = "reset"
PURPOSES = (CONFIRMATION, RESET)


def _latest_key(purpose: str, uid: str) -> str:
    return f"token:{purpose}:{uid}:latest"


def _unused_key(purpose: str, uid: str, jti: str) -> str:
    return f"token:{purpose}:{uid}:unused:{jti}"


def token_issue(*, user: User, purpose: str) -> str:
    """Mint a token for ``user``; it is now the only valid one of its purpose."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown token purpose {purpose!r}")
    lifetime = settings.BARONG_JWT_EXPIRE_TIME
    token = barong_jwt.encode({"email": user.email, "uid": user.uid}, sub=purpose)
    jti = jwt.decode(token, options={"verify_signature": False})["jti"]
    # New marker first, then the pointer (which answers the token it replaces), in one
    # round trip; then the old marker goes: at no moment are two tokens both "latest and
    # unused". A first token (a sign-up) needs no second round trip.
    _, previous = batch(
        [
            ("set", _unused_key(purpose, user.uid, jti), 1, lifetime, None),
            ("swap", _latest_key(purpose, user.uid), jti, lifetime),
        ]
    )
    if previous and previous != jti:
        cache.delete(_unused_key(purpose, user.uid, previous))
    return token


def token_decode(*, token: str, purpose: str) -> dict[str, Any]:
    """Verify signature, expiry, issuer, audience and subject; failure is 403 (Barong 2.4)."""
    try:
        claims = barong_jwt.decode(token, sub=purpose)
    except (jwt.InvalidTokenError, ValueError, TypeError) as exc:
        raise ApiError("jwt.decode_and_verify", 403) from exc
    if not isinstance(claims.get("email"), str) or not isinstance(claims.get("uid"), str):
        raise ApiError("jwt.decode_and_verify", 403)
    return claims


def token_usable(*, claims: dict[str, Any], purpose: str) -> bool:
    """The token is the newest of its purpose for its user and was not used yet."""
    uid, jti = claims["uid"], str(claims["jti"])
    return cache.get(_latest_key(purpose, uid)) == jti and bool(
        cache.get(_unused_key(purpose, uid, jti))
    )


def token_consume(*, claims: dict[str, Any], purpose: str) -> None:
    """Use the token up; a used, superseded or concurrently used token is 422."""
    uid, jti = claims["uid"], str(claims["jti"])
    if cache.get(_latest_key(purpose, uid)) != jti:
        raise ApiError("identity.user.utilized_token")
    if not cache.delete(_unused_key(purpose, uid, jti)):  # atomic: one caller wins
        raise ApiError("identity.user.utilized_token")
