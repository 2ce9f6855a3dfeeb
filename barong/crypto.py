"""Secrets at rest: AES-256-GCM under BARONG_ENCRYPTION_KEY, and constant-time compares.

The key ring is the current key, which seals everything, and the previous keys of a
rotation (``BARONG_ENCRYPTION_KEYS_PREVIOUS``), which only open what they sealed: a GCM
tag that does not verify under one key is tried under the next. ``reencrypted`` moves a
text to the current key (``manage.py encryption_reencrypt``, docs/operations.md).
"""

import base64
import hmac
import os
from collections.abc import Callable
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet

VERSION = b"\x01"


@lru_cache(maxsize=8)
def _cipher(raw_key: str) -> AESGCM:
    try:
        key = base64.b64decode(raw_key, validate=True)
    except ValueError as exc:
        raise ImproperlyConfigured("BARONG_ENCRYPTION_KEY must be base64 of 32 bytes") from exc
    if len(key) != 32:
        raise ImproperlyConfigured("BARONG_ENCRYPTION_KEY must be base64 of 32 bytes")
    return AESGCM(key)


def _ring() -> list[AESGCM]:
    """The current key first, then the previous ones, in the order they are listed."""
    previous = [key for key in settings.BARONG_ENCRYPTION_KEYS_PREVIOUS if key]
    return [_cipher(key) for key in (settings.BARONG_ENCRYPTION_KEY, *previous)]


def encrypt(plaintext: str, *, context: str) -> str:
    """Encrypt with a fresh nonce; ``context`` (e.g. ``apikey:<kid>``) binds it to its row."""
    nonce = os.urandom(12)
    sealed = _cipher(settings.BARONG_ENCRYPTION_KEY).encrypt(
        nonce, plaintext.encode(), context.encode()
    )
    return base64.b64encode(VERSION + nonce + sealed).decode()


def _opened(token: str, context: str) -> tuple[str, int]:
    """(the plaintext, the position in the ring of the key that opened it)."""
    try:
        blob = base64.b64decode(token)
    except Exception as exc:
        raise ValueError("ciphertext cannot be decrypted") from exc
    if blob[:1] != VERSION:
        raise ValueError("ciphertext cannot be decrypted")
    for at, cipher in enumerate(_ring()):
        try:
            return cipher.decrypt(blob[1:13], blob[13:], context.encode()).decode(), at
        except InvalidTag:  # not this key's (or altered, or moved): the next key
            continue
        except Exception as exc:  # a malformed text
            raise ValueError("ciphertext cannot be decrypted") from exc
    raise ValueError("ciphertext cannot be decrypted")


def decrypt(token: str, *, context: str) -> str:
    """Inverse of ``encrypt`` under any key of the ring; raises ``ValueError`` if the text
    was altered or moved, or no key of the ring sealed it."""
    return _opened(token, context)[0]


def reencrypted(token: str, *, context: str) -> str | None:
    """``token`` sealed again under the current key; None when it already is. Raises
    ``ValueError`` as ``decrypt`` does."""
    plain, at = _opened(token, context)
    return None if at == 0 else encrypt(plain, context=context)


def constant_time_equals(left: str | bytes, right: str | bytes) -> bool:
    """Compare secrets without leaking where they differ."""
    # surrogatepass: a lone surrogate from a JSON body compares unequal instead of raising.
    a = left.encode("utf-8", "surrogatepass") if isinstance(left, str) else left
    b = right.encode("utf-8", "surrogatepass") if isinstance(right, str) else right
    return hmac.compare_digest(a, b)


def column_reencrypt(
    queryset: QuerySet,
    *,
    column: str,
    fields: tuple[str, ...],
    context_of: Callable[..., str],
    changed: Callable[..., None] | None = None,
    batch: int = 500,
) -> dict[str, int]:
    """Seal ``column`` of every row of ``queryset`` again under the current key.

    ``fields`` are read with each row and given to ``context_of`` (the row's ``context``)
    and, for each row moved, to ``changed``. Rows are read in primary-key order, a batch at
    a time, and written one by one only if the column still holds what was read (a row
    changed meanwhile is already under the current key). Idempotent: a second run moves
    nothing. Returns how many rows were ``reencrypted``, already ``current`` or
    ``unreadable`` (no key of the ring opens them).
    """
    counts = dict.fromkeys(("reencrypted", "current", "unreadable"), 0)
    manager = queryset.model._default_manager
    last = None
    while True:
        page = queryset if last is None else queryset.filter(pk__gt=last)
        rows = list(page.order_by("pk").values_list("pk", column, *fields)[:batch])
        if not rows:
            return counts
        last = rows[-1][0]
        for pk, sealed, *extra in rows:
            try:
                fresh = reencrypted(sealed or "", context=context_of(*extra))
            except ValueError:
                counts["unreadable"] += 1
                continue
            if fresh is None:
                counts["current"] += 1
            elif manager.filter(pk=pk, **{column: sealed}).update(**{column: fresh}):
                counts["reencrypted"] += 1
                if changed is not None:
                    changed(*extra)
