"""JSON Web Signatures (RFC 7515) in one place: base64url, signing and verifying.

Every signature Barong writes or reads goes through here: the JWTs of barong/jwt.py
(compact), the event bodies of events/jws.py and the management calls of
management/jws.py (general JSON serialization, several signers), or one signer's flattened
form. The arithmetic is PyJWT's algorithm objects on ``cryptography`` (the library
simplejwt verifies with); what is here is the part no library does the way Barong's peers
need it: strict base64url, the algorithm taken from the verifier's key and never from the
header, and a signature checked against exactly the bytes received (docs/architecture.md,
"JOSE").
"""

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any

from jwt.algorithms import get_default_algorithms

B64URL_RE = re.compile(r"\A[A-Za-z0-9_-]*\Z")

ALGORITHMS = get_default_algorithms()  # "none" is not among them


class JWSError(ValueError):
    """The JWS is malformed or a signature does not verify (the reason is for the log only)."""


def b64url_encode(data: bytes) -> str:
    """base64url without padding (RFC 7515, 2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: Any) -> bytes:
    """Strict base64url (RFC 7515, 2): the URL-safe alphabet, no padding, no whitespace."""
    if not isinstance(text, str) or not B64URL_RE.match(text) or len(text) % 4 == 1:
        raise JWSError("not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise JWSError("not base64url") from exc


def b64url_uint(number: int) -> str:
    """A JWK's unsigned big-endian integer (RFC 7518, 2): ``n`` and ``e`` of an RSA key."""
    return b64url_encode(number.to_bytes((number.bit_length() + 7) // 8, "big"))


def json_strict_constant(name: str) -> Any:
    """``NaN``, ``Infinity`` and ``-Infinity`` are not JSON (RFC 8259, 6): Python's parser
    reads them by default, Ruby's refuses them; refused here too."""
    raise ValueError(f"{name} is not JSON")


def json_bytes(value: Any) -> bytes:
    """Compact JSON, the bytes a header or payload is encoded from: ASCII with ``\\u``
    escapes, so any string (a lone surrogate too) encodes and every parser reads it."""
    return json.dumps(value, separators=(",", ":")).encode("ascii")


def json_object(raw: bytes, what: str) -> dict[str, Any]:
    """``raw`` as a JSON object; JWSError naming ``what`` otherwise (never another error)."""
    try:
        value = json.loads(raw.decode("utf-8"), parse_constant=json_strict_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise JWSError(f"{what} is not JSON") from exc
    if not isinstance(value, dict):
        raise JWSError(f"{what} is not a JSON object")
    return value


def _signing_input(protected: str, payload_b64: str) -> bytes:
    return f"{protected}.{payload_b64}".encode("ascii")


def _algorithm(name: str):
    try:
        return ALGORITHMS[name]
    except KeyError as exc:
        raise JWSError(f"algorithm {name!r} is not supported") from exc


# ---------------------------------------------------------------- signing


@dataclass(frozen=True)
class Signer:
    """Who signs: the private key, its algorithm, the protected header's extra members
    (``kid`` of a JWKS, say) and the unprotected header (jwt-multisig's signer ``kid``)."""

    private_key: Any
    algorithm: str
    protected: dict[str, Any] | None = None
    header: dict[str, Any] | None = None


def signature_entry(payload_b64: str, signer: Signer) -> dict[str, Any]:
    """One member of a general JWS's ``signatures``: protected, header, signature."""
    protected = b64url_encode(json_bytes({"alg": signer.algorithm, **(signer.protected or {})}))
    raw = _algorithm(signer.algorithm).sign(
        _signing_input(protected, payload_b64), signer.private_key
    )
    entry: dict[str, Any] = {"protected": protected}
    if signer.header is not None:
        entry["header"] = signer.header
    entry["signature"] = b64url_encode(raw)
    return entry


def payload_encode(payload: dict[str, Any] | bytes) -> str:
    """The payload's base64url: a claims object as compact JSON, bytes as they are."""
    return b64url_encode(payload if isinstance(payload, bytes) else json_bytes(payload))


def general_sign(payload: dict[str, Any] | bytes, signers: list[Signer]) -> dict[str, Any]:
    """General JSON serialization (RFC 7515, 7.2.1): one payload, a signature per signer."""
    payload_b64 = payload_encode(payload)
    return {
        "payload": payload_b64,
        "signatures": [signature_entry(payload_b64, signer) for signer in signers],
    }


def flattened_sign(payload: dict[str, Any] | bytes, signer: Signer) -> dict[str, Any]:
    """Flattened JSON serialization (RFC 7515, 7.2.2): one signer, no ``signatures`` list."""
    payload_b64 = payload_encode(payload)
    return {"payload": payload_b64, **signature_entry(payload_b64, signer)}


def compact_sign(payload: dict[str, Any] | bytes, signer: Signer) -> str:
    """Compact serialization (RFC 7515, 7.1): ``protected.payload.signature``, a JWT when
    the payload is a claims object. An unprotected header has no place in it."""
    payload_b64 = payload_encode(payload)
    entry = signature_entry(
        payload_b64, Signer(signer.private_key, signer.algorithm, signer.protected)
    )
    return f"{entry['protected']}.{payload_b64}.{entry['signature']}"


def general_to_compact(document: dict[str, Any], index: int = 0) -> str:
    """One signature of a general JWS as a compact JWS (its unprotected header dropped)."""
    entry = document["signatures"][index]
    return f"{entry['protected']}.{document['payload']}.{entry['signature']}"


# ---------------------------------------------------------------- verifying


def signature_check(
    *, protected: str, payload_b64: str, signature: str, algorithm: str, public_key: Any, who: str
) -> dict[str, Any]:
    """The protected header, once ``signature`` is ``algorithm``'s signature over exactly
    ``protected.payload_b64`` as received; JWSError otherwise.

    ``algorithm`` is the verifier's (the key's), never the header's: a header naming
    another one (``none``, ``HS256`` over a public key) fails, and so do header parameters
    that change what is signed (``crit``, ``b64: false``), which this server does not know.
    """
    header = json_object(b64url_decode(protected), "protected header")
    if header.get("alg") != algorithm:
        raise JWSError(f"signer {who} used alg {header.get('alg')!r}, not {algorithm}")
    if "crit" in header or header.get("b64") is False:
        raise JWSError(f"signer {who} sent header parameters this server does not know")
    raw = b64url_decode(signature)
    try:
        valid = _algorithm(algorithm).verify(
            _signing_input(protected, payload_b64), public_key, raw
        )
    except Exception as exc:  # cryptography raises several types for malformed signatures
        raise JWSError(f"signature of {who} is malformed") from exc
    if not valid:
        raise JWSError(f"signature of {who} does not verify")
    return header


def compact_split(token: Any) -> tuple[str, str, str]:
    """The three parts of a compact JWS, each checked to be base64url."""
    if not isinstance(token, str):
        raise JWSError("a compact JWS is a string")
    parts = token.split(".")
    if len(parts) != 3:
        raise JWSError("a compact JWS has three parts")
    for part in parts:
        b64url_decode(part)
    return parts[0], parts[1], parts[2]


def compact_verify(token: Any, *, algorithm: str, public_key: Any) -> bytes:
    """The payload of a compact JWS signed by ``public_key`` with ``algorithm``."""
    protected, payload_b64, signature = compact_split(token)
    signature_check(
        protected=protected,
        payload_b64=payload_b64,
        signature=signature,
        algorithm=algorithm,
        public_key=public_key,
        who="compact",
    )
    return b64url_decode(payload_b64)
