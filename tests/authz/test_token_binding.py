"""A JWT the authz endpoint mints dies with its session (or API key) on this server.

Both deciders (Django's path and the front's fast path) put the binding claim in: ``sid``,
the session's public id (the one /resource/sessions shows and DELETE takes, never the
cookie value), or ``api_kid`` for an API key. This server's own API then refuses a Bearer
token whose session ended: log-out, remote log-out, password change or reset, ban,
deletion, idle expiry; or whose key was disabled or deleted. Upstreams verify the
signature alone (docs/operations.md, "JWT lifetime").
"""

import time
from http import HTTPStatus

import jwt
import pytest
from django.conf import settings
from rest_framework.test import APIClient

import accounts.sessions
from accounts.sessions import session_public_id
from apikeys.services import api_key_create
from barong import jwt as barong_jwt
from tests.accounts.conftest import NEW_PASSWORD, last_token
from tests.authz.conftest import bearer, login, signed_headers
from tests.authz.gateway import ENDED, GATEWAY_ME, ME, bearer_get, device, gateway_token, log_in
from tests.conftest import bearer_for, session_open_for
from tests.factories import DEFAULT_PASSWORD
from tests.resource_account import helpers
from tests.resource_account.helpers import two_factor_on

pytestmark = pytest.mark.django_db
clock = helpers.clock  # the TOTP clock fixture

SESSIONS = "/api/v2/resource/sessions"
OTHER_UA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 Safari/605.1.15"
PASSWORD = "/api/v2/resource/users/password"
PASSWORD_CHANGE = {
    "old_password": DEFAULT_PASSWORD,
    "new_password": NEW_PASSWORD,
    "confirm_password": NEW_PASSWORD,
}


# ---------------------------------------------------------------- minting: both deciders


def test_a_session_token_carries_its_sessions_public_id(api, make_user):
    user = make_user()
    login(api, user)
    cookie = api.cookies[settings.SESSION_COOKIE_NAME].value

    response = api.get(GATEWAY_ME)

    assert response.status_code == HTTPStatus.OK
    claims = bearer(response)
    assert claims["sid"] == session_public_id(cookie)
    assert cookie not in response["Authorization"]
    assert "api_kid" not in claims
    token = response["Authorization"].removeprefix("Bearer ")
    assert bearer_get(token).status_code == HTTPStatus.OK


def test_an_api_key_token_carries_its_kid(api, make_user):
    owner = make_user()
    owner.otp = True
    owner.save(update_fields=["otp"])
    key, secret = api_key_create(user=owner)

    response = api.get(GATEWAY_ME, **signed_headers(key.kid, secret))

    assert response.status_code == HTTPStatus.OK
    claims = bearer(response)
    assert claims["api_kid"] == key.kid
    assert "sid" not in claims
    token = response["Authorization"].removeprefix("Bearer ")
    assert bearer_get(token).status_code == HTTPStatus.OK


# ---------------------------------------------------------------- a session's end


@pytest.fixture
def signed_in(make_user):
    """A user logged in on two devices, with the gateway's token of each."""
    user = make_user()
    first, second = device(), device(OTHER_UA)
    csrf = {"first": log_in(first, user), "second": log_in(second, user)}
    tokens = {"first": gateway_token(first), "second": gateway_token(second)}
    for token in tokens.values():
        assert bearer_get(token).status_code == HTTPStatus.OK
    return user, {"first": first, "second": second}, csrf, tokens


def test_log_out_ends_the_sessions_token(signed_in):
    _user, devices, csrf, tokens = signed_in

    out = devices["first"].delete("/api/v2/identity/sessions", HTTP_X_CSRF_TOKEN=csrf["first"])

    assert out.status_code == HTTPStatus.OK
    refused = bearer_get(tokens["first"])
    assert refused.status_code == HTTPStatus.UNAUTHORIZED
    assert refused.json() == ENDED
    assert bearer_get(tokens["second"]).status_code == HTTPStatus.OK


