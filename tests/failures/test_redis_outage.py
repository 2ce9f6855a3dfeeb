"""Redis stopped, paused and restarted for real: 503 and never a logout (docs/operations.md).

Each test starts a redis-server of its own (tests/failures/processes.py) and points the
cache, the sessions and the rate limits at it; the services other tests use are untouched.
"""

import time
from http import HTTPStatus

import pytest
from django.conf import settings as django_settings
from rest_framework.test import APIClient

from accounts.models import User
from tests.conftest import BROWSER_UA, bearer_for
from tests.failures.conftest import OWN_REDIS_MARKS

pytestmark = OWN_REDIS_MARKS

PASSWORD = "Correct-Horse-Battery-9"
ME = "/api/v2/resource/users/me"
AUTHZ_ME = "/api/v2/auth/api/v2/barong/resource/users/me"
UNAVAILABLE = {"errors": ["server.unavailable"]}


@pytest.fixture
def client():
    return APIClient(
        raise_request_exception=False, HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR="203.0.113.10"
    )


def _login(client, user) -> str:
    response = client.post(
        "/api/v2/identity/sessions", {"email": user.email, "password": PASSWORD}, format="json"
    )
    assert response.status_code == HTTPStatus.OK
    return response.json()["csrf_token"]


def _assert_unavailable(response) -> None:
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.json() == UNAVAILABLE
    assert int(response["Retry-After"]) > 0
    assert django_settings.SESSION_COOKIE_NAME not in response.cookies  # never a logout


def test_what_needs_no_redis_keeps_answering(client, on_redis):
    on_redis.stop()

    for url in (
        "/api/v2/identity/ping",
        "/api/v2/identity/time",
        "/api/v2/identity/version",
        "/api/v2/identity/configs",
        "/api/v2/barong/identity/jwks",
        "/.well-known/jwks.json",
    ):
        assert client.get(url).status_code == HTTPStatus.OK, url
    validate = client.post("/api/v2/identity/password/validate", {"password": "x"})
    assert validate.status_code == HTTPStatus.CREATED


def test_cookie_session_survives_a_redis_restart(client, make_user, on_redis):
    user = make_user(password=PASSWORD)
    csrf = _login(client, user)
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    assert client.get(ME).status_code == HTTPStatus.OK

    on_redis.stop()
    during = [
        client.get(ME),
        client.get(AUTHZ_ME),
        client.post(AUTHZ_ME, HTTP_X_CSRF_TOKEN=csrf),
        client.delete("/api/v2/identity/sessions"),
    ]
    on_redis.start()

    for response in during:
        _assert_unavailable(response)
    assert client.cookies[django_settings.SESSION_COOKIE_NAME].value == cookie
    assert client.get(ME).status_code == HTTPStatus.OK
    after = client.get(AUTHZ_ME)
    assert after.status_code == HTTPStatus.OK
    assert after["Authorization"].startswith("Bearer ")


def test_identity_writes_are_503_while_redis_is_down(client, make_user, on_redis):
    user = make_user(password=PASSWORD)
    users_before = User.objects.count()
    on_redis.stop()

    responses = {
        "login": client.post(
            "/api/v2/identity/sessions", {"email": user.email, "password": PASSWORD}
        ),
        "signup": client.post(
            "/api/v2/identity/users", {"email": "new@example.com", "password": "Xy-7pq-Lmn-42a"}
        ),
        "reset": client.post("/api/v2/identity/users/password/generate_code", {"email": "a@b.co"}),
        "resend": client.post("/api/v2/identity/users/email/generate_code", {"email": "a@b.co"}),
    }

    for name, response in responses.items():
        assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE, name
        assert response.json() == UNAVAILABLE, name
    assert User.objects.count() == users_before  # no partial sign-up


def test_bearer_requests_are_503_while_redis_is_down(auth_api, make_user, on_redis):
    client = auth_api(make_user())
    client.raise_request_exception = False
    assert client.get(ME).status_code == HTTPStatus.OK

    on_redis.stop()
    response = client.get(ME)
    on_redis.start()

    _assert_unavailable(response)
    assert client.get(ME).status_code == HTTPStatus.OK


def test_paused_redis_fails_fast_and_the_session_works_after(client, make_user, on_redis):
    """SIGSTOP keeps the port open and silent: only the socket timeouts end the wait."""
    user = make_user(password=PASSWORD)
    _login(client, user)
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME].value

    on_redis.pause()
    try:
        started = time.monotonic()
        during = [client.get(ME), client.get(AUTHZ_ME)]
        elapsed = time.monotonic() - started
    finally:
        on_redis.resume()

    for response in during:
        _assert_unavailable(response)
    assert elapsed < 5  # two requests; without timeouts they would wait for SIGCONT
    assert client.cookies[django_settings.SESSION_COOKIE_NAME].value == cookie
    assert client.get(ME).status_code == HTTPStatus.OK
    assert client.get(AUTHZ_ME).status_code == HTTPStatus.OK


def test_bearer_token_minted_before_the_outage_is_not_revoked(make_user, on_redis):
    """A 503 says nothing about the credentials: the same token works once Redis is back."""
    user = make_user()
    client = APIClient(raise_request_exception=False, HTTP_USER_AGENT=BROWSER_UA)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {bearer_for(user)}")

    on_redis.pause()
    try:
        response = client.get(ME)
    finally:
        on_redis.resume()

    _assert_unavailable(response)
    assert client.get(ME).status_code == HTTPStatus.OK


def test_account_security_limits_fail_closed(auth_api, make_user, on_redis, settings):
    """The passkey and recovery-code limits refuse when they cannot count (docs/operations.md).

    Through the API the request stops earlier (the permission table's stamp lives in
    Redis too); the services are called directly as well, so the limit itself is seen
    failing closed, and the removal never runs uncounted.
    """
    from accounts.models import WebAuthnCredential
    from accounts.services.passkeys import webauthn_credential_delete, webauthn_credentials
    from accounts.services.recovery import recovery_codes_count
    from barong.api.failures import DEPENDENCY_ERRORS

    settings.BARONG_RATE_LIMITS = True
    user = make_user()
    row = WebAuthnCredential.objects.create(user=user, credential_id="QUJDRA", public_key=b"k")
    client = auth_api(user)
    client.raise_request_exception = False

    on_redis.stop()
    responses = [
        client.get("/api/v2/resource/webauthn/credentials"),
        client.delete(f"/api/v2/resource/webauthn/credentials/{row.credential_id}"),
        client.get("/api/v2/resource/otp/recovery_codes"),
    ]
    for call in (
        lambda: list(webauthn_credentials(user=user)),
        lambda: webauthn_credential_delete(user=user, credential_id=row.credential_id),
        lambda: recovery_codes_count(user=user),
    ):
        with pytest.raises(DEPENDENCY_ERRORS):
            call()
    on_redis.start()

    for response in responses:
        _assert_unavailable(response)
    assert WebAuthnCredential.objects.filter(pk=row.pk).exists()
    assert client.get("/api/v2/resource/webauthn/credentials").status_code == HTTPStatus.OK
