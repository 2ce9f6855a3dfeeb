"""Fixed-window rate limits counted in the shared cache (Redis in production).

Every counter a request checks is counted in one cache round trip (``barong.cache.batch``),
and a reset can ride along with the request's next write (``rate_limit_reset_ops``).
"""

import time

from django.conf import settings

from barong.api.errors import ApiError
from barong.cache import batch
from barong.metrics import RATE_LIMIT_HITS


def _rule(name: str) -> tuple[int, int]:
    count, _, window = settings.BARONG_RATE_LIMIT_RULES[name].partition("/")
    return int(count), int(window or 60)


def _key(name: str, subject: str, window: int) -> str:
    return f"ratelimit:{name}:{subject}:{int(time.time()) // window}"


def rate_limits_hit(
    hits: list[tuple[str, str]], *, error_key: str, checks: list[tuple[str, str]] = ()
) -> None:
    """Count one attempt for each (rule name, subject) of ``hits``; any over its limit → 429
    ``error_key``. ``checks`` are read, not counted (failure-only limits, counted by
    ``rate_limits_count`` once the outcome is known): one used up → 429 too. One round trip.

    ``BARONG_RATE_LIMITS=off`` turns every limit off (load tests).
    """
    if not settings.BARONG_RATE_LIMITS or not (hits or checks):
        return
    hit_rules = [_rule(name) for name, _ in hits]
    check_rules = [_rule(name) for name, _ in checks]
    counts = batch(
        [
            ("incr", _key(name, subject, window), window + 1)
            for (name, subject), (_, window) in zip(hits, hit_rules, strict=True)
        ]
        + [
            ("count", _key(name, subject, window))
            for (name, subject), (_, window) in zip(checks, check_rules, strict=True)
        ]
    )
    hit_counts, check_counts = counts[: len(hits)], counts[len(hits) :]
    over = [
        name
        for (name, _), count, (limit, _) in zip(hits, hit_counts, hit_rules, strict=True)
        if count > limit
    ] + [
        name
        for (name, _), count, (limit, _) in zip(checks, check_counts, check_rules, strict=True)
        if count >= limit
    ]
    if over:
        for name in over:
            RATE_LIMIT_HITS.labels(rule=name).inc()
        raise ApiError(error_key, 429)


def rate_limits_count(events: list[tuple[str, str]]) -> None:
    """Count one event (a failure) for each (rule name, subject), in one round trip."""
    if not settings.BARONG_RATE_LIMITS or not events:
        return
    batch(
        [
            ("incr", _key(name, subject, _rule(name)[1]), _rule(name)[1] + 1)
            for name, subject in events
        ]
    )


def rate_limit_hit(name: str, subject: str, *, error_key: str) -> None:
    """Count one attempt of ``subject`` under rule ``name``; over the limit → 429 ``error_key``."""
    rate_limits_hit([(name, subject)], error_key=error_key)


def rate_limit_reset_ops(name: str, subject: str) -> list[tuple]:
    """The cache operations that forget ``subject``'s current window, for a ``batch``."""
    if not settings.BARONG_RATE_LIMITS:
        return []
    _, window = _rule(name)
    return [("delete", _key(name, subject, window))]


def rate_limit_reset(name: str, subject: str) -> None:
    """Forget the current window of ``subject`` (e.g. after a successful login)."""
    if ops := rate_limit_reset_ops(name, subject):
        batch(ops)
