"""``GET /metrics``: Prometheus text, per-request counters and the outbox gauges.

The counters themselves live in ``barong.metrics`` so that every app can count. This
module adds what only the top layer can: the request middleware (route, method,
status, latency), the scrape view behind ``BARONG_METRICS_TOKEN``, and a collector
that reads the e-mail/event outbox (``events``) at scrape time.
Several gunicorn workers: docs/operations.md (``PROMETHEUS_MULTIPROC_DIR``).
"""

import logging
import os
import time
from collections.abc import Iterator

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric

from barong.api.errors import error_response
from barong.crypto import constant_time_equals
from barong.metrics import request_counted

logger = logging.getLogger(__name__)

UNMATCHED = "unmatched"


def outbox_stats() -> tuple[int, float]:
    """``(rows waiting, age in seconds of the oldest)`` from the events outbox."""
    from events.relay import outbox_backlog

    backlog = outbox_backlog()
    return int(backlog["pending"]), float(backlog["oldest_age_seconds"])


class OutboxCollector:
    """Backlog gauges counted when Prometheus scrapes (a few counts, no background loop)."""

    def describe(self) -> list[Metric]:
        return []  # registering must not query the database (Django is still starting)

    def collect(self) -> Iterator[Metric]:
        try:
            stats = outbox_stats()
        except Exception:  # a scrape must still answer while the database is away
            logger.warning("metrics: outbox not readable", exc_info=True)
            return
        backlog, oldest_age = stats
        yield GaugeMetricFamily(
            "barong_outbox_backlog", "Outbox messages not yet delivered", value=backlog
        )
        yield GaugeMetricFamily(
            "barong_outbox_oldest_age_seconds",
            "Age of the oldest undelivered outbox message (0 when none)",
            value=oldest_age,
        )


_outbox_collector = OutboxCollector()


def register_outbox_collector() -> None:
    """Once per process, into the default registry (single-process mode)."""
    if _outbox_collector not in REGISTRY._collector_to_names:
        REGISTRY.register(_outbox_collector)


def exposition() -> bytes:
    """Every metric of this process, or of all workers sharing ``PROMETHEUS_MULTIPROC_DIR``."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        registry.register(_outbox_collector)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


def metrics_view(request: HttpRequest) -> HttpResponse:
    """``GET /metrics``; with ``BARONG_METRICS_TOKEN`` set, ``Authorization: Bearer <token>``."""
    if request.method not in ("GET", "HEAD"):
        return error_response("route.method_not_allowed", 405)
    token = settings.BARONG_METRICS_TOKEN
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not constant_time_equals(given.strip(), token):
            response = error_response("metrics.unauthorized", 401)
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)


def route_of(request: HttpRequest) -> str:
    """The URL pattern that answered (bounded label values), never the raw path."""
    match = getattr(request, "resolver_match", None)
    if match is not None and match.route:
        return match.route.replace("^", "").removesuffix("\\Z").removesuffix("$")
    if request.path_info.startswith("/api/v2/auth"):
        return "api/v2/auth/<path>"  # answered by AuthzMiddleware before URL resolution
    if request.path_info.startswith(settings.STATIC_URL):
        return "static/<path>"  # answered by WhiteNoise before URL resolution
    return UNMATCHED


class MetricsMiddleware:
    """First in ``MIDDLEWARE``: counts and times every request, the gateway's authz calls too."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        request_counted(route_of(request), request.method, response.status_code, started)
        return response
