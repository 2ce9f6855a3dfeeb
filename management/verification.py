"""Who may make a management call: every signature verified, every mandatory signer present.

Order, as Barong: the signatures of the scope's permitted signers are verified (any bad
one refuses the call; signers outside the scope are ignored), then the claims, then the
scope's mandatory signers must all be among the verified ones. Stricter than Barong:
``exp`` is required, and a token is accepted once (its ``jti``, or the payload itself
when it has none, is kept in the cache until the token expires).
"""

import hashlib
import logging
import time
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache

from management.config import JwtOptions, ManagementConfig, Scope, management_config
from management.jws import JWSError, ParsedJWS, jws_parse, signature_verify

logger = logging.getLogger(__name__)

FAILED = "Failed to verify JWT."
NOT_ENOUGH = "Not enough signatures for the action."
REPLAY_PREFIX = "management:jti:"
MAX_JTI_CHARS = 255


class VerificationFailed(Exception):
    """The call is refused with 401 and ``message``; ``reason`` is for the log only."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(reason)
        self.message = message
        self.reason = reason


@dataclass(frozen=True)
class VerifiedCall:
    scope: str
    signers: tuple[str, ...]
    payload: dict[str, Any]

    @property
    def data(self) -> Any:
        return self.payload.get("data", {})


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def claims_check(payload: dict[str, Any], options: JwtOptions, now: float) -> None:
    """exp (required), nbf, iat, jti and the optional iss/aud/sub rules; JWSError if broken."""
    exp = payload.get("exp")
    if not _number(exp):
        raise JWSError("exp is missing or not a number")
    if exp <= now - options.exp_leeway:
        raise JWSError("the token has expired")
    nbf = payload.get("nbf")
    if nbf is not None and (not _number(nbf) or nbf > now + options.nbf_leeway):
        raise JWSError("the token is not valid yet (nbf)")
    iat = payload.get("iat")
    if iat is None and options.verify_iat:
        raise JWSError("iat is missing")
    if iat is not None and (not _number(iat) or iat > now + options.iat_leeway):
        raise JWSError("iat is in the future")
    jti = payload.get("jti")
    if jti is None and options.verify_jti:
        raise JWSError("jti is missing")
    if jti is not None and (not isinstance(jti, str) or not jti or len(jti) > MAX_JTI_CHARS):
        raise JWSError("jti is not a short string")
    if options.verify_iss and payload.get("iss") not in options.iss:
        raise JWSError("iss is not the expected issuer")
    if options.verify_aud:
        aud = payload.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        if not any(isinstance(a, str) and a in options.aud for a in audiences):
            raise JWSError("aud is not the expected audience")
    if options.verify_sub and payload.get("sub") != options.sub:
        raise JWSError("sub is not the expected subject")


def _replay_key(jws: ParsedJWS) -> str:
    jti = jws.payload.get("jti")
    source = f"jti:{jti}" if jti is not None else f"payload:{jws.payload_b64}"
    return REPLAY_PREFIX + hashlib.sha256(source.encode()).hexdigest()


def _first_use(jws: ParsedJWS, options: JwtOptions, now: float) -> bool:
    """Atomically remember the token until it expires; False if it was seen already."""
    lifetime = int(jws.payload["exp"] - now) + options.exp_leeway + 1
    return cache.add(_replay_key(jws), 1, timeout=max(lifetime, 1))


def _verify(document: Any, config: ManagementConfig, scope: Scope, now: float) -> VerifiedCall:
    jws = jws_parse(document)
    verified: list[str] = []
    for signature in jws.signatures:
        signer = config.keychain.get(signature.kid)
        if signer is None or signature.kid not in scope.permitted_signers:
            continue  # as jwt-multisig: a signature this scope cannot check counts for nothing
        signature_verify(
            jws=jws, signature=signature, algorithm=signer.algorithm, public_key=signer.public_key
        )
        if signature.kid not in verified:
            verified.append(signature.kid)
    if verified:
        claims_check(jws.payload, config.jwt, now)
    missing = [name for name in scope.mandatory_signers if name not in verified]
    if missing:
        raise VerificationFailed(NOT_ENOUGH, f"mandatory signers missing: {missing}")
    if not _first_use(jws, config.jwt, now):
        raise JWSError("the token was used already (jti replay)")
    return VerifiedCall(scope=scope.name, signers=tuple(verified), payload=jws.payload)


def _kids(document: Any) -> list[str]:
    """Signer names as sent, for the log (shortened: they are the caller's text)."""
    try:
        return [str(s["header"]["kid"])[:64] for s in document["signatures"]][:16]
    except (KeyError, TypeError, IndexError):
        return []


def management_call_verify(document: Any, *, scope: str, now: float | None = None) -> VerifiedCall:
    """The verified call for ``scope``, or VerificationFailed (logged with the signer names)."""
    moment = time.time() if now is None else now
    config = management_config()
    try:
        if config is None:
            raise JWSError("no management API config (BARONG_MANAGEMENT_API_CONFIG)")
        scope_config = config.scopes.get(scope)
        if scope_config is None:
            raise JWSError(f"scope {scope} is not configured")
        return _verify(document, config, scope_config, moment)
    except JWSError as exc:
        failure = VerificationFailed(FAILED, str(exc))
    except VerificationFailed as exc:
        failure = exc
    logger.warning(
        "management API call refused: scope=%s signers=%s reason=%s",
        scope,
        _kids(document),
        failure.reason,
    )
    raise failure
