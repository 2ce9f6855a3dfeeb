"""Management calls: JWS in JSON general serialization, signed by several parties
(RFC 7515, 7.2.1), as Barong's services speak it through the ``jwt-multisig`` gem::

    {"payload": "<b64url JSON>",
     "signatures": [{"protected": "<b64url {"alg": …}>", "header": {"kid": "<signer>"},
                     "signature": "<b64url>"}, …]}

Signing and verifying are barong/jose.py's; what is here is this API's reading of the
document: its size limits, the signer named by the unprotected ``kid``, and the algorithm
taken from the keychain entry (a protected header naming another one fails).
"""

import secrets
import time
from dataclasses import dataclass
from typing import Any

from barong.jose import (
    JWSError,
    Signer,
    b64url_decode,
    b64url_encode,
    general_sign,
    json_object,
    json_strict_constant,
    signature_check,
    signature_entry,
)

__all__ = [
    "JWSError",
    "ParsedJWS",
    "Signature",
    "algorithm_for_key",
    "b64url_decode",
    "b64url_encode",
    "json_strict_constant",
    "jws_add_signature",
    "jws_generate",
    "jws_parse",
    "payload_make",
    "signature_make",
    "signature_verify",
]

MAX_SIGNATURES = 16
MAX_HEADER_CHARS = 4096
MAX_SIGNATURE_CHARS = 2048
MAX_KID_CHARS = 255


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
    payload = json_object(b64url_decode(payload_b64), "payload")
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
    signature_check(
        protected=signature.protected,
        payload_b64=jws.payload_b64,
        signature=signature.signature,
        algorithm=algorithm,
        public_key=public_key,
        who=signature.kid,
    )


def _signer(kid: str, private_key: Any, algorithm: str, header: dict | None = None) -> Signer:
    return Signer(private_key, algorithm, protected=header, header={"kid": kid})


def signature_make(
    *, payload_b64: str, kid: str, private_key: Any, algorithm: str, header: dict | None = None
) -> dict[str, Any]:
    """One entry of ``signatures``: ``kid`` signs the payload with ``algorithm``."""
    return signature_entry(payload_b64, _signer(kid, private_key, algorithm, header))


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
    return general_sign(payload, [_signer(kid, key, alg) for kid, key, alg in signers])


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
