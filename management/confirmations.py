"""Confirmations bound to an operation (PSD2's dynamic linking), asked for by an upstream.

An upstream (Peatio, a custody service) asks through the management API for the user's
confirmation of one canonical operation. The user confirms on this server (the page of
management/pages.py or the resource API) with a passkey assertion whose challenge is the
operation's hash, or a TOTP code entered against the displayed operation. The answer is
a JWT over the operation and its hash, signed with the management key (never the session
key), which the upstream verifies with ``GET /api/v2/management/jwks``.

The canonical encoding, defined here once: the normalised fields ``type``, ``asset``,
``amount``, ``destination``, ``nonce`` and ``uid`` as JSON with sorted keys, no spaces,
UTF-8 (RFC 8785's output for an object of strings); the hash is its SHA-256, in hex.
"""

import hashlib
import json
import re
import secrets
import time
from datetime import timedelta
from decimal import Context, Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import User, WebAuthnCredential
from accounts.services.otp import otp_attempt
from accounts.services.passkeys import webauthn_assertion_options, webauthn_assertion_verify
from accounts.sessions import ACTIVE_STATES
from activities.services import activity_record
from barong import jwt as barong_jwt
from barong.api.errors import ApiError
from barong.crypto import constant_time_equals
from barong.jose import Signer, compact_sign
from barong.jwt import KeyPair
from management.keys import ALGORITHM, management_signing_key
from management.models import Confirmation
from management.services import management_activity_record

# The JWT header typ (RFC 8725, 3.11): an upstream checks it, so no other JWT passes.
JWT_TYP = "confirmation+jwt"
SUBJECT = "confirmation"
TOPIC = "confirmation"
FIELDS = ("type", "asset", "amount", "destination", "nonce")
TYPE_RE = re.compile(r"\A[a-z][a-z0-9_]{0,31}\Z")
ASSET_RE = re.compile(r"\A[a-z0-9][a-z0-9._-]{0,31}\Z")
AMOUNT_RE = re.compile(r"\A[0-9]{1,30}(\.[0-9]{1,30})?\Z")
NONCE_RE = re.compile(r"\A[A-Za-z0-9._:-]{1,64}\Z")
CID_RE = re.compile(r"\A[A-Za-z0-9_-]{16,64}\Z")
DIGEST_RE = re.compile(r"\A[0-9a-f]{64}\Z")
DESTINATION_MAX = 256
EXACT = Context(prec=64)  # more digits than AMOUNT_RE lets through (30 + 30)
MANAGEMENT = "management.confirmation"
RESOURCE = "resource.confirmation"


# ---------------------------------------------------------------- the canonical operation


def _amount(value: Any) -> str | None:
    """A positive decimal in canonical form: no sign, no exponent, no trailing zeros."""
    # Strings only: a JSON number arrives as a float, and a float is not an amount.
    if not isinstance(value, str) or not AMOUNT_RE.match(value):
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation:
        return None
    if amount <= 0:
        return None
    # The default context keeps 28 digits: normalising in it would round a longer amount.
    return format(amount.normalize(context=EXACT), "f")


