"""API keys that do only what they say, at the authz endpoint: scopes mapped to Peatio's
paths (BARONG_API_KEY_SCOPES), the allowed networks checked against the client address as
barong/api/net.py resolves it, expiry; keys without scopes as in Barong. Each test runs
through Django's view, the WSGI front and its fast path (tests/authz/conftest.py)."""

import datetime
import itertools
import time
from http import HTTPStatus

import pytest
from django.utils import timezone

from apikeys.models import APIKey
from apikeys.services import api_key_create
from apikeys.signatures import api_key_cache_invalidate
from tests.authz.conftest import bearer, signed_headers

pytestmark = pytest.mark.django_db

AUTH = "/api/v2/auth/api/v2/peatio"
ORDERS = f"{AUTH}/market/orders"
CANCEL = f"{AUTH}/market/orders/42/cancel"
BALANCES = f"{AUTH}/account/balances"
WITHDRAWS = f"{AUTH}/account/withdraws"
BENEFICIARIES = f"{AUTH}/account/beneficiaries/7/activate"

# (method, path) → which scopes let it through
CALLS = [
    ("get", BALANCES, {"read"}),
    ("get", ORDERS, {"read", "trade"}),
    ("post", ORDERS, {"trade"}),
    ("post", CANCEL, {"trade"}),
    ("post", WITHDRAWS, {"withdraw"}),
    ("get", WITHDRAWS, {"read", "withdraw"}),
    ("patch", BENEFICIARIES, {"withdraw"}),
    ("delete", f"{AUTH}/account/beneficiaries/7", {"withdraw"}),
    ("post", f"{AUTH}/account/internal_transfers", {"withdraw"}),
    ("post", f"{AUTH}/account/deposit_address/btc", set()),
]


_nonces = itertools.count()


def _call(api, method: str, path: str, kid: str, secret: str, **extra):
    """A signed call; each gets its own nonce (a signature is accepted once)."""
    nonce = int(time.time() * 1000) + next(_nonces) % 1000
    return getattr(api, method)(path, **signed_headers(kid, secret, nonce=nonce), **extra)


@pytest.mark.parametrize("scope", ["read", "trade", "withdraw"])
@pytest.mark.parametrize(
    ("method", "path", "allowed"), CALLS, ids=[f"{m} {p}" for m, p, _ in CALLS]
)
def test_a_scoped_key_goes_only_where_its_scope_says(api, key_owner, scope, method, path, allowed):
    key, secret = api_key_create(user=key_owner, scope=[scope])

    response = _call(api, method, path, key.kid, secret)

    if scope in allowed:
        assert response.status_code == HTTPStatus.OK
        assert bearer(response)["scope"] == scope
    else:
        assert response.status_code == HTTPStatus.FORBIDDEN
        assert response.json() == {"errors": ["authz.api_key_scope"]}


def test_several_scopes_add_up_and_the_jwt_names_them(api, key_owner):
    key, secret = api_key_create(user=key_owner, scope=["trade", "read", "mystery"])

    order = _call(api, "post", ORDERS, key.kid, secret)
    balances = _call(api, "get", BALANCES, key.kid, secret)
    withdraw = _call(api, "post", WITHDRAWS, key.kid, secret)

    assert order.status_code == HTTPStatus.OK
    assert bearer(order)["scope"] == "read trade"  # configured names only, sorted
    assert balances.status_code == HTTPStatus.OK
    assert withdraw.status_code == HTTPStatus.FORBIDDEN
    assert withdraw.json() == {"errors": ["authz.api_key_scope"]}


@pytest.mark.parametrize("scope", [[], ["mystery"], ["READ"], ["торговля"]])
def test_keys_without_a_configured_scope_keep_barongs_behaviour(api, key_owner, scope):
    key, secret = api_key_create(user=key_owner, scope=scope)

    responses = [_call(api, method, path, key.kid, secret) for method, path, _ in CALLS]

    assert [r.status_code for r in responses] == [HTTPStatus.OK] * len(CALLS)
    assert "scope" not in bearer(responses[0])


