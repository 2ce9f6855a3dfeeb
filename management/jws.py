"""JWS in JSON general serialization, signed by several parties (RFC 7515, 7.2.1).

Barong's services speak it through the ``jwt-multisig`` gem::

    {"payload": "<b64url JSON>",
     "signatures": [{"protected": "<b64url {"alg": …}>", "header": {"kid": "<signer>"},
                     "signature": "<b64url>"}, …]}

Each signature covers ``protected + "." + payload`` as received. Signatures are checked
with PyJWT's algorithm objects (RSA, RSA-PSS and ECDSA through ``cryptography``); the
algorithm comes from the keychain entry, and a protected header naming another one fails.
"""

import base64
import binascii
import json
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

from jwt.algorithms import get_default_algorithms

B64URL_RE = re.compile(r"\A[A-Za-z0-9_-]*\Z")
MAX_SIGNATURES = 16
MAX_HEADER_CHARS = 4096
MAX_SIGNATURE_CHARS = 2048
MAX_KID_CHARS = 255

_ALGORITHMS = get_default_algorithms()


class JWSError(ValueError):
    """The JWS is malformed or a signature does not verify (the reason is for the log only)."""


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: Any) -> bytes:
    """Strict base64url (RFC 7515, 2): the URL-safe alphabet, no padding, no whitespace."""
    if not isinstance(text, str) or not B64URL_RE.match(text) or len(text) % 4 == 1:
        raise JWSError("not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise JWSError("not base64url") from exc


def json_strict_constant(name: str) -> Any:
    """``NaN``, ``Infinity`` and ``-Infinity`` are not JSON (RFC 8259, 6): Python's parser
    reads them by default, Ruby's refuses them; refused here too."""
    raise ValueError(f"{name} is not JSON")


def _json_object(raw: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(raw.decode("utf-8"), parse_constant=json_strict_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise JWSError(f"{what} is not JSON") from exc
    if not isinstance(value, dict):
        raise JWSError(f"{what} is not a JSON object")
    return value


@dataclass(frozen=True)
class Signature:
    kid: str
    protected: str
    signature: str


@dataclass(frozen=True)
class ParsedJWS:
    payload_b64: str
    payload: dict[str, Any]
    signatures: tuple[Signature, ...]

    @property
    def kids(self) -> list[str]:
        return [s.kid for s in self.signatures]


def jws_parse(document: Any) -> ParsedJWS:
    """The JWS's parts, checked for shape and size; nothing is verified yet."""
    if not isinstance(document, dict):
        raise JWSError("the JWS is not a JSON object")
    payload_b64 = document.get("payload")
    payload = _json_object(b64url_decode(payload_b64), "payload")
    raw_signatures = document.get("signatures")
    if not isinstance(raw_signatures, list) or not raw_signatures:
        raise JWSError("signatures is not a non-empty list")
    if len(raw_signatures) > MAX_SIGNATURES:
        raise JWSError("too many signatures")
    signatures = []
    for item in raw_signatures:
        if not isinstance(item, dict) or not isinstance(item.get("header"), dict):
            raise JWSError("a signature has no header")
        kid = item["header"].get("kid")
        protected, signature = item.get("protected"), item.get("signature")
        if not isinstance(kid, str) or not kid or len(kid) > MAX_KID_CHARS:
            raise JWSError("a signature has no usable kid")
        if not isinstance(protected, str) or len(protected) > MAX_HEADER_CHARS:
            raise JWSError("a signature has no usable protected header")
        if not isinstance(signature, str) or len(signature) > MAX_SIGNATURE_CHARS:
            raise JWSError("a signature has no usable signature value")
        signatures.append(Signature(kid=kid, protected=protected, signature=signature))
    return ParsedJWS(payload_b64=payload_b64, payload=payload, signatures=tuple(signatures))


def signature_verify(
    *, jws: ParsedJWS, signature: Signature, algorithm: str, public_key: Any
) -> None:
    """Raise JWSError unless ``signature`` is ``algorithm``'s signature of the payload."""
    header = _json_object(b64url_decode(signature.protected), "protected header")
    if header.get("alg") != algorithm:
        raise JWSError(f"signer {signature.kid} used alg {header.get('alg')!r}, not {algorithm}")
    if "crit" in header or header.get("b64") is False:
        raise JWSError(f"signer {signature.kid} sent header parameters this server does not know")
    signing_input = f"{signature.protected}.{jws.payload_b64}".encode("ascii")
    raw = b64url_decode(signature.signature)
    try:
        valid = _ALGORITHMS[algorithm].verify(signing_input, public_key, raw)
    except Exception as exc:  # cryptography raises several types for malformed signatures
        raise JWSError(f"signature of {signature.kid} is malformed") from exc
    if not valid:
        raise JWSError(f"signature of {signature.kid} does not verify")


def signature_make(
    *, payload_b64: str, kid: str, private_key: Any, algorithm: str, header: dict | None = None
) -> dict[str, Any]:
    """One entry of ``signatures``: ``kid`` signs the payload with ``algorithm``."""
    protected = b64url_encode(
        json.dumps({"alg": algorithm, **(header or {})}, separators=(",", ":")).encode()
    )
    signing_input = f"{protected}.{payload_b64}".encode("ascii")
    signature = _ALGORITHMS[algorithm].sign(signing_input, private_key)
    return {"protected": protected, "header": {"kid": kid}, "signature": b64url_encode(signature)}


def jws_add_signature(
    document: dict[str, Any], *, kid: str, private_key: Any, algorithm: str, header: dict | None
) -> dict[str, Any]:
    """The JWS with ``kid``'s signature replaced by a fresh one (jwt-multisig's ``add_jws``)."""
    jws = jws_parse(document)
    kept = [
        {"protected": s.protected, "header": {"kid": s.kid}, "signature": s.signature}
        for s in jws.signatures
        if s.kid != kid
    ]
    mine = signature_make(
        payload_b64=jws.payload_b64,
        kid=kid,
        private_key=private_key,
        algorithm=algorithm,
        header=header,
    )
    return {"payload": jws.payload_b64, "signatures": [*kept, mine]}


def payload_make(data: dict[str, Any], *, lifetime: int = 60, now: int | None = None) -> dict:
    """Claims a careful client sends: the call's ``data`` with iat, exp and a fresh jti."""
    issued = int(time.time()) if now is None else now
    return {"iat": issued, "exp": issued + lifetime, "jti": secrets.token_hex(16), "data": data}


def jws_generate(payload: dict[str, Any], signers: list[tuple[str, Any, str]]) -> dict[str, Any]:
    """A JWS of ``payload`` signed by each (kid, private key, algorithm)."""
    payload_b64 = b64url_encode(json.dumps(payload, separators=(",", ":")).encode())
    return {
        "payload": payload_b64,
        "signatures": [
            signature_make(payload_b64=payload_b64, kid=kid, private_key=key, algorithm=alg)
            for kid, key, alg in signers
        ],
    }


def algorithm_for_key(private_key: Any) -> str:
    """The usual algorithm for a key: RS256 for RSA, ES256/384/512 by curve."""
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    if isinstance(private_key, rsa.RSAPrivateKey):
        return "RS256"
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        return {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}[
            private_key.curve.name
        ]
    raise ValueError("only RSA and EC keys can sign management calls")
