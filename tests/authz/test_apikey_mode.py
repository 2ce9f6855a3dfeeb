"""/api/v2/auth/<path> with X-Auth-Apikey/Nonce/Signature: signature, nonce window, replay."""

import hashlib
import hmac
import time
from http import HTTPStatus

import pytest
from django.core.cache import cache

from accounts.services import user_otp_set, user_role_set, user_state_set
from apikeys.models import APIKey
from apikeys.services import api_key_create
from apikeys.signatures import api_key_verify
from barong.api.errors import ApiError
from tests.authz.conftest import bearer, signed_headers
from tests.resource_account.helpers import two_factor_on

pytestmark = pytest.mark.django_db

ME = "/api/v2/auth/api/v2/barong/resource/users/me"


@pytest.fixture
def api_key(key_owner):
    return api_key_create(user=key_owner)


def test_signed_request_gets_the_owners_token(api, api_key, key_owner):
    key, secret = api_key

    response = api.get(ME, **signed_headers(key.kid, secret))

    assert response.status_code == HTTPStatus.OK
    assert response.content == b""
    claims = bearer(response)
    assert claims["uid"] == key_owner.uid
    assert claims["email"] == key_owner.email


def test_csrf_is_not_checked_in_api_key_mode(api, api_key):
    key, secret = api_key

    response = api.post(ME, **signed_headers(key.kid, secret))

    assert response.status_code == HTTPStatus.OK


@pytest.mark.parametrize(
    "missing", ["HTTP_X_AUTH_APIKEY", "HTTP_X_AUTH_NONCE", "HTTP_X_AUTH_SIGNATURE"]
)
def test_any_absent_header_is_invalid_api_key_headers_422(api, api_key, missing):
    key, secret = api_key
    headers = signed_headers(key.kid, secret)
    del headers[missing]

    response = api.get(ME, **headers)

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["authz.invalid_api_key_headers"]}


@pytest.mark.parametrize(
    "blank", ["HTTP_X_AUTH_APIKEY", "HTTP_X_AUTH_NONCE", "HTTP_X_AUTH_SIGNATURE"]
)
def test_any_blank_header_is_invalid_api_key_headers_422(api, api_key, blank):
    key, secret = api_key
    headers = {**signed_headers(key.kid, secret), blank: ""}

    response = api.get(ME, **headers)

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["authz.invalid_api_key_headers"]}


def test_one_header_alone_selects_api_key_mode_even_with_a_session(api, make_user, api_key):
    from tests.authz.conftest import login

    login(api, make_user())

    response = api.get(ME, HTTP_X_AUTH_APIKEY="abc")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["authz.invalid_api_key_headers"]}


@pytest.mark.parametrize("kid", ["0123456789abcdef", "x" * 300, "ü", "a b", "a\x00b"])
def test_unknown_kid_is_unexistent_apikey(api, db, kid):
    headers = signed_headers("0123456789abcdef", "0" * 32)
    headers["HTTP_X_AUTH_APIKEY"] = kid

    response = api.get(ME, **headers)

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"errors": ["authz.unexistent_apikey"]}


@pytest.mark.parametrize("nonce", ["abc", "-5", "0", "1.5", "1e12", "١٢٣", "9" * 30, " 12"])
def test_malformed_nonce_is_nonce_not_valid_timestamp(api, api_key, nonce):
    key, secret = api_key

    response = api.get(ME, **signed_headers(key.kid, secret, nonce=nonce))

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"errors": ["authz.nonce_not_valid_timestamp"]}


def test_stale_nonce_is_nonce_expired(api, api_key, settings):
    key, secret = api_key
    stale = int(time.time() * 1000) - settings.BARONG_APIKEY_NONCE_LIFETIME - 1000

    response = api.get(ME, **signed_headers(key.kid, secret, nonce=stale))

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"errors": ["authz.nonce_expired"]}


def test_future_nonce_is_nonce_from_future(api, api_key, settings):
    key, secret = api_key
    future = int(time.time() * 1000) + settings.BARONG_APIKEY_NONCE_LIFETIME + 1000

    response = api.get(ME, **signed_headers(key.kid, secret, nonce=future))

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"errors": ["authz.nonce_from_future"]}


