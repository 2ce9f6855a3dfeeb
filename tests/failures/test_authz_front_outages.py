"""The authz front (permissions/wsgi.py) while Redis is stopped, paused or restarted.

The front is what gunicorn serves for ``/api/v2/auth``, and its cache reads go over a
pinned connection (barong/redis_wire.py): a dead Redis must be 503 JSON with the request
id, a restarted one must serve the very next call (the pinned connection is replaced),
a paused one must fail at the socket timeout. Each test runs its own redis-server.
"""

import time
from http import HTTPStatus

import pytest
from rest_framework.test import APIClient

from barong.redis_local import MAX_AGE
from barong.wsgi import application
from permissions.wsgi import AuthzFront
from tests.authz.conftest import CLIENT_IP, gateway_environ, wsgi_call
from tests.conftest import BROWSER_UA
from tests.failures.conftest import OWN_REDIS_MARKS
from tests.ops.test_metrics import scrape, value

assert isinstance(application, AuthzFront)  # what gunicorn serves

pytestmark = OWN_REDIS_MARKS

PASSWORD = "Correct-Horse-Battery-9"
AUTHZ_ME = "/api/v2/auth/api/v2/barong/resource/users/me"
PUBLIC = "/api/v2/auth/api/v2/barong/identity/ping"


@pytest.fixture
def session(make_user, on_redis) -> str:
    """A session cookie of a member, logged in over the API."""
    client = APIClient(HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR=CLIENT_IP)
    user = make_user(password=PASSWORD)
    response = client.post(
        "/api/v2/identity/sessions", {"email": user.email, "password": PASSWORD}, format="json"
    )
    assert response.status_code == HTTPStatus.OK
    return client.cookies["_barong_session"].value


def front_get(cookie: str | None, path: str = AUTHZ_ME) -> tuple[int, dict[str, str], bytes]:
    environ = gateway_environ(path, cookie=f"_barong_session={cookie}" if cookie else "")
    sent: dict = {}

    def start_response(status, headers, exc_info=None):
        sent["status"], sent["headers"] = status, headers

    content = wsgi_call(application, environ, start_response)
    headers = dict(sent["headers"])
    if "Set-Cookie" in headers:  # the idle expiry slid: the same session, never a logout
        assert headers["Set-Cookie"].strip().startswith(f"_barong_session={cookie};")
    return int(sent["status"].split()[0]), headers, content


def assert_unavailable(status: int, headers: dict[str, str], content: bytes) -> None:
    assert status == HTTPStatus.SERVICE_UNAVAILABLE
    assert content == b'{"errors": ["server.unavailable"]}'
    assert headers["Content-Type"] == "application/json"
    assert int(headers["Retry-After"]) > 0
    assert len(headers["X-Request-ID"]) == 32
    assert int(headers["Content-Length"]) == len(content)


def test_stopped_redis_is_503_with_a_request_id_and_counted(session, on_redis, api):
    assert front_get(session)[0] == HTTPStatus.OK
    on_redis.stop()
    try:
        before = scrape(api)  # /metrics reads no cache
        answer = front_get(session)
        after = scrape(api)
    finally:
        on_redis.start()

    assert_unavailable(*answer)
    labels = {"route": "api/v2/auth/<path>", "method": "GET", "status": "503"}
    name = "barong_http_requests_total"
    assert value(after, name, **labels) == value(before, name, **labels) + 1
    assert front_get(session)[0] == HTTPStatus.OK  # the session outlived the outage


def test_a_redis_restart_between_two_calls_costs_no_answer(session, on_redis):
    """The pinned connection dies with the server; the next call reconnects and answers."""
    assert front_get(session)[0] == HTTPStatus.OK
    on_redis.stop()
    on_redis.start()

    status, headers, _ = front_get(session)

    assert status == HTTPStatus.OK
    assert headers["Authorization"].startswith("Bearer ")


def test_paused_redis_fails_at_the_socket_timeout(session, on_redis):
    assert front_get(session)[0] == HTTPStatus.OK
    on_redis.pause()
    try:
        started = time.monotonic()
        answer = front_get(session)
        elapsed = time.monotonic() - started
    finally:
        on_redis.resume()

    assert_unavailable(*answer)
    assert elapsed < 0.95  # one 0.5 s timeout: a stuck Redis is not tried twice
    assert front_get(session)[0] == HTTPStatus.OK


def test_a_paused_redis_leaves_the_fast_paths_copies_one_second_at_most(session, on_redis):
    """A paused Redis closes no connection, so nothing tells the copies to go: they answer
    public calls until their one second is up, then the call is 503 (docs/operations.md)."""
    assert front_get(session)[0] == HTTPStatus.OK  # both tables loaded, both stamps set
    for _ in range(2):  # the first read makes the copies, the second answers from them
        assert front_get(None, PUBLIC)[0] == HTTPStatus.OK
    on_redis.pause()
    try:
        held = front_get(None, PUBLIC)
        time.sleep(MAX_AGE + 0.1)
        answer = front_get(None, PUBLIC)
    finally:
        on_redis.resume()

    assert held[0] == HTTPStatus.OK
    assert_unavailable(*answer)
    assert front_get(None, PUBLIC)[0] == HTTPStatus.OK
