"""A browser behind the gateway: real logins, the JWT the gateway gets, Bearer calls."""

from http import HTTPStatus

from rest_framework.test import APIClient

from tests.accounts.conftest import CommittingAPIClient
from tests.authz.conftest import CLIENT_IP
from tests.conftest import BROWSER_UA
from tests.factories import DEFAULT_PASSWORD

GATEWAY_ME = "/api/v2/auth/api/v2/barong/resource/users/me"
ME = "/api/v2/resource/users/me"
ENDED = {"errors": ["authz.invalid_session"]}


def device(agent: str = BROWSER_UA, *, committing: bool = False) -> APIClient:
    """A browser; ``committing``: its requests' on-commit work runs (e-mails), as in
    production, at the cost of sending them."""
    client_class = CommittingAPIClient if committing else APIClient
    return client_class(HTTP_USER_AGENT=agent, REMOTE_ADDR=CLIENT_IP)


def log_in(client, user, password: str = DEFAULT_PASSWORD) -> str:
    """The login endpoint, as a browser calls it; returns the CSRF token."""
    body = {"email": user.email, "password": password}
    response = client.post("/api/v2/identity/sessions", body, format="json")
    assert response.status_code == HTTPStatus.OK, response.content
    return response.json()["csrf_token"]


def gateway_token(client) -> str:
    """The JWT the gateway gets for this client's session."""
    response = client.get(GATEWAY_ME)
    assert response.status_code == HTTPStatus.OK, response.content
    return response["Authorization"].removeprefix("Bearer ")


def bearer_get(token: str, path: str = ME):
    return device().get(path, HTTP_AUTHORIZATION=f"Bearer {token}")