def test_remote_log_out_by_the_id_the_token_carries(signed_in):
    _user, devices, csrf, tokens = signed_in
    sid = jwt.decode(tokens["first"], options={"verify_signature": False})["sid"]

    ended = devices["second"].delete(f"{SESSIONS}/{sid}", HTTP_X_CSRF_TOKEN=csrf["second"])

    assert ended.status_code == HTTPStatus.OK, ended.content
    assert bearer_get(tokens["first"]).json() == ENDED
    assert bearer_get(tokens["second"]).status_code == HTTPStatus.OK


def test_ending_a_session_with_its_own_token_in_bearer_mode(signed_in):
    """The gateway flow: DELETE /resource/sessions/{id} carried by the other session's JWT."""
    _user, _devices, _csrf, tokens = signed_in
    sid = jwt.decode(tokens["first"], options={"verify_signature": False})["sid"]

    ended = device().delete(f"{SESSIONS}/{sid}", HTTP_AUTHORIZATION=f"Bearer {tokens['second']}")

    assert ended.status_code == HTTPStatus.OK, ended.content
    assert bearer_get(tokens["first"]).json() == ENDED


def test_password_change_ends_the_other_sessions_tokens(signed_in):
    _user, devices, csrf, tokens = signed_in
    changed = devices["second"].put(
        PASSWORD, PASSWORD_CHANGE, format="json", HTTP_X_CSRF_TOKEN=csrf["second"]
    )

    assert changed.status_code == HTTPStatus.CREATED, changed.content
    assert bearer_get(tokens["first"]).json() == ENDED
    assert bearer_get(tokens["second"]).status_code == HTTPStatus.OK  # the caller's own


def test_password_change_in_bearer_mode_keeps_the_tokens_session(signed_in):
    """Through the gateway the call carries only the JWT: its ``sid`` is the caller's."""
    _user, _devices, _csrf, tokens = signed_in
    changed = device().put(
        PASSWORD, PASSWORD_CHANGE, format="json", HTTP_AUTHORIZATION=f"Bearer {tokens['second']}"
    )

    assert changed.status_code == HTTPStatus.CREATED, changed.content
    assert bearer_get(tokens["first"]).json() == ENDED
    assert bearer_get(tokens["second"]).status_code == HTTPStatus.OK


def test_password_reset_ends_every_sessions_token(signed_in, mailoutbox):
    user, _devices, _csrf, tokens = signed_in
    stranger = device(committing=True)  # the reset link goes out by e-mail after commit
    stranger.post(
        "/api/v2/identity/users/password/generate_code", {"email": user.email}, format="json"
    )
    reset = {
        "reset_password_token": last_token(mailoutbox, "reset"),
        "password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD,
    }

    response = stranger.post("/api/v2/identity/users/password/confirm_code", reset, format="json")

    assert response.status_code == HTTPStatus.CREATED, response.content
    for token in tokens.values():
        assert bearer_get(token).json() == ENDED


def test_self_deletion_ends_the_tokens(signed_in):
    _user, devices, csrf, tokens = signed_in

    deleted = devices["first"].delete(
        f"{ME}?password={DEFAULT_PASSWORD}", HTTP_X_CSRF_TOKEN=csrf["first"]
    )

    assert deleted.status_code == HTTPStatus.OK, deleted.content
    for token in tokens.values():
        assert bearer_get(token).status_code == HTTPStatus.UNAUTHORIZED


def test_an_idle_session_takes_its_token_with_it(signed_in, monkeypatch):
    _user, _devices, _csrf, tokens = signed_in
    later = time.time() + settings.BARONG_SESSION_EXPIRE_TIME + 1

    class Later:
        @staticmethod
        def time() -> float:
            return later

    monkeypatch.setattr(accounts.sessions, "time", Later)

    # The JWT itself has most of its hour left; its session idled out.
    assert bearer_get(tokens["first"]).json() == ENDED


