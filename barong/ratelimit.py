"""Fixed-window rate limits counted in the shared cache (Redis in production)."""

import time

from django.conf import settings
from django.core.cache import cache

from barong.api.errors import ApiError


def _rule(name: str) -> tuple[int, int]:
    count, _, window = settings.BARONG_RATE_LIMIT_RULES[name].partition("/")
    return int(count), int(window or 60)


def rate_limit_hit(name: str, subject: str, *, error_key: str) -> None:
    """Count one attempt of ``subject`` under rule ``name``; over the limit → 429 ``error_key``.

    ``BARONG_RATE_LIMITS=off`` turns every limit off (load tests).
    """
    if not settings.BARONG_RATE_LIMITS:
        return
    limit, window = _rule(name)
    bucket = int(time.time()) // window
    key = f"ratelimit:{name}:{subject}:{bucket}"
    if cache.add(key, 1, window + 1):
        count = 1
    else:
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, window + 1)
            count = 1
    if count > limit:
        raise ApiError(error_key, 429)


def rate_limit_reset(name: str, subject: str) -> None:
    """Forget the current window of ``subject`` (e.g. after a successful login)."""
    if not settings.BARONG_RATE_LIMITS:
        return
    _, window = _rule(name)
    cache.delete(f"ratelimit:{name}:{subject}:{int(time.time()) // window}")