def test_nonce_window_edges(api_key):
    key, secret = api_key
    now = 1_800_000_000_000

    def verify(nonce: int):
        headers = signed_headers(key.kid, secret, nonce=nonce)
        return api_key_verify(
            kid=key.kid,
            nonce=headers["HTTP_X_AUTH_NONCE"],
            signature=headers["HTTP_X_AUTH_SIGNATURE"],
            now_ms=now,
        )

    assert verify(now - 4999).kid == key.kid
    assert verify(now + 5000).kid == key.kid
    with pytest.raises(ApiError) as expired:
        verify(now - 5000)
    assert expired.value.keys == ["authz.nonce_expired"]
    with pytest.raises(ApiError) as future:
        verify(now + 5001)
    assert future.value.keys == ["authz.nonce_from_future"]


def test_replayed_signature_is_signature_blacklisted(api, api_key):
    key, secret = api_key
    headers = signed_headers(key.kid, secret)

    first = api.get(ME, **headers)
    replay = api.get(ME, **headers)

    assert first.status_code == HTTPStatus.OK
    assert replay.status_code == HTTPStatus.UNAUTHORIZED
    assert replay.json() == {"errors": ["authz.signature_blacklisted"]}


def test_a_new_nonce_is_a_new_signature(api, api_key):
    key, secret = api_key
    now = int(time.time() * 1000)

    assert api.get(ME, **signed_headers(key.kid, secret, nonce=now)).status_code == 200
    assert api.get(ME, **signed_headers(key.kid, secret, nonce=now + 1)).status_code == 200


def test_replay_marker_lasts_the_whole_window(api_key, settings):
    key, secret = api_key
    headers = signed_headers(key.kid, secret)
    api_key_verify(
        kid=key.kid,
        nonce=headers["HTTP_X_AUTH_NONCE"],
        signature=headers["HTTP_X_AUTH_SIGNATURE"],
    )

    marker = f"authz:apikey:signature:{headers['HTTP_X_AUTH_SIGNATURE']}"
    assert cache.get(marker) == 1


@pytest.mark.parametrize(
    "signature",
    ["0" * 64, "deadbeef", "", "Z" * 64, "é" * 64, "x" * 10_000],
)
def test_wrong_or_malformed_signature_is_invalid_signature(api, api_key, signature):
    key, secret = api_key
    headers = {**signed_headers(key.kid, secret), "HTTP_X_AUTH_SIGNATURE": signature}

    response = api.get(ME, **headers)

    if signature == "":
        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        assert response.json() == {"errors": ["authz.invalid_api_key_headers"]}
    else:
        assert response.status_code == HTTPStatus.UNAUTHORIZED
        assert response.json() == {"errors": ["authz.invalid_signature"]}


def test_upper_case_signature_is_not_a_replay_loophole(api, api_key):
    key, secret = api_key
    headers = signed_headers(key.kid, secret)
    assert api.get(ME, **headers).status_code == HTTPStatus.OK

    upper = {**headers, "HTTP_X_AUTH_SIGNATURE": headers["HTTP_X_AUTH_SIGNATURE"].upper()}

    assert api.get(ME, **upper).status_code == HTTPStatus.UNAUTHORIZED


def test_signature_over_another_kid_is_invalid(api, key_owner, api_key):
    key, secret = api_key
    other, _ = api_key_create(user=key_owner)
    nonce = str(int(time.time() * 1000))
    signature = hmac.new(secret.encode(), (nonce + key.kid).encode(), hashlib.sha256).hexdigest()

    response = api.get(
        ME,
        HTTP_X_AUTH_APIKEY=other.kid,
        HTTP_X_AUTH_NONCE=nonce,
        HTTP_X_AUTH_SIGNATURE=signature,
    )

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"errors": ["authz.invalid_signature"]}


def test_failed_signature_does_not_burn_the_real_one(api, api_key):
    key, secret = api_key
    headers = signed_headers(key.kid, secret)
    forged = {**headers, "HTTP_X_AUTH_SIGNATURE": "0" * 64}

    assert api.get(ME, **forged).status_code == HTTPStatus.UNAUTHORIZED
    assert api.get(ME, **headers).status_code == HTTPStatus.OK


def test_inactive_key_is_apikey_not_active(api, api_key):
    key, secret = api_key
    assert api.get(ME, **signed_headers(key.kid, secret)).status_code == HTTPStatus.OK

    key.state = APIKey.State.INACTIVE
    key.save()

    response = api.get(ME, **signed_headers(key.kid, secret, nonce=int(time.time() * 1000) + 1))
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"errors": ["authz.apikey_not_active"]}


