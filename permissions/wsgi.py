"""``/api/v2/auth/<path>`` answered in front of Django's WSGI handler.

The gateway calls the authz endpoint before every request it forwards. Django's handler
would take such a call through its request signals' connection checks, the URL-conf and
script-prefix set-up, the middleware chain, response logging and header assembly; the
front (``barong/wsgi.py`` wraps Django's application in it, named by
``BARONG_WSGI_FRONT``) builds the request itself and runs only the middlewares listed
before ``AuthzMiddleware`` in ``MIDDLEWARE`` and ``AuthzMiddleware`` itself, which answers.
Every other path goes to Django unchanged.

The answers are the same objects the Django stack returns: the same middleware classes,
the same ``authz_view``, the same session store and compiled tables, exceptions turned
into responses by Django's own ``response_for_exception``. tests/authz runs the whole
authz suite through this front as well as through Django's test client.
"""

from django.conf import settings
from django.core import signals
from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIRequest
from django.http import HttpRequest, HttpResponse
from django.utils.module_loading import import_string

from permissions.middleware import authz_raw_path

AUTHZ_MIDDLEWARE = "permissions.middleware.AuthzMiddleware"


def _not_authz(request: HttpRequest) -> HttpResponse:
    """Never reached: the front only takes paths that ``AuthzMiddleware`` answers."""
    raise RuntimeError(f"the authz front was handed {request.path_info!r}")


def authz_chain():
    """The middlewares up to and including ``AuthzMiddleware``, wrapped as Django does."""
    names = list(settings.MIDDLEWARE)
    handler = convert_exception_to_response(_not_authz)
    for name in reversed(names[: names.index(AUTHZ_MIDDLEWARE) + 1]):
        handler = convert_exception_to_response(import_string(name)(handler))
    return handler


class AuthzFront:
    """A WSGI application: authz calls answered here, everything else by ``django_app``."""

    def __init__(self, django_app) -> None:
        self.django_app = django_app
        self.chain = authz_chain()

    def __call__(self, environ: dict, start_response):
        # The raw PATH_INFO starts as the decoded one does: the prefix is plain ASCII.
        if authz_raw_path(environ.get("PATH_INFO", "")) is None:
            return self.django_app(environ, start_response)
        signals.request_started.send(sender=self.__class__, environ=environ)
        request = WSGIRequest(environ)
        response = self.chain(request)
        response._resource_closers.append(request.close)
        headers = [
            *response.items(),
            *(("Set-Cookie", cookie.output(header="")) for cookie in response.cookies.values()),
        ]
        start_response(f"{response.status_code} {response.reason_phrase}", headers)
        return response  # the server's close() sends request_finished, as Django's does
