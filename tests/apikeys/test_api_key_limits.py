"""API-key limits in the resource API, the admin API and the back-office: scope the key is
held to, allowed networks, expiry, an operator's restriction; checked, audited, no partial
writes. (Their enforcement at the gateway: tests/authz/test_api_key_scopes.py.)"""

import datetime
from http import HTTPStatus

import pytest
from django.utils import timezone

from activities.models import Activity
from apikeys.models import APIKey
from apikeys.services import api_key_create
from tests.resource_account.helpers import HUGE, two_factor_on

pytestmark = pytest.mark.django_db

KEYS = "/api/v2/resource/api_keys"
ADMIN_KEYS = "/api/v2/admin/api_keys"


@pytest.fixture
def owner(make_user, clock):
    return two_factor_on(make_user(), clock)


def _rows(user) -> list[tuple]:
    return list(
        APIKey.objects.filter(user=user)
        .order_by("id")
        .values_list("kid", "state", "scope", "allowed_cidrs", "expires_at", "operator_restricted")
    )


def _in(days: int) -> str:
    return (timezone.now() + datetime.timedelta(days=days)).replace(microsecond=0).isoformat()


# ---------------------------------------------------------------- resource API


def test_create_with_scopes_networks_and_expiry_shows_them(auth_api, owner, clock):
    expires = _in(30)
    response = auth_api(owner).post(
        KEYS,
        {
            "algorithm": "HS256",
            "scope": "read,trade,custom",
            "allowed_cidrs": "198.51.100.0/24, 2001:db8::1",
            "expires_at": expires,
            "totp_code": clock.next_code(owner),
        },
        format="json",
    )

    assert response.status_code == HTTPStatus.CREATED
    body = response.json()
    assert body["scope"] == ["read", "trade", "custom"]
    assert body["enforced_scope"] == ["read", "trade"]  # "custom" is configured nowhere
    assert body["allowed_cidrs"] == ["198.51.100.0/24", "2001:db8::1/128"]
    assert body["expires_at"] == expires.replace("+00:00", "Z")
    assert body["operator_restricted"] is False
    listed = auth_api(owner).get(KEYS).json()[0]
    assert (listed["enforced_scope"], listed["allowed_cidrs"]) == (
        ["read", "trade"],
        ["198.51.100.0/24", "2001:db8::1/128"],
    )
    audit = Activity.objects.filter(user=owner, topic="api_keys", action="api key create")
    assert audit.count() == 1


def test_a_key_without_configured_scopes_is_shown_unrestricted(auth_api, owner, clock):
    response = auth_api(owner).post(
        KEYS, {"algorithm": "HS256", "totp_code": clock.next_code(owner)}
    )

    body = response.json()
    assert (body["scope"], body["enforced_scope"], body["allowed_cidrs"], body["expires_at"]) == (
        [],
        None,
        [],
        None,
    )


