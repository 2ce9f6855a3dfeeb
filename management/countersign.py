"""What otp/sign agrees to countersign: a management call's payload, never a session token.

The countersignature is a JWS signature; its compact form ``protected.payload.signature``
is a JWT. Barong 2.4 signed any payload with its JWT key, so a payload shaped like a
session token (``sub: session``, ``iss: barong``, ``aud``, a superadmin's ``uid``) came
back as a valid session JWT. A management call's payload looks like applogic's
(``{data: {...}, iat, exp: iat + 60, jti, iss: "applogic"}``): that shape is required,
and the claims that make a session token are refused, whatever key signs
(management/keys.py). The rules are checked before the user's TOTP code is used.
"""

import json
import time
from typing import Any

from django.conf import settings

from barong.jose import JWSError, b64url_decode, json_strict_constant
from management.jws import ParsedJWS
from management.verification import numeric_date

# A session token is recognised by these; any spelling of them is refused, since an
# upstream's JWT library may read names case-insensitively.
SESSION_CLAIMS = ("sub", "aud")


def _members_once(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose member names are all different (RFC 7519, 4): parsers differ on
    which of two equal names wins (Python's and Ruby's the last, others the first)."""
    names = [name for name, _ in pairs]
    if len(set(names)) != len(names):
        raise JWSError("the payload repeats a member name")
    return dict(pairs)


def _payload(jws: ParsedJWS) -> dict[str, Any]:
    try:
        payload = json.loads(
            b64url_decode(jws.payload_b64).decode("utf-8"),
            object_pairs_hook=_members_once,
            parse_constant=json_strict_constant,
        )
    except JWSError:
        raise
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise JWSError("the payload is not JSON") from exc
    if not isinstance(payload, dict):
        raise JWSError("the payload is not a JSON object")
    return payload


def _name(name: str) -> str:
    return name.strip().casefold()


def countersign_check(jws: ParsedJWS, *, now: float | None = None) -> None:
    """JWSError unless the payload is a management call's: a ``data`` object, integer
    ``iat`` and ``exp`` (future, at most ``BARONG_MANAGEMENT_MAX_LIFETIME`` ahead), and no
    ``sub``, ``aud`` or ``iss`` naming this server (``JWT_ISSUER``)."""
    moment = time.time() if now is None else now
    payload = _payload(jws)
    for name, value in payload.items():
        claim = _name(name)
        if claim in SESSION_CLAIMS:
            raise JWSError(f"the payload carries {claim}, a claim of session tokens")
        if claim == "iss" and (
            not isinstance(value, str) or _name(value) == _name(settings.JWT_ISSUER)
        ):
            raise JWSError("the payload's iss is this server's")
    if not isinstance(payload.get("data"), dict):
        raise JWSError("the payload has no data object")
    iat, exp = numeric_date(payload, "iat"), numeric_date(payload, "exp")
    if iat is None or exp is None:
        raise JWSError("the payload needs iat and exp")
    if exp <= moment:
        raise JWSError("the payload has expired")
    if exp > moment + settings.BARONG_MANAGEMENT_MAX_LIFETIME + settings.BARONG_MANAGEMENT_LEEWAY:
        raise JWSError("the payload's exp is further ahead than BARONG_MANAGEMENT_MAX_LIFETIME")
