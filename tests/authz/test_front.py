"""The WSGI front (permissions/wsgi.py): which requests it answers, which it hands on.

The answers themselves are tested by the whole authz suite, which runs through the front
as well as through Django's test client (tests/authz/conftest.py).
"""

import pytest

from permissions.wsgi import AuthzFront
from tests.authz.conftest import gateway_environ, wsgi_call

pytestmark = pytest.mark.django_db


class Recorder:
    """Stands for Django's application: records the paths handed to it."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    def __call__(self, environ, start_response):
        self.paths.append(environ["PATH_INFO"])
        start_response("204 No Content", [])
        return [b""]


def call(
    app,
    path: str,
    *,
    cookie: str = "",
    request_id: str = "",
    content_length: str = "",
) -> tuple[str, dict[str, str], bytes]:
    environ = gateway_environ(path, cookie=cookie)
    if request_id:
        environ["HTTP_X_REQUEST_ID"] = request_id
    if content_length:
        environ["CONTENT_LENGTH"] = content_length
    sent: dict = {}

    def start_response(status, headers, exc_info=None):
        sent["status"], sent["headers"] = status, dict(headers)

    content = wsgi_call(app, environ, start_response)
    return sent["status"], sent["headers"], content


@pytest.mark.parametrize(
    "path", ["/api/v2/identity/ping", "/api/v2/authorize", "/api/v2/auth_x", "/", "/admin/"]
)
def test_other_paths_go_to_django_untouched(path):
    django_app = Recorder()

    status, _, _ = call(AuthzFront(django_app), path)

    assert status == "204 No Content"
    assert django_app.paths == [path]


@pytest.mark.parametrize("path", ["/api/v2/auth", "/api/v2/auth/api/v2/barong/resource/users/me"])
def test_authz_calls_are_answered_by_the_front(path):
    django_app = Recorder()

    status, headers, content = call(AuthzFront(django_app), path)

    assert django_app.paths == []
    assert status == "401 Unauthorized"
    assert headers["Content-Type"] == "application/json"
    assert content == b'{"errors": ["authz.invalid_session"]}'


def test_public_path_passes_without_credentials():
    status, _, content = call(AuthzFront(Recorder()), "/api/v2/auth/api/v2/barong/identity/ping")

    assert status == "200 OK"
    assert content == b""


def test_gunicorns_entry_point_is_the_front(settings):
    from barong import wsgi

    assert settings.BARONG_WSGI_FRONT == "permissions.wsgi.AuthzFront"
    assert isinstance(wsgi.application, AuthzFront)