def test_update_sets_and_clears_networks_and_expiry(auth_api, owner, clock):
    api_key, _ = api_key_create(user=owner)
    client = auth_api(owner)
    in_30_days = int(timezone.now().timestamp()) + 30 * 86400

    set_ = client.patch(
        f"{KEYS}/{api_key.kid}",
        {
            "allowed_cidrs": "203.0.113.7",
            "expires_at": str(in_30_days),
            "totp_code": clock.next_code(owner),
        },
        format="json",
    )
    cleared = client.patch(
        f"{KEYS}/{api_key.kid}",
        {"allowed_cidrs": "", "expires_at": "", "totp_code": clock.next_code(owner)},
        format="json",
    )

    assert set_.status_code == HTTPStatus.OK
    assert (set_.json()["allowed_cidrs"], set_.json()["expires_at"]) == (
        ["203.0.113.7/32"],
        datetime.datetime.fromtimestamp(in_30_days, tz=datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    assert cleared.status_code == HTTPStatus.OK
    assert (cleared.json()["allowed_cidrs"], cleared.json()["expires_at"]) == ([], None)
    audit = Activity.objects.filter(user=owner, topic="api_keys", action="api key update")
    assert audit.count() == 2


@pytest.mark.parametrize(
    ("limits", "errors"),
    [
        ({"allowed_cidrs": "not-a-network"}, ["allowed_cidrs.invalid"]),
        ({"allowed_cidrs": "10.0.0.0/33"}, ["allowed_cidrs.invalid"]),
        ({"allowed_cidrs": "10.0.0.1\x00"}, ["resource.apikey.invalid_allowed_cidrs"]),
        ({"allowed_cidrs": "١٢٣.0.0.1"}, ["allowed_cidrs.invalid"]),
        (
            {"allowed_cidrs": ",".join(f"10.0.{n}.0/24" for n in range(40))},
            ["allowed_cidrs.too_many"],
        ),
        ({"allowed_cidrs": HUGE}, ["resource.apikey.invalid_allowed_cidrs"]),
        ({"allowed_cidrs": ["10.0.0.0/8"]}, ["resource.apikey.invalid_allowed_cidrs"]),
        ({"expires_at": "tomorrow"}, ["expires_at.invalid"]),
        ({"expires_at": "9" * 30}, ["expires_at.invalid"]),
        ({"expires_at": "99999-01-01"}, ["expires_at.invalid"]),
        ({"expires_at": "2020-01-01T00:00:00Z"}, ["expires_at.in_the_past"]),
        ({"expires_at": "1"}, ["expires_at.in_the_past"]),
        ({"expires_at": "9999-12-31T23:59:59+00:00"}, ["expires_at.too_far"]),
        ({"expires_at": {"a": 1}}, ["resource.apikey.invalid_expires_at"]),
    ],
)
def test_hostile_limits_are_4xx_with_a_key_and_write_nothing(
    auth_api, owner, clock, limits, errors
):
    api_key, _ = api_key_create(user=owner)
    before = _rows(owner)
    client = auth_api(owner)

    created = client.post(
        KEYS, {"algorithm": "HS256", "totp_code": clock.next_code(owner), **limits}, format="json"
    )
    updated = client.patch(
        f"{KEYS}/{api_key.kid}", {"totp_code": clock.next_code(owner), **limits}, format="json"
    )

    for response in (created, updated):
        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        assert response.json() == {"errors": errors}
    assert _rows(owner) == before


def test_an_operator_restricted_key_keeps_its_limits_but_can_be_switched_off(
    auth_api, owner, clock, sa_api
):
    api_key, _ = api_key_create(user=owner, scope=["read"])
    sa_api.put(ADMIN_KEYS, {"kid": api_key.kid, "restricted": True}, format="json")
    client = auth_api(owner)
    before = _rows(owner)

    refused = [
        client.patch(
            f"{KEYS}/{api_key.kid}", {**change, "totp_code": clock.next_code(owner)}, format="json"
        )
        for change in ({"scope": "read,withdraw"}, {"allowed_cidrs": ""}, {"expires_at": ""})
    ]
    assert _rows(owner) == before
    off = client.patch(
        f"{KEYS}/{api_key.kid}", {"state": "disabled", "totp_code": clock.next_code(owner)}
    )

    for response in refused:
        assert response.status_code == HTTPStatus.FORBIDDEN
        assert response.json() == {"errors": ["resource.api_key.restricted_by_operator"]}
    assert off.status_code == HTTPStatus.OK
    assert off.json()["state"] == "inactive"


# ---------------------------------------------------------------- admin API


@pytest.fixture
def sa_api(superadmin, auth_api):
    return auth_api(superadmin)


def test_operators_list_keys_with_owner_and_limits_never_secrets(sa_api, owner, make_user):
    mine, secret = api_key_create(user=owner, scope=["trade"])
    api_key_create(user=make_user())

    everyone = sa_api.get(ADMIN_KEYS)
    one = sa_api.get(ADMIN_KEYS, {"uid": owner.uid})

    assert everyone.status_code == HTTPStatus.OK
    assert len(everyone.json()) == 2
    assert [k["kid"] for k in one.json()] == [mine.kid]
    assert one.json()[0]["uid"] == owner.uid
    assert one.json()[0]["enforced_scope"] == ["trade"]
    assert secret not in everyone.content.decode()
    assert "encrypted_secret" not in everyone.content.decode()


def test_an_operator_restricts_a_key_and_it_is_audited(sa_api, superadmin, owner):
    api_key, _ = api_key_create(user=owner)
    expires = _in(7)

    response = sa_api.put(
        ADMIN_KEYS,
        {
            "kid": api_key.kid,
            "scope": "read",
            "allowed_cidrs": "192.0.2.0/24",
            "expires_at": expires,
            "restricted": "true",
        },
        format="json",
    )

    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert (body["enforced_scope"], body["allowed_cidrs"], body["operator_restricted"]) == (
        ["read"],
        ["192.0.2.0/24"],
        True,
    )
    api_key.refresh_from_db()
    assert (api_key.scope, api_key.operator_restricted) == (["read"], True)
    audit = Activity.objects.get(user=superadmin, topic="api_keys", category="admin")
    assert audit.target_uid == owner.uid
    assert '"previous"' in audit.data
    assert '"192.0.2.0/24"' in audit.data


def test_an_operator_cannot_restrict_a_key_of_an_equal_rank(admin_api, make_admin):
    other_admin = make_admin(role="admin")
    api_key, _ = api_key_create(user=other_admin)

    response = admin_api.put(ADMIN_KEYS, {"kid": api_key.kid, "scope": "read"}, format="json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["admin.api_key.insufficient_rank"]}
    api_key.refresh_from_db()
    assert api_key.scope == []


@pytest.fixture
def admin_api(make_admin, auth_api):
    return auth_api(make_admin(role="admin"))


def test_a_member_cannot_use_the_admin_api(auth_api, owner):
    api_key, _ = api_key_create(user=owner)

    response = auth_api(owner).put(ADMIN_KEYS, {"kid": api_key.kid, "restricted": "true"})

    assert response.status_code == HTTPStatus.FORBIDDEN
    api_key.refresh_from_db()
    assert api_key.operator_restricted is False


@pytest.mark.parametrize(
    ("body", "status", "errors"),
    [
        ({}, 422, ["admin.api_key.missing_kid", "admin.api_key.empty_kid"]),
        ({"kid": "nope"}, 404, ["admin.api_key.doesnt_exist"]),
        ({"kid": "x\x00y"}, 422, ["admin.api_key.invalid_kid"]),
        ({"kid": HUGE}, 422, ["admin.api_key.invalid_kid"]),
        ({"kid": "KID", "restricted": "maybe"}, 422, ["admin.api_key.invalid_restricted"]),
        ({"kid": "KID", "state": "active"}, 422, ["state.inclusion"]),
        ({"kid": "KID", "allowed_cidrs": "1.2.3.4/99"}, 422, ["allowed_cidrs.invalid"]),
        ({"kid": "KID", "expires_at": "2001-01-01"}, 422, ["expires_at.in_the_past"]),
        ({"kid": "KID", "scope": HUGE[:300]}, 422, ["scope.too_long"]),
    ],
)
def test_admin_hostile_input_is_4xx_and_writes_nothing(sa_api, owner, body, status, errors):
    api_key, _ = api_key_create(user=owner)
    body = {key: api_key.kid if value == "KID" else value for key, value in body.items()}
    before = _rows(owner)

    response = sa_api.put(ADMIN_KEYS, body, format="json")

    assert response.status_code == status
    assert response.json() == {"errors": errors}
    assert _rows(owner) == before


# ---------------------------------------------------------------- back-office


def test_the_back_office_restricts_a_key_through_the_service(make_admin, owner):
    from django.test import Client

    from tests.conftest import BROWSER_UA

    operator = make_admin(role="admin")
    client = Client(HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR="203.0.113.20")
    client.force_login(operator)
    api_key, _ = api_key_create(user=owner, scope=["read", "trade"])
    url = f"/admin/apikeys/apikey/{api_key.pk}/change/"

    page = client.get(url)
    bad = client.post(
        url,
        {"state": "active", "scope_text": "read", "cidrs_text": "nonsense", "expires_at": ""},
    )
    assert _rows(owner)[0][2:4] == (["read", "trade"], [])
    saved = client.post(
        url,
        {
            "state": "active",
            "scope_text": "read",
            "cidrs_text": "198.51.100.0/24",
            "expires_at": "",
            "operator_restricted": "on",
        },
    )

    assert page.status_code == HTTPStatus.OK
    assert "encrypted_secret" not in page.content.decode()
    assert bad.status_code == HTTPStatus.OK  # the form again, with the error
    assert saved.status_code == HTTPStatus.FOUND
    api_key.refresh_from_db()
    assert (api_key.scope, api_key.allowed_cidrs, api_key.operator_restricted) == (
        ["read"],
        ["198.51.100.0/24"],
        True,
    )
    assert Activity.objects.filter(user=operator, topic="api_keys", category="admin").count() == 1


@pytest.mark.parametrize("cidrs", [["nonsense"], ["10.0.0.0/8", 5], [None]])
def test_services_refuse_bad_networks_given_directly(owner, superadmin, cidrs):
    from apikeys.services import api_key_restrict, api_key_update
    from barong.api.errors import ApiError

    api_key, _ = api_key_create(user=owner)
    before = _rows(owner)

    with pytest.raises(ApiError) as created:
        api_key_create(user=owner, allowed_cidrs=cidrs)
    with pytest.raises(ApiError) as updated:
        api_key_update(api_key=api_key, allowed_cidrs=cidrs)
    with pytest.raises(ApiError) as restricted:
        api_key_restrict(admin=superadmin, api_key=api_key, allowed_cidrs=cidrs)

    for refused in (created, updated, restricted):
        assert refused.value.keys == ["allowed_cidrs.invalid"]
    assert _rows(owner) == before