def test_a_key_switched_off_as_opendax_does_is_refused_until_switched_on(
    api, auth_api, make_user, clock
):
    """OpenDAX's profile page sends ``state: "disabled"`` (Barong stored any word): the key
    is stored inactive and refused, by the Django view and the fast path alike."""
    owner = two_factor_on(make_user(), clock)
    key, secret = api_key_create(user=owner)
    nonce = int(time.time() * 1000)
    assert api.get(ME, **signed_headers(key.kid, secret, nonce=nonce)).status_code == 200
    switch = f"/api/v2/barong/resource/api_keys/{key.kid}"

    off = auth_api(owner).patch(
        switch, {"totp_code": clock.next_code(owner), "state": "disabled"}, format="json"
    )

    assert (off.status_code, off.json()["state"]) == (HTTPStatus.OK, "inactive")
    assert APIKey.objects.get(pk=key.pk).state == APIKey.State.INACTIVE
    refused = api.get(ME, **signed_headers(key.kid, secret, nonce=nonce + 1))
    assert refused.status_code == HTTPStatus.UNAUTHORIZED
    assert refused.json() == {"errors": ["authz.apikey_not_active"]}

    on = auth_api(owner).patch(
        switch, {"totp_code": clock.next_code(owner), "state": "active"}, format="json"
    )

    assert (on.status_code, on.json()["state"]) == (HTTPStatus.OK, "active")
    assert api.get(ME, **signed_headers(key.kid, secret, nonce=nonce + 2)).status_code == 200


def test_deleted_key_is_unexistent_at_once(api, api_key):
    key, secret = api_key
    assert api.get(ME, **signed_headers(key.kid, secret)).status_code == HTTPStatus.OK

    APIKey.objects.filter(pk=key.pk).delete()

    response = api.get(ME, **signed_headers(key.kid, secret, nonce=int(time.time() * 1000) + 1))
    assert response.json() == {"errors": ["authz.unexistent_apikey"]}


def test_banned_owner_is_refused_at_once(api, api_key, key_owner):
    key, secret = api_key
    assert api.get(ME, **signed_headers(key.kid, secret)).status_code == HTTPStatus.OK

    user_state_set(user=key_owner, state="banned")

    response = api.get(ME, **signed_headers(key.kid, secret, nonce=int(time.time() * 1000) + 1))
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    # The ban also switched the key off, as Barong's clients see it.
    assert response.json() == {"errors": ["authz.apikey_not_active"]}


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("state", "locked", "authz.invalid_session"),  # an owner no longer active
        ("otp", False, "authz.disabled_2fa"),  # an owner without 2FA
    ],
)
def test_owner_changed_behind_an_active_key_is_refused(
    api, api_key, key_owner, field, value, error
):
    key, secret = api_key
    setattr(key_owner, field, value)
    key_owner.save(update_fields=[field])  # bypasses the service: the key stays active

    response = api.get(ME, **signed_headers(key.kid, secret))

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"errors": [error]}


def test_2fa_switched_off_deactivates_keys_at_once(api, api_key, key_owner):
    key, secret = api_key
    assert api.get(ME, **signed_headers(key.kid, secret)).status_code == HTTPStatus.OK

    user_otp_set(user=key_owner, enabled=False)

    response = api.get(ME, **signed_headers(key.kid, secret, nonce=int(time.time() * 1000) + 1))
    assert response.json() == {"errors": ["authz.apikey_not_active"]}


def test_permission_check_applies_to_the_key_owner(api, api_key, key_owner):
    key, secret = api_key

    refused = api.get("/api/v2/auth/api/v2/barong/admin/users", **signed_headers(key.kid, secret))
    user_role_set(user=key_owner, role="admin")
    allowed = api.get(
        "/api/v2/auth/api/v2/barong/admin/users",
        **signed_headers(key.kid, secret, nonce=int(time.time() * 1000) + 1),
    )

    assert refused.status_code == HTTPStatus.FORBIDDEN
    assert refused.json() == {"errors": ["authz.invalid_permission"]}
    assert allowed.status_code == HTTPStatus.OK
    assert bearer(allowed)["role"] == "admin"


def test_public_paths_need_no_valid_key(api, db):
    response = api.get(
        "/api/v2/auth/api/v2/barong/identity/ping",
        HTTP_X_AUTH_APIKEY="nope",
        HTTP_X_AUTH_NONCE="1",
        HTTP_X_AUTH_SIGNATURE="x",
    )

    assert response.status_code == HTTPStatus.OK


def test_no_database_query_in_the_steady_state(api, api_key, django_assert_num_queries):
    key, secret = api_key
    now = int(time.time() * 1000)
    assert api.get(ME, **signed_headers(key.kid, secret, nonce=now)).status_code == 200

    with django_assert_num_queries(0):
        response = api.get(ME, **signed_headers(key.kid, secret, nonce=now + 1))
    assert response.status_code == HTTPStatus.OK
