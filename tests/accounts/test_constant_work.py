"""Reset, resend and a failed login do the same work for known and unknown e-mails.

Timing is not measured (it is noisy); the work is: the same SQL statements and the same
task enqueued with arguments of the same shape. The worker's half is tested on its own.
"""

import re
from http import HTTPStatus

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tasks import user_email_request, user_login_failure_record
from activities.models import Activity

pytestmark = pytest.mark.django_db

PASSWORD = "Correct-Horse-Battery-9"
UNKNOWN = "nobody-here@example.com"


@pytest.fixture
def enqueued(monkeypatch):
    """What the request hands to Celery (recorded, not run: the worker is tested below)."""
    calls: list[tuple[str, tuple]] = []
    for task in (user_email_request, user_login_failure_record):
        monkeypatch.setattr(task, "delay", lambda *args, _n=task.name: calls.append((_n, args)))
    return calls


def _work(api, url, data, email):
    """(SQL with the e-mail and timestamps blanked, status, body); the accounts ``api`` client
    runs the on-commit callbacks (the enqueues) of each request. A timestamp (the login's
    30-day new-device window) moves between two requests; the work does not."""
    with CaptureQueriesContext(connection) as queries:
        response = api.post(url, data, format="json")
    sql = [re.sub(re.escape(email), "<e>", q["sql"], flags=re.IGNORECASE) for q in queries]
    sql = [re.sub(r"'\d{4}-\d\d-\d\d[ T][\d:.+]+'", "<t>", q) for q in sql]
    return sql, response.status_code, response.json()


@pytest.mark.parametrize(
    "url",
    ["/api/v2/identity/users/password/generate_code", "/api/v2/identity/users/email/generate_code"],
)
@pytest.mark.parametrize("state", ["pending", "active"])
def test_code_requests_do_the_same_work_for_any_email(api, make_user, enqueued, url, state):
    user = make_user(verified=state == "active")

    known = _work(api, url, {"email": user.email}, user.email)
    known_calls = list(enqueued)
    enqueued.clear()
    unknown = _work(api, url, {"email": UNKNOWN}, UNKNOWN)

    assert known == unknown
    assert known[1] == HTTPStatus.CREATED
    assert len(known_calls) == len(enqueued) == 1
    assert known_calls[0][0] == enqueued[0][0]
    assert [type(a) for a in known_calls[0][1]] == [type(a) for a in enqueued[0][1]]
    assert known_calls[0][1][0] == user.email
    assert enqueued[0][1][0] == UNKNOWN


def test_login_failure_does_the_same_work_for_any_email(api, make_user, enqueued):
    user = make_user(password=PASSWORD)
    url = "/api/v2/identity/sessions"

    known = _work(
        api,
        url,
        {"email": user.email, "password": "Wrong-Pass-123"},
        user.email,
    )
    known_calls = list(enqueued)
    enqueued.clear()
    unknown = _work(
        api,
        url,
        {"email": UNKNOWN, "password": "Wrong-Pass-123"},
        UNKNOWN,
    )

    assert known == unknown
    assert known[1] == HTTPStatus.UNAUTHORIZED
    assert len(known[0]) == 1  # the one look-up; no activity insert in the request
    assert [name for name, _ in known_calls] == [name for name, _ in enqueued]
    assert [type(a) for a in known_calls[0][1]] == [type(a) for a in enqueued[0][1]]


def test_an_overlong_email_is_looked_up_as_nothing(api, make_user, enqueued):
    make_user(email="a" * 60 + "@example.com")
    long_email = "a" * 60 + "@example.com" + "x" * 250

    api.post("/api/v2/identity/sessions", {"email": long_email, "password": "x"}, format="json")

    assert enqueued[0][1][0] == ""


# ---------------------------------------------------------------- the worker's half


def test_worker_sends_the_reset_email_and_records_the_request(
    make_user, mailoutbox, django_capture_on_commit_callbacks
):
    user = make_user()

    with django_capture_on_commit_callbacks(execute=True):
        sent = user_email_request.apply(
            args=(user.email.upper(), "password_reset", None, "198.51.100.4", "Mozilla/5.0 x")
        ).get()

    assert sent is True
    assert [m.to for m in mailoutbox] == [[user.email]]
    row = Activity.objects.get(user=user, topic="password")
    assert (row.action, row.user_ip) == ("request password reset", "198.51.100.4")


def test_worker_ignores_an_unknown_email(db, mailoutbox):
    sent = user_email_request.apply(
        args=(UNKNOWN, "password_reset", None, "198.51.100.4", "Mozilla/5.0 x")
    ).get()

    assert sent is False
    assert mailoutbox == []
    assert not Activity.objects.exists()


def test_worker_resends_confirmation_only_to_users_not_active(
    make_user, mailoutbox, django_capture_on_commit_callbacks
):
    pending = make_user(verified=False)
    active = make_user()

    with django_capture_on_commit_callbacks(execute=True):
        results = [
            user_email_request.apply(
                args=(user.email, "email_confirmation", None, "198.51.100.4", "Mozilla/5.0 x")
            ).get()
            for user in (pending, active)
        ]

    assert results == [True, False]
    assert [m.to for m in mailoutbox] == [[pending.email]]


def test_worker_records_a_failed_login_only_for_an_account(make_user):
    user = make_user()

    user_login_failure_record.apply(args=(user.email, "198.51.100.4", "Mozilla/5.0 x")).get()
    user_login_failure_record.apply(args=(UNKNOWN, "198.51.100.4", "Mozilla/5.0 x")).get()

    row = Activity.objects.get()
    assert (row.user, row.topic, row.action, row.result) == (user, "session", "login", "failed")
    assert row.user_ip == "198.51.100.4"