def test_switching_2fa_on_ends_the_other_sessions_tokens(signed_in, clock):
    user, devices, csrf, tokens = signed_in
    second, headers = devices["second"], {"HTTP_X_CSRF_TOKEN": csrf["second"]}
    assert second.post("/api/v2/resource/otp/generate_qrcode", **headers).status_code == 201
    code = clock.next_code(user)

    enabled = second.post("/api/v2/resource/otp/enable", {"code": code}, **headers)

    assert enabled.status_code == HTTPStatus.CREATED, enabled.content
    assert bearer_get(tokens["first"]).json() == ENDED
    assert bearer_get(tokens["second"]).status_code == HTTPStatus.OK


# ---------------------------------------------------------------- tokens this server refuses


def test_a_token_without_a_binding_is_refused(make_user):
    """Minted before this change, or by anything but the authz endpoint."""
    user = make_user()
    token = barong_jwt.encode({"uid": user.uid, "role": user.role}, sub="session")

    response = bearer_get(token)

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"errors": ["jwt.decode_and_verify"]}


@pytest.mark.parametrize("sid", ["0" * 32, "", "x" * 5000, 12345, None, ["a"], {"a": 1}])
def test_a_made_up_session_id_is_refused(make_user, sid):
    user = make_user()
    session_open_for(user)  # a live session the made-up id does not name
    token = barong_jwt.encode({"uid": user.uid, "sid": sid}, sub="session")

    response = bearer_get(token)

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() in (ENDED, {"errors": ["jwt.decode_and_verify"]})


def test_another_users_session_id_is_refused(make_user):
    owner, other = make_user(), make_user()
    sid = session_public_id(session_open_for(other))
    token = barong_jwt.encode({"uid": owner.uid, "sid": sid}, sub="session")

    assert bearer_get(token).json() == ENDED


# ---------------------------------------------------------------- API keys


@pytest.fixture
def key_token(make_user, clock):
    """A member with 2FA, an API key and the gateway's token for a signed request."""
    owner = two_factor_on(make_user(), clock)
    key, secret = api_key_create(user=owner)
    response = device().get(GATEWAY_ME, **signed_headers(key.kid, secret))
    assert response.status_code == HTTPStatus.OK, response.content
    token = response["Authorization"].removeprefix("Bearer ")
    assert bearer_get(token).status_code == HTTPStatus.OK
    return owner, key, token


def _owner_client(owner) -> APIClient:
    """The owner managing their keys from a session of their own."""
    client = device()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {bearer_for(owner)}")
    return client


def test_a_disabled_key_takes_its_tokens_with_it(key_token, clock):
    owner, key, token = key_token
    body = {"state": "inactive", "totp_code": clock.next_code(owner)}

    changed = _owner_client(owner).patch(f"/api/v2/resource/api_keys/{key.kid}", body)

    assert changed.status_code == HTTPStatus.OK, changed.content
    assert bearer_get(token).json() == ENDED


def test_a_deleted_key_takes_its_tokens_with_it(key_token, clock):
    owner, key, token = key_token
    query = f"totp_code={clock.next_code(owner)}"

    deleted = _owner_client(owner).delete(f"/api/v2/resource/api_keys/{key.kid}?{query}")

    assert deleted.status_code == HTTPStatus.NO_CONTENT, deleted.content
    assert bearer_get(token).json() == ENDED


def test_2fa_off_takes_the_key_tokens_with_it(key_token, clock):
    owner, _key, token = key_token
    body = {"code": clock.next_code(owner)}

    off = _owner_client(owner).post("/api/v2/resource/otp/disable", body)

    assert off.status_code == HTTPStatus.OK, off.content
    assert bearer_get(token).json() == ENDED


def test_a_made_up_or_foreign_kid_is_refused(key_token, make_user):
    owner, key, _token = key_token
    for uid, kid in ((owner.uid, "0" * 16), (make_user().uid, key.kid), (owner.uid, "\x00")):
        token = barong_jwt.encode({"uid": uid, "api_kid": kid}, sub="session")
        assert bearer_get(token).json() == ENDED
