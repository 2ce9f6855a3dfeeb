"""Races that must resolve to one winner, on a real (transactional) database."""

import threading
from http import HTTPStatus

import pytest
from django.db import connection

from accounts.models import User
from tests.accounts.conftest import STRONG_PASSWORD, CommittingAPIClient, last_token
from tests.conftest import BROWSER_UA

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor == "sqlite",
        reason="SQLite serialises writers with table locks; the race needs PostgreSQL",
    ),
]


def race(count: int, action) -> list:
    """Run ``action(n)`` in ``count`` threads released together; results in any order."""
    barrier = threading.Barrier(count)
    results: list = []

    def run(n: int) -> None:
        try:
            barrier.wait()
            results.append(action(n))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_concurrent_sign_ups_with_one_email_create_one_user(mailoutbox):
    def sign_up(n: int):
        client = CommittingAPIClient(HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR=f"203.0.113.{n}")
        email = "race@example.com" if n % 2 else "RACE@example.com"
        response = client.post(
            "/api/v2/identity/users", {"email": email, "password": STRONG_PASSWORD}, format="json"
        )
        return response.status_code, response.json()

    results = race(6, sign_up)

    created = [body for status, body in results if status == HTTPStatus.CREATED]
    refused = [body for status, body in results if status != HTTPStatus.CREATED]
    assert len(created) == 1
    assert refused == [{"errors": ["email.taken"]}] * 5
    assert User.objects.filter(email="race@example.com").count() == 1
    assert len(mailoutbox) == 1


def test_concurrent_confirmations_succeed_once(mailoutbox):
    client = CommittingAPIClient(HTTP_USER_AGENT=BROWSER_UA)
    client.post("/api/v2/identity/users", {"email": "c@example.com", "password": STRONG_PASSWORD})
    token = last_token(mailoutbox, "confirmation")

    def confirm(n: int):
        browser = CommittingAPIClient(HTTP_USER_AGENT=BROWSER_UA)
        response = browser.post(
            "/api/v2/identity/users/email/confirm_code", {"token": token}, format="json"
        )
        return response.status_code

    statuses = race(4, confirm)

    assert statuses.count(HTTPStatus.CREATED) == 1
    assert statuses.count(HTTPStatus.UNPROCESSABLE_ENTITY) == 3
    user = User.objects.get(email="c@example.com")
    assert (user.state, user.level) == ("active", 1)
