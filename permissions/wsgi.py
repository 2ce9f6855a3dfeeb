"""``/api/v2/auth/<path>`` answered in front of Django's WSGI handler.

The gateway calls the authz endpoint before every request it forwards, so its cost
bounds the throughput of the whole exchange (docs/BENCHMARKS.md). gunicorn serves
``barong.wsgi.application``, which is this front around Django's application (named by
``BARONG_WSGI_FRONT``): an authz call is answered here, every other path goes to Django
unchanged.

The front does, in one function, what the three middlewares ahead of the authz view do
for Django's handler (barong/api/middleware.py, ops/metrics.py, permissions/middleware.py),
with the same pieces: the request id picked, bound and answered; an oversized body
refused; ``AuthzMiddleware`` itself (the session loaded, the same ``authz_view``, the
session slid and saved); the request counted and timed; an exception turned into a
response by Django's own ``response_for_exception``. What it leaves out is the handler's
generic machinery: the middleware wrappers and URL-conf set-up, the dispatcher behind the
request signals (Django's own receivers are called directly; any other receiver makes it
a real ``send``), and streaming: the answer goes out with its ``Content-Length`` (gunicorn
would otherwise send it chunked, one more write per answer).

tests/authz runs the whole authz suite through this front as well as through Django's
test client; tests/ops/test_authz_front.py checks the request id, the counters and the
failure answers.
"""

import time
import weakref

from django.conf import settings
from django.core import signals
from django.core.cache import close_caches
from django.core.handlers.base import reset_urlconf
from django.core.handlers.exception import response_for_exception
from django.core.handlers.wsgi import WSGIRequest
from django.db import close_old_connections, reset_queries
from django.http import HttpRequest, HttpResponse

from barong.api.failures import REQUEST_ID_HEADER, request_id_for
from barong.api.middleware import RequestIdMiddleware
from barong.metrics import request_counted
from barong.request_id import request_id_bound
from permissions.lean import lean_answer
from permissions.middleware import AuthzMiddleware, authz_raw_path

ROUTE = "api/v2/auth/<path>"
# Django's own receivers of the request signals, called directly when connected, except
# two with nothing to undo here: the front never sets a URL-conf (``reset_urlconf``), and
# the query log is written only with DEBUG on (``reset_queries``).
STOCK_RECEIVERS = frozenset({reset_queries, close_old_connections, close_caches, reset_urlconf})


def _not_authz(request: HttpRequest) -> HttpResponse:
    """Never reached: the front only takes paths that ``AuthzMiddleware`` answers."""
    raise RuntimeError(f"the authz front was handed {request.path_info!r}")


def _stock_receivers(signal) -> list | None:
    """Django's own receivers of ``signal`` (``STOCK_RECEIVERS``) that are connected, in
    order; None when any other receiver is connected too. Tests disconnect some of them
    (the test client keeps its database connection, ``CaptureQueriesContext`` its query
    log): only those connected are listed."""
    receivers = []
    for entry in signal.receivers:
        target = entry[1]
        if isinstance(target, weakref.ReferenceType):
            target = target()
        if target is None:
            continue
        if target not in STOCK_RECEIVERS:
            return None
        receivers.append(target)
    return receivers


def _notify(signal, **kwargs) -> None:
    """``signal.send(sender=AuthzFront, **kwargs)``: Django's own receivers are called
    directly (without the dispatcher's per-call bookkeeping), in order; any other
    receiver makes it a real ``send``."""
    receivers = _stock_receivers(signal)
    if receivers is None:
        signal.send(sender=AuthzFront, **kwargs)
        return
    for receiver in receivers:
        if receiver is reset_urlconf or (receiver is reset_queries and not settings.DEBUG):
            continue
        receiver(signal=signal, sender=AuthzFront, **kwargs)


class _Answer:
    """The body a WSGI server writes; its ``close()`` ends the request as Django's does."""

    __slots__ = ("content", "request")

    def __init__(self, content: bytes, request: WSGIRequest) -> None:
        self.content = content
        self.request = request

    def __iter__(self):
        yield self.content

    def __len__(self) -> int:
        return 1

    def close(self) -> None:
        try:
            self.request.close()  # uploaded files, if the body had any
        finally:
            _notify(signals.request_finished)


class AuthzFront:
    """A WSGI application: authz calls answered here, everything else by ``django_app``."""

    def __init__(self, django_app, *, fast_path: bool | None = None) -> None:
        self.django_app = django_app
        self.authz = AuthzMiddleware(_not_authz)
        self.fast_path = fast_path  # None: ``BARONG_AUTHZ_FAST_PATH``

    def __call__(self, environ: dict, start_response):
        # The raw PATH_INFO starts as the decoded one does: the prefix is plain ASCII.
        raw = authz_raw_path(environ.get("PATH_INFO", ""))
        if raw is None:
            return self.django_app(environ, start_response)
        # The fast path sends no request signals (it opens no database connection and
        # closes none): another receiver of them sends every call the full way.
        fast_path = self.fast_path
        if fast_path is None:
            fast_path = settings.BARONG_AUTHZ_FAST_PATH
        if (
            fast_path
            and _stock_receivers(signals.request_started) is not None
            and _stock_receivers(signals.request_finished) is not None
        ):
            answer = lean_answer(environ, raw)
            if answer is not None:
                start_response(*answer)
                return []
        started = time.perf_counter()
        _notify(signals.request_started, environ=environ)
        request = WSGIRequest(environ)
        request_id = request_id_for(request)
        try:
            with request_id_bound(request_id):
                response = RequestIdMiddleware.refuse(request) or self.authz(request)
        except Exception as exc:  # as Django's handler: the error handlers' answer
            response = response_for_exception(request, exc)
        response[REQUEST_ID_HEADER] = request_id
        request_counted(ROUTE, request.method, response.status_code, started)
        content = response.content
        headers = [
            *response.items(),
            *(("Set-Cookie", cookie.output(header="")) for cookie in response.cookies.values()),
        ]
        if not response.has_header("Content-Length"):
            headers.append(("Content-Length", str(len(content))))
        start_response(f"{response.status_code} {response.reason_phrase}", headers)
        return _Answer(content, request)
