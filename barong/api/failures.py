"""What the client sees when something other than its request went wrong.

Every answer under ``/api/v2`` and from the authz endpoint is JSON in the
``{"errors": [...]}`` shape, failures included:

- a dependency that cannot be reached (Redis, the database, the broker) is 503
  ``server.unavailable`` with ``Retry-After``: the request may well work a few seconds
  later, and a client must not read it as a verdict on its credentials;
- any other unexpected exception is 500 ``server.internal_error``, logged with the
  request id (also sent as ``X-Request-ID``) and without any detail in the body;
- a body over the size limit is 413 ``request.too_large``; too many fields, or JSON nested
  too deep, is 400 ``request.malformed``.

docs/operations.md says what each endpoint does while Redis or the database is down.
"""

import logging
import os
import re

import redis.exceptions
from django.core.exceptions import (
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, JsonResponse
from kombu.exceptions import OperationalError as BrokerError

logger = logging.getLogger("barong.failures")

API_PREFIX = "/api/v2"
RETRY_AFTER_SECONDS = 5
# Redis (cache, sessions, rate limits), the database and the Celery broker being away.
DEPENDENCY_ERRORS: tuple[type[BaseException], ...] = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    OperationalError,
    InterfaceError,
    BrokerError,
)
REQUEST_ID_HEADER = "X-Request-ID"
# A caller's id is kept when it is short and plain (it ends up in log lines).
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")


def is_api_path(request: HttpRequest) -> bool:
    path = request.path_info
    return path == API_PREFIX or path.startswith(API_PREFIX + "/")


def request_id_for(request: HttpRequest) -> str:
    """The id of this request: the caller's ``X-Request-ID`` when sane, else a new one."""
    existing = getattr(request, "request_id", None)
    if existing:
        return existing
    request_id = request_id_from(request.META)
    request.request_id = request_id
    return request_id


def request_id_from(meta: dict) -> str:
    """The caller's ``X-Request-ID`` from a META or WSGI environ when sane, else a new one."""
    sent = meta.get("HTTP_X_REQUEST_ID", "")
    # ``secrets.token_hex(16)`` without its two calls in between (the authz fast path)
    return sent if REQUEST_ID_RE.match(sent) else os.urandom(16).hex()


def errors_json(keys: list[str], status: int) -> JsonResponse:
    return JsonResponse({"errors": keys}, status=status)


def unavailable_response() -> JsonResponse:
    response = errors_json(["server.unavailable"], 503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def bad_request_response(exc: BaseException) -> JsonResponse | None:
    """413/400 for the request-shape refusals Django raises while reading a body."""
    if isinstance(exc, RequestDataTooBig):
        return errors_json(["request.too_large"], 413)
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent | SuspiciousOperation):
        return errors_json(["request.malformed"], 400)
    return None


def failure_response(request: HttpRequest, exc: BaseException) -> JsonResponse:
    """The JSON answer for an exception no view turned into an error key."""
    refused = bad_request_response(exc)
    if refused is not None:
        return refused
    request_id = request_id_for(request)
    if isinstance(exc, DEPENDENCY_ERRORS):
        logger.warning(
            "dependency unavailable request_id=%s %s %s: %s: %s",
            request_id,
            request.method,
            request.path_info[:200],
            type(exc).__name__,
            exc,
        )
        return unavailable_response()
    logger.error(
        "unhandled error request_id=%s %s %s",
        request_id,
        request.method,
        request.path_info[:200],
        exc_info=(type(exc), exc, exc.__traceback__),
    )
    return errors_json(["server.internal_error"], 500)
