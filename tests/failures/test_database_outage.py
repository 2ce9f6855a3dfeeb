"""PostgreSQL stopped and restarted for real: 503 with Retry-After, then service again.

The test starts a PostgreSQL cluster of its own (tests/failures/processes.py), migrates it
and points Django's connection at it for its duration; the test database other tests use
is never stopped. Runs only where the suite itself runs on PostgreSQL (CI).
"""

from http import HTTPStatus

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import close_old_connections, connection
from rest_framework.test import APIClient

from accounts.services import user_create
from tests.conftest import BROWSER_UA, bearer_for
from tests.failures.processes import PG_BIN, PostgresServer

pytestmark = [
    pytest.mark.skipif(
        not settings.DATABASE_URL.startswith(("postgres://", "postgresql://")),
        reason="needs DATABASE_URL on PostgreSQL (CI)",
    ),
    pytest.mark.skipif(not (PG_BIN / "initdb").exists(), reason="needs PostgreSQL binaries"),
]

PASSWORD = "Correct-Horse-Battery-9"
ME = "/api/v2/resource/users/me"


class ServerClient(APIClient):
    """Django's test client skips ``close_old_connections`` around requests; a WSGI server
    runs it, and it is what drops a broken connection and health-checks an idle one."""

    def request(self, **kwargs):
        close_old_connections()
        try:
            return super().request(**kwargs)
        finally:
            close_old_connections()


@pytest.fixture
def own_postgres(django_db_blocker):
    """Django's default connection on a throwaway cluster, migrated and seeded."""
    server = PostgresServer()
    server.init()
    server.start()
    saved = dict(connection.settings_dict)
    try:
        with django_db_blocker.unblock():
            connection.close()
            connection.settings_dict.update(
                NAME="postgres",
                USER="postgres",
                PASSWORD="",
                HOST="127.0.0.1",
                PORT=str(server.port),
                CONN_MAX_AGE=60,
                CONN_HEALTH_CHECKS=True,
            )
            call_command("migrate", verbosity=0)
            call_command("seed_permissions", verbosity=0)
            yield server
            connection.close()
    finally:
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)
        server.destroy()


def test_database_restart_is_503_then_service(own_postgres):
    user = user_create(email="outage@example.com", password=PASSWORD)
    client = ServerClient(raise_request_exception=False, HTTP_USER_AGENT=BROWSER_UA)
    bearer = ServerClient(raise_request_exception=False, HTTP_USER_AGENT=BROWSER_UA)
    bearer.credentials(HTTP_AUTHORIZATION=f"Bearer {bearer_for(user)}")
    login = {"email": user.email, "password": PASSWORD}
    assert client.post("/api/v2/identity/sessions", login, format="json").status_code == 200
    assert bearer.get(ME).status_code == HTTPStatus.OK

    own_postgres.stop()
    during = [
        client.post("/api/v2/identity/sessions", login, format="json"),
        bearer.get(ME),
        client.post("/api/v2/identity/users", {"email": "b@example.com", "password": PASSWORD}),
    ]
    ping = client.get("/api/v2/identity/ping")
    own_postgres.start()

    for response in during:
        assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
        assert response.json() == {"errors": ["server.unavailable"]}
        assert int(response["Retry-After"]) > 0
        assert settings.SESSION_COOKIE_NAME not in response.cookies
    assert ping.status_code == HTTPStatus.OK
    assert client.post("/api/v2/identity/sessions", login, format="json").status_code == 200
    assert bearer.get(ME).status_code == HTTPStatus.OK
