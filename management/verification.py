"""Who may make a management call: every signature verified, every mandatory signer present.

Order, as Barong: the signatures of the scope's permitted signers are verified (any bad
one refuses the call; signers outside the scope are ignored), then the claims, then the
scope's mandatory signers must all be among the verified ones. Stricter than Barong:
``exp`` is required and at most ``BARONG_MANAGEMENT_MAX_LIFETIME`` ahead, ``exp``/``iat``/
``nbf`` are JSON integers (ruby-jwt took any number; Python reads ``NaN`` and ``1e308``
as floats), and a token is accepted once (its ``jti``, or the payload itself when it has
none, is kept in the cache for as long as any accepted token can still be accepted).
"""

import hashlib
import logging
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache

from management.config import JwtOptions, ManagementConfig, Scope, management_config
from management.jws import JWSError, ParsedJWS, jws_parse, signature_verify

logger = logging.getLogger(__name__)

FAILED = "Failed to verify JWT."
NOT_ENOUGH = "Not enough signatures for the action."
REPLAY_PREFIX = "management:jti:"
MAX_JTI_CHARS = 255
# The largest integer every JSON parser reads exactly (2**53 - 1, RFC 7493 §2.2).
MAX_NUMERIC_DATE = 2**53 - 1


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


def numeric_date(payload: dict[str, Any], name: str) -> int | None:
    """The claim as a whole number of seconds, None when absent; JWSError for anything else.

    Only JSON integers count: a float (``1.5``, ``1e308``, ``NaN``, ``Infinity``) or a
    boolean (an ``int`` to Python) is refused, so no claim reaches arithmetic or Redis as
    something that is not a plain integer. Every known caller sends ``Time#to_i``.
    """
    if name not in payload:
        return None
    value = payload[name]
    if type(value) is not int or not 0 <= value <= MAX_NUMERIC_DATE:
        raise JWSError(f"{name} is not a whole number of seconds")
    return value


def claims_check(
    payload: dict[str, Any], options: JwtOptions, now: float, max_lifetime: int
) -> None:
    """exp (required, bounded), nbf, iat, jti and the optional iss/aud/sub rules; JWSError."""
    exp = numeric_date(payload, "exp")
    if exp is None:
        raise JWSError("exp is missing")
    if exp <= now - options.exp_leeway:
        raise JWSError("the token has expired")
    if exp > now + max_lifetime + options.exp_leeway:
        raise JWSError("exp is further ahead than BARONG_MANAGEMENT_MAX_LIFETIME")
    nbf = numeric_date(payload, "nbf")
    if nbf is not None and nbf > now + options.nbf_leeway:
        raise JWSError("the token is not valid yet (nbf)")
    iat = numeric_date(payload, "iat")
    if iat is None and options.verify_iat:
        raise JWSError("iat is missing")
    if iat is not None and iat > now + options.iat_leeway:
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


def replay_memory(options: JwtOptions, max_lifetime: int) -> int:
    """Seconds a used token is remembered: the longest any accepted token stays acceptable.

    First accepted at ``t``, a token's ``exp`` is at most ``t + max_lifetime + leeway``, and
    it is accepted until ``exp + leeway``. A fixed span rather than ``exp - now`` also
    covers servers whose clocks differ a little, sharing one Redis.
    """
    return max_lifetime + 2 * options.exp_leeway + 1


def _first_use(jws: ParsedJWS, options: JwtOptions, max_lifetime: int) -> bool:
    """Atomically remember the token; False if it was seen already."""
    return cache.add(_replay_key(jws), 1, timeout=replay_memory(options, max_lifetime))


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
    max_lifetime = settings.BARONG_MANAGEMENT_MAX_LIFETIME
    if verified:
        claims_check(jws.payload, config.jwt, now, max_lifetime)
    missing = [name for name in scope.mandatory_signers if name not in verified]
    if missing:
        raise VerificationFailed(NOT_ENOUGH, f"mandatory signers missing: {missing}")
    if not _first_use(jws, config.jwt, max_lifetime):
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
