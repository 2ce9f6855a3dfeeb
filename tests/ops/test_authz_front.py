"""The authz WSGI front (permissions/wsgi.py) runs the request-id and metrics middlewares too.

gunicorn serves ``/api/v2/auth`` through the front, which runs only the middlewares listed
up to ``AuthzMiddleware``: the request id and the request/decision counters must be there.
"""

import pytest
from django.core.signals import request_finished, request_started

from permissions.wsgi import AuthzFront
from tests.authz.test_front import Recorder, call
from tests.ops.test_metrics import scrape, value

pytestmark = pytest.mark.django_db

PUBLIC = "/api/v2/auth/api/v2/barong/identity/ping"
PRIVATE = "/api/v2/auth/api/v2/barong/resource/users/me"


def test_front_answers_carry_a_fresh_request_id():
    front = AuthzFront(Recorder())

    _, first, _ = call(front, PUBLIC)
    _, second, _ = call(front, PRIVATE)

    assert len(first["X-Request-ID"]) == 32
    assert len(second["X-Request-ID"]) == 32
    assert first["X-Request-ID"] != second["X-Request-ID"]


def test_front_calls_are_counted_by_route_status_and_decision(api):
    front = AuthzFront(Recorder())
    before = scrape(api)

    call(front, PUBLIC)
    call(front, PRIVATE)

    after = scrape(api)
    name = "barong_http_requests_total"
    for status in ("200", "401"):
        labels = {"route": "api/v2/auth/<path>", "method": "GET", "status": status}
        assert value(after, name, **labels) == value(before, name, **labels) + 1, labels
    name = "barong_authz_decisions_total"
    for labels in (
        {"result": "allow", "reason": "public"},
        {"result": "deny", "reason": "authz.invalid_session"},
    ):
        assert value(after, name, **labels) == value(before, name, **labels) + 1, labels


def test_front_answers_carry_their_content_length(api):
    front = AuthzFront(Recorder())

    for path in (PUBLIC, PRIVATE):
        _, headers, content = call(front, path)
        assert int(headers["Content-Length"]) == len(content)
        assert "Transfer-Encoding" not in headers


def _broken(*args, **kwargs):
    raise RuntimeError("boom")


def test_an_unexpected_error_in_the_view_is_json_500_with_the_request_id(monkeypatch):
    monkeypatch.setattr("permissions.authz.authorize", _broken)
    front = AuthzFront(Recorder(), fast_path=False)  # the full path's error handling

    status, headers, content = call(front, PRIVATE, cookie="_barong_session=nosuchsession")

    assert status == "500 Internal Server Error"
    assert content == b'{"errors": ["server.internal_error"]}'
    assert len(headers["X-Request-ID"]) == 32


def test_an_error_outside_the_view_gets_djangos_error_answer(monkeypatch):
    monkeypatch.setattr("permissions.middleware.authz_view", _broken)
    front = AuthzFront(Recorder(), fast_path=False)  # a public call the fast path may answer

    status, headers, content = call(front, PUBLIC, request_id="gateway-id-0001")

    assert status == "500 Internal Server Error"
    assert headers["Content-Type"] == "application/json"
    assert b"server.internal_error" in content
    assert headers["X-Request-ID"] == "gateway-id-0001"  # the gateway's own id is kept


def test_an_oversized_body_is_413_before_it_is_read():
    front = AuthzFront(Recorder())

    status, headers, content = call(front, PRIVATE, content_length=str(10**9))

    assert status == "413 Request Entity Too Large"
    assert content == b'{"errors": ["request.too_large"]}'
    assert len(headers["X-Request-ID"]) == 32


def test_other_receivers_of_the_request_signals_still_hear_of_front_calls():
    heard = []

    def started(sender, **kwargs):
        heard.append(("started", kwargs["environ"]["PATH_INFO"]))

    def finished(sender, **kwargs):
        heard.append(("finished", sender))

    request_started.connect(started)
    request_finished.connect(finished)
    try:
        call(AuthzFront(Recorder()), PUBLIC)
    finally:
        request_started.disconnect(started)
        request_finished.disconnect(finished)

    assert heard == [("started", PUBLIC), ("finished", AuthzFront)]
