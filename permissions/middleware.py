"""The gateway's authz calls, answered ahead of the rest of the middleware stack.

``/api/v2/auth/<path>`` runs before every proxied request, so its cost bounds the whole
exchange's throughput. It needs only its session (loaded, slid and saved exactly as
``SessionMiddleware`` does); the security, CSRF (the endpoint is exempt), common,
authentication, OTP, message and frame-options layers have nothing to do for an
answer that only the gateway reads. Skipping them and the URL resolver saves about a
sixth of the request's CPU (docs/BENCHMARKS.md). Any other path goes down the stack.
Under a WSGI server the front in ``permissions/wsgi.py`` runs this middleware without
Django's handler around it.
"""

from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpRequest, HttpResponse

from permissions.authz import authz_view

PREFIX = "/api/v2/auth"


def authz_raw_path(path_info: str) -> str | None:
    """The checked part of an authz call's path; None for any other path."""
    if path_info == PREFIX:
        return ""
    if path_info.startswith(PREFIX + "/"):
        return path_info[len(PREFIX) + 1 :]
    return None


class AuthzMiddleware:
    """First in ``MIDDLEWARE``: ``/api/v2/auth`` and ``/api/v2/auth/<path>`` stop here."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.sessions = SessionMiddleware(get_response)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        raw = authz_raw_path(request.path_info)
        if raw is None:
            return self.get_response(request)
        self.sessions.process_request(request)
        response = authz_view(request, raw)
        return self.sessions.process_response(request, response)
