"""``health/alive`` and ``health/ready``: probes for a load balancer or Kubernetes.

``alive`` only proves the process answers. ``ready`` checks what a request needs: the
database, the cache (Redis in production: sessions and rate limits live there) and,
when configured, the Celery broker and the event API's RabbitMQ. Each check is one
round trip with a short timeout, so a probe every second costs little. Neither is rate
limited, and the authz rules let the gateway pass them without a session.
"""

import logging
import secrets
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from drf_spectacular.utils import OpenApiResponse, extend_schema
from kombu import Connection
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

logger = logging.getLogger(__name__)

BROKER_TIMEOUT = 1.0  # seconds; a probe must answer well inside its own timeout


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _cache() -> None:
    value = secrets.token_hex(4)
    cache.set("health:ready", value, 10)
    if cache.get("health:ready") != value:
        raise RuntimeError("the cache did not keep a value")


def _amqp_or_redis(url: str, transport_options: dict | None = None) -> None:
    with Connection(
        url, connect_timeout=BROKER_TIMEOUT, transport_options=transport_options or {}
    ) as conn:
        conn.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT)


def _broker_url() -> str | None:
    """The Celery broker, unless tasks run in-process or in memory (development)."""
    url = settings.CELERY_BROKER_URL
    if settings.CELERY_TASK_ALWAYS_EAGER or not url or url.startswith("memory://"):
        return None
    return url


def ready_checks() -> dict[str, Callable[[], None]]:
    """The dependencies this deployment has, by the name ``ready`` reports."""
    checks: dict[str, Callable[[], None]] = {"database": _database, "cache": _cache}
    broker = _broker_url()
    if broker:
        # A Sentinel URL needs the master's name from the transport options, as Celery's.
        options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
        checks["broker"] = lambda: _amqp_or_redis(broker, options)
    event_api = getattr(settings, "BARONG_EVENT_API_URL", None)
    if event_api:
        checks["event_api"] = lambda: _amqp_or_redis(event_api)
    return checks


class HealthSerializer(serializers.Serializer):
    status = serializers.CharField()
    checks = serializers.DictField(child=serializers.CharField(), required=False)


class HealthDownSerializer(serializers.Serializer):
    errors = serializers.ListField(child=serializers.CharField())
    checks = serializers.DictField(child=serializers.CharField())


class ProbeView(APIView):
    """No authentication, no permission, no rate limit; GET and HEAD only."""

    authentication_classes: list = []
    permission_classes: list = []
    http_method_names = ["get", "head"]


class AliveView(ProbeView):
    @extend_schema(
        summary="Liveness: the process answers",
        responses={200: HealthSerializer},
        tags=["health"],
    )
    def get(self, request: Request) -> Response:
        return Response({"status": "ok"})


class ReadyView(ProbeView):
    @extend_schema(
        summary="Readiness: database, cache and (when configured) broker and event API reachable",
        responses={
            200: HealthSerializer,
            503: OpenApiResponse(
                HealthDownSerializer,
                description="Something is down: one ``health.<name>_down`` key for each",
            ),
        },
        tags=["health"],
    )
    def get(self, request: Request) -> Response:
        """200 when every dependency answers; 503 with ``health.<name>_down`` for each down."""
        results: dict[str, str] = {}
        for name, check in ready_checks().items():
            try:
                check()
            except Exception as exc:  # a failing dependency means "not ready", never a 500
                logger.warning("health: %s is down: %s", name, exc.__class__.__name__)
                results[name] = "down"
            else:
                results[name] = "ok"
        down = [name for name, state in results.items() if state == "down"]
        if down:
            body = {"errors": [f"health.{name}_down" for name in down], "checks": results}
            return Response(body, status=503, headers={"Retry-After": "5"})
        return Response({"status": "ok", "checks": results})