def _destination(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    text = value.strip()
    # Printable only (no Cc/Cf/Z* but the space): a control or bidi-override character
    # could make the page show one address while another is signed.
    if not text or len(text) > DESTINATION_MAX or not text.isprintable():
        return None
    return text


def _pattern(regex: re.Pattern, lower: bool) -> Any:
    def check(value: Any) -> str | None:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            return None
        text = value.strip().lower() if lower else value.strip()
        return text if regex.match(text) else None

    return check


NORMALISERS = {
    "type": _pattern(TYPE_RE, lower=True),
    "asset": _pattern(ASSET_RE, lower=True),
    "amount": _amount,
    "destination": _destination,
    "nonce": _pattern(NONCE_RE, lower=False),
}


def operation_normalise(raw: dict[str, Any], *, uid: str, prefix: str = MANAGEMENT) -> dict:
    """The operation's fields in canonical form, or ApiError 422 ``<prefix>.missing_<f>`` /
    ``<prefix>.invalid_<f>`` for the first faulty one."""
    operation = {"uid": uid}
    for field in FIELDS:
        if raw.get(field) in (None, ""):
            raise ApiError(f"{prefix}.missing_{field}")
        value = NORMALISERS[field](raw[field])
        if value is None:
            raise ApiError(f"{prefix}.invalid_{field}")
        operation[field] = value
    return operation


def operation_canonical(operation: dict[str, str]) -> bytes:
    """The one encoding that is hashed: sorted keys, no whitespace, UTF-8."""
    return json.dumps(operation, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def operation_digest(operation: dict[str, str]) -> str:
    """SHA-256 of the canonical encoding, lower-case hex."""
    return hashlib.sha256(operation_canonical(operation)).hexdigest()


# ---------------------------------------------------------------- reads


def confirmation_state(confirmation: Confirmation, *, now=None) -> str:
    """The state as callers see it: a pending row past its expiry is ``expired``."""
    now = now or timezone.now()
    if confirmation.state == Confirmation.State.PENDING and confirmation.expires_at <= now:
        return "expired"
    return confirmation.state


def confirmation_get(*, cid: Any, user: User | None = None, prefix: str = RESOURCE) -> Confirmation:
    """One confirmation by id (the user's own when ``user`` is given); 404 otherwise, so
    another user's id looks like none."""
    rows = Confirmation.objects.select_related("user")
    if user is not None:
        rows = rows.filter(user=user)
    row = rows.filter(cid=cid).first() if isinstance(cid, str) and CID_RE.match(cid) else None
    if row is None:
        raise ApiError(f"{prefix}.not_found", 404)
    return row


def confirmation_methods(*, user: User) -> list[str]:
    """The second factors the user can confirm with (RFC 8176 names, as in ``amr``)."""
    methods = ["otp"] if user.otp else []
    if WebAuthnCredential.objects.filter(user=user).exists():
        methods.append("hwk")
    return methods


def return_url_allowed(url: Any) -> bool:
    """Whether the page may send the browser to ``url``: http(s) on an origin listed in
    ``BARONG_CONFIRMATION_RETURN_ORIGINS``, nothing else (no open redirect)."""
    if not isinstance(url, str) or len(url) > 2048 or not url.isprintable() or "\\" in url:
        return False
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    if parts.username is not None or parts.password is not None:
        return False
    origin = f"{parts.scheme}://{parts.hostname}" + (f":{port}" if port is not None else "")
    allowed = {o.lower() for o in settings.BARONG_CONFIRMATION_RETURN_ORIGINS}
    return origin.lower() in allowed


# ---------------------------------------------------------------- the signing key


def _signing_key(prefix: str) -> KeyPair:
    """The management key, refused when it is the session key (production without
    ``BARONG_MANAGEMENT_SIGNING_KEY`` signs otp/sign with the JWT key, as Barong did)."""
    pair = management_signing_key()
    if any(constant_time_equals(pair.kid, jwt_pair.kid) for jwt_pair in barong_jwt.keyring()):
        raise ApiError(f"{prefix}.unavailable", 503)
    return pair


def _token_sign(confirmation: Confirmation, method: str, pair: KeyPair) -> tuple[str, str]:
    issued = int(time.time())
    jti = secrets.token_hex(16)
    claims = {
        "iss": settings.JWT_ISSUER,
        "aud": list(confirmation.signers),
        "sub": SUBJECT,
        "uid": confirmation.user.uid,
        "cid": confirmation.cid,
        "op": confirmation.operation,
        "op_hash": confirmation.digest,
        "amr": [method],
        "iat": issued,
        "exp": issued + settings.BARONG_CONFIRMATION_TTL,
        "jti": jti,
    }
    signer = Signer(pair.private_key, ALGORITHM, protected={"typ": JWT_TYP, "kid": pair.kid})
    token = compact_sign(claims, signer)
    return token, jti


# ---------------------------------------------------------------- writes


def confirmation_request(
    *,
    user: User,
    fields: dict[str, Any],
    signers: tuple[str, ...],
    request: HttpRequest | None = None,
) -> Confirmation:
    """A new pending confirmation of the operation in ``fields`` for ``user``.

    Refused (nothing written) when the operation is malformed, the nonce was used for this
    user before, the user has no second factor to confirm with, or no key may sign it.
    """
    if user.state not in ACTIVE_STATES:
        raise ApiError(f"{MANAGEMENT}.user_not_active", 422)
    operation = operation_normalise(fields, uid=user.uid)
    _signing_key(MANAGEMENT)
    if not confirmation_methods(user=user):
        raise ApiError(f"{MANAGEMENT}.no_second_factor", 422)
    try:
        with transaction.atomic():
            confirmation = Confirmation.objects.create(
                cid=secrets.token_urlsafe(24),
                user=user,
                nonce=operation["nonce"],
                operation=operation,
                digest=operation_digest(operation),
                signers=list(signers),
                expires_at=timezone.now() + timedelta(seconds=settings.BARONG_CONFIRMATION_TTL),
            )
    except IntegrityError as exc:
        raise ApiError(f"{MANAGEMENT}.nonce_taken", 409) from exc
    management_activity_record(
        user=user,
        action="confirmation request",
        signers=signers,
        request=request,
        data={"cid": confirmation.cid, "type": operation["type"], "digest": confirmation.digest},
    )
    return confirmation


def confirmation_webauthn_options(*, user: User, cid: Any) -> dict:
    """Passkey options whose challenge is the operation's hash (the user's passkeys only)."""
    confirmation = confirmation_get(cid=cid, user=user)
    if confirmation_state(confirmation) != Confirmation.State.PENDING:
        raise ApiError(f"{RESOURCE}.not_pending", 409)
    options = webauthn_assertion_options(user=user, challenge=bytes.fromhex(confirmation.digest))
    if options is None:
        raise ApiError(f"{RESOURCE}.webauthn_not_registered", 422)
    return options


def _record(user: User, action: str, confirmation: Confirmation, request, **extra: Any) -> None:
    activity_record(
        user=user,
        topic=TOPIC,
        action=action,
        request=request,
        data={"cid": confirmation.cid, "digest": confirmation.digest, **extra.pop("data", {})},
        **extra,
    )


def _pending_locked(*, user: User, cid: Any, digest: Any) -> Confirmation:
    """The user's confirmation, row-locked, still pending, for the operation shown."""
    confirmation = confirmation_get(cid=cid, user=user)
    confirmation = (
        Confirmation.objects.select_for_update().select_related("user").get(pk=confirmation.pk)
    )
    state = confirmation_state(confirmation)
    if state == "expired":
        raise ApiError(f"{RESOURCE}.expired", 410)
    if state != Confirmation.State.PENDING:
        raise ApiError(f"{RESOURCE}.not_pending", 409)
    # The hash of what the user was shown: any other operation is not this one.
    if not isinstance(digest, str) or not DIGEST_RE.match(digest):
        raise ApiError(f"{RESOURCE}.invalid_digest")
    if not constant_time_equals(digest, confirmation.digest):
        raise ApiError(f"{RESOURCE}.digest_mismatch")
    return confirmation


def confirmation_confirm(
    *,
    user: User,
    cid: Any,
    digest: Any,
    otp_code: str | None = None,
    credential: Any = None,
    request: HttpRequest | None = None,
) -> Confirmation:
    """The user confirms the operation of hash ``digest`` with a TOTP code or a passkey
    assertion over that hash; on success the signed confirmation is stored and returned.

    A wrong code or assertion counts against the confirmation (``failed`` past
    ``BARONG_CONFIRMATION_MAX_ATTEMPTS``) and against the account's TOTP budget.
    """
    if (otp_code is None) == (credential is None):
        raise ApiError(f"{RESOURCE}.missing_factor")
    pair = _signing_key(RESOURCE)
    with transaction.atomic():
        confirmation = _pending_locked(user=user, cid=cid, digest=digest)
        if otp_code is not None:
            method = "otp"
            if not user.otp:
                raise ApiError(f"{RESOURCE}.otp_not_enabled")
            ok = otp_attempt(user=user, code=otp_code, error_key=f"{RESOURCE}.too_many_requests")
            reason = None if ok else "OTP code is invalid"
        else:
            method = "hwk"
            reason = webauthn_assertion_verify(
                user=user, credential=credential, challenge=bytes.fromhex(confirmation.digest)
            )
        now = timezone.now()
        if reason is None:
            confirmation.token, confirmation.jti = _token_sign(confirmation, method, pair)
            confirmation.state = Confirmation.State.CONFIRMED
            confirmation.method = method
            confirmation.decided_at = now
        else:
            confirmation.attempts += 1
            if confirmation.attempts >= settings.BARONG_CONFIRMATION_MAX_ATTEMPTS:
                confirmation.state = Confirmation.State.FAILED
                confirmation.decided_at = now
        confirmation.save(
            update_fields=["token", "jti", "state", "method", "decided_at", "attempts"]
        )
    if reason is not None:
        _record(
            user,
            "confirm",
            confirmation,
            request,
            result="failed",
            data={"method": method, "reason": reason[:200], "attempts": confirmation.attempts},
        )
        if confirmation.state == Confirmation.State.FAILED:
            raise ApiError(f"{RESOURCE}.too_many_attempts", 422)
        # The keys name the input that failed: the code, or the passkey's (WebAuthn) answer.
        raise ApiError(f"{RESOURCE}.invalid_{'otp' if method == 'otp' else 'webauthn'}", 422)
    _record(user, "confirm", confirmation, request, data={"method": method})
    return confirmation


def confirmation_reject(
    *, user: User, cid: Any, digest: Any, request: HttpRequest | None = None
) -> Confirmation:
    """The user refuses the operation: it can no longer be confirmed."""
    with transaction.atomic():
        confirmation = _pending_locked(user=user, cid=cid, digest=digest)
        confirmation.state = Confirmation.State.REJECTED
        confirmation.decided_at = timezone.now()
        confirmation.save(update_fields=["state", "decided_at"])
    _record(user, "reject", confirmation, request)
    return confirmation


def confirmations_prune(*, now=None) -> int:
    """Delete confirmations that expired more than ``BARONG_CONFIRMATION_RETENTION_DAYS``
    ago, decided or not: the upstream has long acted on them (the activity rows stay)."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.BARONG_CONFIRMATION_RETENTION_DAYS)
    deleted, _ = Confirmation.objects.filter(expires_at__lt=cutoff).delete()
    return deleted
