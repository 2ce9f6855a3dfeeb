"""X-Request-ID: answered on every response, kept when sane, written into activity rows."""

import json
import logging

import pytest

from activities.models import Activity
from barong.request_id import JsonFormatter, RequestIdFilter
from tests.factories import DEFAULT_PASSWORD


@pytest.mark.parametrize(
    "path", ["/api/v2/identity/ping", "/api/v2/auth/api/v2/barong/identity/ping", "/nowhere"]
)
def test_every_answer_carries_a_request_id(api, db, path):
    first = api.get(path)["X-Request-ID"]
    second = api.get(path)["X-Request-ID"]
    assert len(first) == 32
    assert first != second


def test_a_sane_incoming_id_is_kept(api, db):
    response = api.get("/api/v2/identity/ping", HTTP_X_REQUEST_ID="gw-1234-abcd-5678")
    assert response["X-Request-ID"] == "gw-1234-abcd-5678"


@pytest.mark.parametrize(
    "given", ["short", "x" * 65, "has space in it", "bad\nheader-value", "<script>alert</script>"]
)
def test_an_odd_incoming_id_is_replaced(api, db, given):
    response = api.get("/api/v2/identity/ping", HTTP_X_REQUEST_ID=given)
    assert response["X-Request-ID"] != given
    assert len(response["X-Request-ID"]) == 32


def test_activity_rows_record_the_request_id(api, make_user):
    user = make_user()
    response = api.post(
        "/api/v2/identity/sessions",
        {"email": user.email, "password": DEFAULT_PASSWORD},
        HTTP_X_REQUEST_ID="login-req-000001",
    )
    assert response.status_code == 200
    row = Activity.objects.filter(user=user, topic="session").latest("id")
    assert row.request_id == "login-req-000001"


def test_rows_outside_a_request_have_none(make_user):
    from activities.services import activity_record

    user = make_user()
    row = activity_record(user=user, topic="session", action="login")
    assert row.request_id is None


def test_json_log_lines_carry_the_request_id():
    record = logging.LogRecord(
        "barong.test", logging.WARNING, __file__, 1, "hello %s", ("you",), None
    )
    RequestIdFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "hello you"
    assert line["level"] == "WARNING"
    assert line["logger"] == "barong.test"
    assert line["request_id"] == "-"