def test_the_scope_table_is_configuration(api, key_owner, settings):
    settings.BARONG_API_KEY_SCOPES = {"read": ["GET api/v2/peatio/account"], "trade": []}
    key, secret = api_key_create(user=key_owner, scope=["read"])

    balances = _call(api, "get", BALANCES, key.kid, secret)
    orders = _call(api, "get", ORDERS, key.kid, secret)

    assert balances.status_code == HTTPStatus.OK
    assert orders.status_code == HTTPStatus.FORBIDDEN
    assert orders.json() == {"errors": ["authz.api_key_scope"]}


def test_scopes_do_not_widen_the_roles_rules(api, key_owner):
    key, secret = api_key_create(user=key_owner, scope=["read"])

    response = _call(api, "get", "/api/v2/auth/api/v2/barong/admin/users", key.kid, secret)

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json() == {"errors": ["authz.invalid_permission"]}


# ---------------------------------------------------------------- networks


def test_a_key_with_networks_works_only_from_them(api, key_owner):
    key, secret = api_key_create(user=key_owner, allowed_cidrs=["198.51.100.0/24", "2001:db8::/32"])

    outside = _call(api, "get", BALANCES, key.kid, secret)  # 203.0.113.10, the test client's
    inside = _call(api, "get", BALANCES, key.kid, secret, REMOTE_ADDR="198.51.100.77")
    inside_v6 = _call(api, "get", BALANCES, key.kid, secret, REMOTE_ADDR="2001:db8::5")

    assert outside.status_code == HTTPStatus.FORBIDDEN
    assert outside.json() == {"errors": ["authz.api_key_address"]}
    assert inside.status_code == HTTPStatus.OK
    assert inside_v6.status_code == HTTPStatus.OK


def test_networks_are_checked_against_the_address_net_py_believes(api, key_owner):
    key, secret = api_key_create(user=key_owner, allowed_cidrs=["198.51.100.0/24"])

    # A trusted proxy (a private peer, the default) hands the client's address on.
    proxied = _call(
        api, "get", BALANCES, key.kid, secret,
        REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.9",
    )  # fmt: skip
    # An untrusted peer cannot claim an allowed address.
    spoofed = _call(
        api, "get", BALANCES, key.kid, secret,
        REMOTE_ADDR="203.0.113.99", HTTP_X_FORWARDED_FOR="198.51.100.9",
    )  # fmt: skip

    assert proxied.status_code == HTTPStatus.OK
    assert spoofed.status_code == HTTPStatus.FORBIDDEN
    assert spoofed.json() == {"errors": ["authz.api_key_address"]}


def test_networks_and_scopes_apply_together(api, key_owner):
    key, secret = api_key_create(user=key_owner, scope=["read"], allowed_cidrs=["198.51.100.0/24"])
    inside = {"REMOTE_ADDR": "198.51.100.1"}

    read = _call(api, "get", BALANCES, key.kid, secret, **inside)
    trade = _call(api, "post", ORDERS, key.kid, secret, **inside)

    assert read.status_code == HTTPStatus.OK
    assert trade.json() == {"errors": ["authz.api_key_scope"]}


# ---------------------------------------------------------------- expiry


def test_an_expired_key_is_refused_and_its_jwt_dies(api, key_owner, auth_api):
    key, secret = api_key_create(
        user=key_owner, expires_at=timezone.now() + datetime.timedelta(hours=1)
    )
    before = _call(api, "get", "/api/v2/auth/api/v2/barong/resource/users/me", key.kid, secret)
    token = before["Authorization"]

    # The hour goes by (the row is moved, as time would move it).
    APIKey.objects.filter(pk=key.pk).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    api_key_cache_invalidate(key.kid)
    after = _call(api, "get", BALANCES, key.kid, secret)
    me = api.get("/api/v2/resource/users/me", HTTP_AUTHORIZATION=token)

    assert before.status_code == HTTPStatus.OK
    assert after.status_code == HTTPStatus.UNAUTHORIZED
    assert after.json() == {"errors": ["authz.api_key_expired"]}
    assert me.status_code == HTTPStatus.UNAUTHORIZED


def test_a_key_expiring_later_works(api, key_owner):
    key, secret = api_key_create(
        user=key_owner, expires_at=timezone.now() + datetime.timedelta(days=1)
    )

    assert _call(api, "post", WITHDRAWS, key.kid, secret).status_code == HTTPStatus.OK
