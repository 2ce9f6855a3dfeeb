"""Prometheus metrics every layer may count into; ``ops`` exposes them at ``/metrics``.

Only ``prometheus_client`` is imported here, so any app can record a metric without
depending on another app. With several gunicorn workers, set ``PROMETHEUS_MULTIPROC_DIR``
to an empty directory shared by the workers (docs/operations.md): the client then keeps
each process's values in files there, and the scrape adds them up.
"""

import time

from prometheus_client import Counter, Histogram
from prometheus_client.metrics import MetricWrapperBase

REQUESTS = Counter(
    "barong_http_requests_total",
    "HTTP requests answered, by route pattern, method and status",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "barong_http_request_duration_seconds",
    "Time to answer an HTTP request, by route pattern",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
AUTHZ_DECISIONS = Counter(
    "barong_authz_decisions_total",
    "Gateway authorization answers: allow (public, permitted) or deny (the error key)",
    ["result", "reason"],
)
LOGINS = Counter(
    "barong_logins_total",
    "Login attempts, by outcome: success or the error key answered",
    ["outcome"],
)
RATE_LIMIT_HITS = Counter(
    "barong_rate_limit_hits_total",
    "Requests refused with 429 by a rate-limit rule",
    ["rule"],
)
EMAILS_SENT = Counter(
    "barong_emails_sent_total",
    "E-mails handed to the mail backend, by template",
    ["template"],
)

_children: dict[tuple, MetricWrapperBase] = {}


def labelled(metric: MetricWrapperBase, *values: str) -> MetricWrapperBase:
    """``metric.labels(*values)``, remembered: the hot paths (every request, every authz
    call) skip the label checks and the metric's lock. Label values are bounded sets
    (route patterns, methods, statuses, error keys), and so is this table."""
    key = (metric, values)
    child = _children.get(key)
    if child is None:
        child = _children[key] = metric.labels(*values)
    return child


METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def request_counted(route: str, method: str | None, status: int, started: float) -> None:
    """One answer into the request counter and the latency histogram (``started``: the
    ``time.perf_counter()`` when the request came in): ``ops.metrics.MetricsMiddleware``
    for Django's stack, the authz front (permissions/wsgi.py) for its own answers."""
    labelled(REQUESTS, route, method if method in METHODS else "other", str(status)).inc()
    labelled(LATENCY, route).observe(time.perf_counter() - started)
