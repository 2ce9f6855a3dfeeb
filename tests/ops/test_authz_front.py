"""The authz WSGI front (permissions/wsgi.py) runs the request-id and metrics middlewares too.

gunicorn serves ``/api/v2/auth`` through the front, which runs only the middlewares listed
up to ``AuthzMiddleware``: the request id and the request/decision counters must be there.
"""

import pytest

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
