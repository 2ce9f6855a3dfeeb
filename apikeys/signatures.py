"""The HMAC check of API-key requests at the authz endpoint.

``X-Auth-Signature`` = hex HMAC-SHA256(secret, nonce + kid), ``X-Auth-Nonce`` = unix
milliseconds within ``BARONG_APIKEY_NONCE_LIFETIME`` of now either way, and each
signature is accepted once (a marker in the shared cache for the whole window).

Key rows are cached (state, owner uid, the still-encrypted secret, the limits of
apikeys/scopes.py: enforced scopes, networks, expiry) and the decrypted
secret is kept in process memory only, so a steady stream of signed requests does not
touch the database; saving or deleting a key drops its cached row.
"""

import hashlib
import hmac
import math
import re
import time
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.core.cache import cache

from barong.api.errors import ApiError

KEY_TTL = 60
MISSING = "missing"
MAX_KID = 255
MAX_NONCE_DIGITS = 20
SIGNATURE_RE = re.compile(r"[0-9a-f]{64}")
ROW_COLUMNS = ("state", "encrypted_secret", "user__uid", "scope", "allowed_cidrs", "expires_at")


@dataclass(frozen=True)
class VerifiedKey:
    """A key whose signature checked out: its kid, state, the owner's uid and its limits
    (``scopes`` None: unrestricted; ``cidrs`` empty: any address)."""

    kid: str
    state: str
    uid: str
    scopes: tuple[str, ...] | None = None
    cidrs: tuple[str, ...] = ()


def api_key_secret_context(kid: str) -> str:
    """What binds an encrypted secret to its key's row (barong.crypto ``context``)."""
    return f"apikey:{kid}"


def api_key_cache_key(kid: str) -> str:
    """Where a key's row is cached (hashed: a kid may hold any character)."""
    return "authz:apikey:" + hashlib.sha256(kid.encode("utf-8", "surrogatepass")).hexdigest()


def api_key_cache_invalidate(kid: str) -> None:
    """Forget a key's cached row (after it was created, changed or deleted)."""
    cache.delete(api_key_cache_key(kid))


def api_key_row(kid: str, cached: dict | str | None) -> dict | str:
    """The cached row of ``kid``, or MISSING; unknown kids are remembered too."""
    key = api_key_cache_key(kid)
    row = cached if cached is not None else cache.get(key)
    if row is not None:
        return row
    from apikeys.models import APIKey
    from apikeys.scopes import expiry_timestamp, scopes_enforced

    found = APIKey.objects.filter(kid=kid).values_list(*ROW_COLUMNS).first()
    row = (
        MISSING
        if found is None
        else {
            "state": found[0],
            "encrypted_secret": found[1],
            "uid": found[2],
            "scopes": scopes_enforced(found[3] or []),
            "cidrs": tuple(found[4] or ()),
            "expires": expiry_timestamp(found[5]),
        }
    )
    cache.set(key, row, KEY_TTL)
    return row


def _expired(row: dict, now: float) -> bool:
    expires = row.get("expires")
    return expires is not None and now >= expires


@lru_cache(maxsize=4096)
def _secret(kid: str, encrypted_secret: str) -> bytes:
    from barong.crypto import decrypt

    return decrypt(encrypted_secret, context=api_key_secret_context(kid)).encode()


def api_key_token_bound(kid: str, user) -> bool:
    """A JWT the authz endpoint minted for key ``kid`` stays good on this server while the
    key exists, is active, has not expired, is ``user``'s, and their 2FA is on: what a
    signed request needs. Reads the cached key row (dropped when the key is saved or
    deleted)."""
    if not kid or len(kid) > MAX_KID or "\x00" in kid:
        return False
    row = api_key_row(kid, None)
    return (
        row != MISSING
        and row["state"] == "active"
        and not _expired(row, time.time())
        and row["uid"] == user.uid
        and bool(user.otp)
    )


def _nonce(text: str) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > MAX_NONCE_DIGITS:
        raise ApiError("authz.nonce_not_valid_timestamp", 401)
    value = int(text)
    if value <= 0:
        raise ApiError("authz.nonce_not_valid_timestamp", 401)
    return value


def _signature_marker(signature: str) -> str:
    return f"authz:apikey:signature:{signature}"


def _window_seconds() -> int:
    # A nonce is accepted up to `lifetime` either side of now: a signature is remembered
    # for the whole span it could still be accepted in.
    return math.ceil(2 * settings.BARONG_APIKEY_NONCE_LIFETIME / 1000) + 1


def api_key_replay_marker(
    *, nonce: str, signature: str, now_ms: int | None = None
) -> tuple[str, int] | None:
    """(cache key, timeout) to claim this signature with, if it may be claimed early.

    The caller can then claim it in the same round trip as its other reads and pass
    the outcome as ``claimed``. Only a well-formed signature with a nonce inside the
    window qualifies; a forged one can claim nothing but itself, which no real
    request would ever send.
    """
    if not SIGNATURE_RE.fullmatch(signature):
        return None
    try:
        value = _nonce(nonce)
    except ApiError:
        return None
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    if abs(now_ms - value) >= settings.BARONG_APIKEY_NONCE_LIFETIME:
        return None
    return _signature_marker(signature), _window_seconds()


def api_key_verify(
    *,
    kid: str,
    nonce: str,
    signature: str,
    now_ms: int | None = None,
    cached: dict | str | None = None,
    claimed: bool | None = None,
) -> VerifiedKey:
    """Key exists, nonce in the window, signature right and never seen before, key active.

    ``cached`` is the key's cache entry and ``claimed`` the outcome of claiming
    ``api_key_replay_marker`` when the caller already did both. Raises ApiError with
    Barong's authz keys (422 for blank headers, else 401).
    """
    if not kid or not nonce or not signature:
        raise ApiError("authz.invalid_api_key_headers", 422)
    # No stored kid is that long or holds a NUL (which PostgreSQL refuses in a query).
    row = MISSING if len(kid) > MAX_KID or "\x00" in kid else api_key_row(kid, cached)
    if row == MISSING:
        raise ApiError("authz.unexistent_apikey", 401)
    value = _nonce(nonce)
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    lifetime = settings.BARONG_APIKEY_NONCE_LIFETIME
    if now_ms - value >= lifetime:
        raise ApiError("authz.nonce_expired", 401)
    if value - now_ms > lifetime:
        raise ApiError("authz.nonce_from_future", 401)
    try:
        secret = _secret(kid, row["encrypted_secret"])
    except ValueError as exc:  # a secret that no longer decrypts authenticates nobody
        raise ApiError("authz.invalid_signature", 401) from exc
    expected = hmac.new(secret, (nonce + kid).encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
        raise ApiError("authz.invalid_signature", 401)
    # `add` is atomic, so of two concurrent identical requests exactly one gets through.
    if claimed is None:
        claimed = cache.add(_signature_marker(expected), 1, _window_seconds())
    if not claimed:
        raise ApiError("authz.signature_blacklisted", 401)
    if row["state"] != "active":
        raise ApiError("authz.apikey_not_active", 401)
    if _expired(row, now_ms / 1000):
        raise ApiError("authz.api_key_expired", 401)
    return VerifiedKey(
        kid=kid,
        state=row["state"],
        uid=row["uid"],
        scopes=row.get("scopes"),
        cidrs=tuple(row.get("cidrs") or ()),
    )
