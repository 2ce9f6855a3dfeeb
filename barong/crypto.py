"""Secrets at rest: AES-256-GCM under BARONG_ENCRYPTION_KEY, and constant-time compares."""

import base64
import hmac
import os
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

VERSION = b"\x01"


@lru_cache(maxsize=4)
def _cipher(raw_key: str) -> AESGCM:
    try:
        key = base64.b64decode(raw_key, validate=True)
    except ValueError as exc:
        raise ImproperlyConfigured("BARONG_ENCRYPTION_KEY must be base64 of 32 bytes") from exc
    if len(key) != 32:
        raise ImproperlyConfigured("BARONG_ENCRYPTION_KEY must be base64 of 32 bytes")
    return AESGCM(key)


def encrypt(plaintext: str, *, context: str) -> str:
    """Encrypt with a fresh nonce; ``context`` (e.g. ``apikey:<kid>``) binds it to its row."""
    nonce = os.urandom(12)
    sealed = _cipher(settings.BARONG_ENCRYPTION_KEY).encrypt(
        nonce, plaintext.encode(), context.encode()
    )
    return base64.b64encode(VERSION + nonce + sealed).decode()


def decrypt(token: str, *, context: str) -> str:
    """Inverse of ``encrypt``; raises ``ValueError`` if the text was altered or moved."""
    try:
        blob = base64.b64decode(token)
        if blob[:1] != VERSION:
            raise ValueError("unknown ciphertext version")
        plain = _cipher(settings.BARONG_ENCRYPTION_KEY).decrypt(
            blob[1:13], blob[13:], context.encode()
        )
    except Exception as exc:
        raise ValueError("ciphertext cannot be decrypted") from exc
    return plain.decode()


def constant_time_equals(left: str | bytes, right: str | bytes) -> bool:
    """Compare secrets without leaking where they differ."""
    # surrogatepass: a lone surrogate from a JSON body compares unequal instead of raising.
    a = left.encode("utf-8", "surrogatepass") if isinstance(left, str) else left
    b = right.encode("utf-8", "surrogatepass") if isinstance(right, str) else right
    return hmac.compare_digest(a, b)
