"""``/resource/api_keys`` (GET, POST) and ``/resource/api_keys/{kid}`` (PATCH, DELETE)."""

import hashlib
import hmac
import re
import time
from http import HTTPStatus

import pytest

from accounts.services import user_otp_set, user_state_set
from apikeys.models import APIKey
from apikeys.services import api_key_create, api_key_secret, api_key_update
from barong.api.errors import ApiError
from tests.factories import totp_code
from tests.resource_account.helpers import HUGE, two_factor_on, unthrottle

pytestmark = pytest.mark.django_db

KEYS = "/api/v2/resource/api_keys"
HEX16 = re.compile(r"^[0-9a-f]{16}$")
HEX32 = re.compile(r"^[0-9a-f]{32}$")
ENTITY_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
# Additions to Barong's entity (docs/compatibility.md): what limits the key.
LIMITS = ["enforced_scope", "allowed_cidrs", "expires_at", "operator_restricted"]


@pytest.fixture
def owner(make_user, clock):
    """A member with 2FA on (the only kind who may manage keys)."""
    return two_factor_on(make_user(), clock)


def _snapshot(user) -> list[tuple]:
    return list(
        APIKey.objects.filter(user=user)
        .order_by("id")
        .values_list("kid", "state", "scope", "encrypted_secret")
    )


# ---------------------------------------------------------------- from a user to a working key


def test_from_a_new_user_to_a_working_hmac_key_over_http(auth_api, make_user, clock):
    user = make_user()
    client = auth_api(user)

    qr = client.post("/api/v2/resource/otp/generate_qrcode")
    assert qr.status_code == HTTPStatus.CREATED
    enabled = client.post("/api/v2/resource/otp/enable", {"code": totp_code(user, clock.now)})
    assert enabled.status_code == HTTPStatus.CREATED
    created = client.post(
        KEYS,
        {"algorithm": "HS256", "scope": "trade,read", "totp_code": clock.next_code(user)},
    )

    assert created.status_code == HTTPStatus.CREATED
    body = created.json()
    secret = body["secret"]["data"]["value"]
    nonce = str(int(time.time() * 1000))
    signature = hmac.new(
        secret.encode(), (nonce + body["kid"]).encode(), hashlib.sha256
    ).hexdigest()
    stored = APIKey.objects.get(kid=body["kid"])
    expected = hmac.new(
        api_key_secret(api_key=stored).encode(), (nonce + stored.kid).encode(), hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(signature, expected)
    assert (stored.state, stored.user_id, stored.scope) == ("active", user.pk, ["trade", "read"])


# ---------------------------------------------------------------- POST


@pytest.mark.parametrize("fmt", ["multipart", "json"])
def test_create_shows_the_secret_once_in_barongs_envelope(auth_api, owner, clock, fmt):
    client = auth_api(owner)

    response = client.post(
        KEYS,
        {
            "algorithm": "HS256",
            "kid": "mine",
            "scope": "a, b,,c",
            "totp_code": clock.next_code(owner),
        },
        format=fmt,
    )

    assert response.status_code == HTTPStatus.CREATED
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert list(body) == [
        "kid",
        "algorithm",
        "scope",
        "state",
        *LIMITS,
        "secret",
        "created_at",
        "updated_at",
    ]
    assert HEX16.match(body["kid"])  # a client kid is ignored for HS keys
    assert (body["algorithm"], body["scope"], body["state"]) == ("HS256", ["a", "b", "c"], "active")
    assert ENTITY_TIME.match(body["created_at"])
    secret = body["secret"]["data"]["value"]
    assert HEX32.match(secret)
    assert body["secret"] == {
        "auth": None,
        "data": {"value": secret},
        "lease_duration": 0,
        "lease_id": "",
        "metadata": None,
        "renewable": False,
        "warnings": None,
        "wrap_info": None,
    }
    stored = APIKey.objects.get(kid=body["kid"])
    assert secret not in stored.encrypted_secret  # encrypted at rest
    assert api_key_secret(api_key=stored) == secret
    listed = client.get(KEYS).json()
    assert "secret" not in listed[0]
    assert secret not in str(listed)


def test_create_without_scope_gives_an_empty_list(auth_api, owner, clock):
    response = auth_api(owner).post(
        KEYS, {"algorithm": "HS256", "totp_code": clock.next_code(owner)}
    )

    assert response.status_code == HTTPStatus.CREATED
    assert response.json()["scope"] == []


def test_each_key_gets_its_own_kid_and_secret(auth_api, owner, clock):
    client = auth_api(owner)
    bodies = [
        client.post(KEYS, {"algorithm": "HS256", "totp_code": clock.next_code(owner)}).json()
        for _ in range(3)
    ]

    assert len({b["kid"] for b in bodies}) == 3
    assert len({b["secret"]["data"]["value"] for b in bodies}) == 3


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            {},
            [
                "resource.apikey.missing_algorithm",
                "resource.apikey.empty_algorithm",
                "resource.api_key.missing_totp",
                "resource.apikey.empty_totp_code",
            ],
        ),
        ({"algorithm": "", "totp_code": "123456"}, ["resource.apikey.empty_algorithm"]),
        ({"algorithm": "HS256", "totp_code": ""}, ["resource.apikey.empty_totp_code"]),
        ({"algorithm": "HS256", "totp_code": "  "}, ["resource.apikey.empty_totp_code"]),
        ({"algorithm": "HS256", "kid": "", "totp_code": "1"}, ["resource.apikey.empty_kid"]),
        ({"algorithm": "HS256", "scope": "", "totp_code": "1"}, ["resource.apikey.empty_scope"]),
        ({"algorithm": "HS256", "scope": None, "totp_code": "1"}, ["resource.apikey.empty_scope"]),
        (
            {"algorithm": {"x": 1}, "scope": ["a"], "totp_code": "1"},
            ["resource.apikey.invalid_algorithm", "resource.apikey.invalid_scope"],
        ),
        ({"algorithm": "HS256", "totp_code": {"a": 1}}, ["resource.apikey.invalid_totp_code"]),
    ],
)
def test_create_parameter_keys(auth_api, owner, body, errors):
    response = auth_api(owner).post(KEYS, body, format="json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": errors}
    assert _snapshot(owner) == []


@pytest.mark.parametrize(
    ("algorithm", "errors"),
    [
        ("HS512", ["algorithm.inclusion"]),
        ("hs256", ["algorithm.inclusion", "kid.blank"]),
        ("RS256", ["algorithm.inclusion", "kid.blank"]),
        ("пароль", ["algorithm.inclusion", "kid.blank"]),
        (HUGE, ["algorithm.inclusion", "kid.blank"]),
    ],
)
def test_create_accepts_only_hs256(auth_api, owner, clock, algorithm, errors):
    response = auth_api(owner).post(
        KEYS, {"algorithm": algorithm, "totp_code": clock.next_code(owner)}, format="json"
    )

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": errors}
    assert _snapshot(owner) == []


def test_create_with_a_client_kid_for_a_non_hs_algorithm_still_fails(auth_api, owner, clock):
    response = auth_api(owner).post(
        KEYS, {"algorithm": "RS256", "kid": "my-kid", "totp_code": clock.next_code(owner)}
    )

    assert response.json() == {"errors": ["algorithm.inclusion"]}
    assert _snapshot(owner) == []


def test_create_with_a_huge_scope(auth_api, owner, clock):
    response = auth_api(owner).post(
        KEYS, {"algorithm": "HS256", "scope": HUGE, "totp_code": clock.next_code(owner)}
    )

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["scope.too_long"]}
    assert _snapshot(owner) == []


def test_create_with_unicode_scope(auth_api, owner, clock):
    response = auth_api(owner).post(
        KEYS,
        {"algorithm": "HS256", "scope": "торговля,取引", "totp_code": clock.next_code(owner)},
        format="json",
    )

    assert response.status_code == HTTPStatus.CREATED
    assert response.json()["scope"] == ["торговля", "取引"]


# ---------------------------------------------------------------- the 2FA guard (POST/PATCH/DELETE)


def _mutations(kid: str, code: str):
    return [
        ("post", KEYS, {"algorithm": "HS256", "totp_code": code}),
        ("patch", f"{KEYS}/{kid}", {"state": "inactive", "totp_code": code}),
        ("delete", f"{KEYS}/{kid}?totp_code={code}", None),
    ]


@pytest.mark.parametrize("operation", [0, 1, 2])
def test_every_change_needs_2fa_on(auth_api, make_user, clock, operation):
    user = make_user()
    api_key, _ = api_key_create(user=user)  # e.g. made before 2FA was switched off
    method, url, body = _mutations(api_key.kid, "123456")[operation]
    before = _snapshot(user)

    response = getattr(auth_api(user), method)(url, body, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {"errors": ["resource.api_key.2fa_disabled"]}
    assert _snapshot(user) == before


@pytest.mark.parametrize("operation", [0, 1, 2])
@pytest.mark.parametrize("code", ["000000", "abc", HUGE, "пароль"])
def test_every_change_needs_a_valid_totp(auth_api, owner, operation, code):
    api_key, _ = api_key_create(user=owner)
    method, url, body = _mutations(api_key.kid, code)[operation]
    if method == "delete":
        url, body = f"{KEYS}/{api_key.kid}", {"totp_code": code}
    before = _snapshot(owner)

    response = getattr(auth_api(owner), method)(url, body, format="json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["resource.api_key.invalid_totp"]}
    assert _snapshot(owner) == before


def test_a_totp_code_is_accepted_once(auth_api, owner, clock):
    client = auth_api(owner)
    code = clock.next_code(owner)

    first = client.post(KEYS, {"algorithm": "HS256", "totp_code": code})
    unthrottle(owner)
    second = client.post(KEYS, {"algorithm": "HS256", "totp_code": code})

    assert first.status_code == HTTPStatus.CREATED
    assert second.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert second.json() == {"errors": ["resource.api_key.invalid_totp"]}
    assert len(_snapshot(owner)) == 1


def test_totp_guessing_is_rate_limited(auth_api, owner, clock):
    client = auth_api(owner)
    for _ in range(10):
        unthrottle(owner)
        client.post(KEYS, {"algorithm": "HS256", "totp_code": "000000"})
    unthrottle(owner)

    response = client.post(KEYS, {"algorithm": "HS256", "totp_code": clock.next_code(owner)})

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert response.json() == {"errors": ["resource.api_key.too_many_requests"]}
    assert _snapshot(owner) == []


# ---------------------------------------------------------------- GET


def test_list_shows_only_my_keys_without_secrets(auth_api, owner, make_user):
    mine = [api_key_create(user=owner, scope=["read"])[0] for _ in range(2)]
    api_key_create(user=make_user())

    response = auth_api(owner).get(KEYS)

    assert response.status_code == HTTPStatus.OK
    assert [k["kid"] for k in response.json()] == [k.kid for k in mine]
    assert list(response.json()[0]) == [
        "kid",
        "algorithm",
        "scope",
        "state",
        *LIMITS,
        "created_at",
        "updated_at",
    ]
    assert response.json()[0]["scope"] == ["read"]
    assert (response["Total"], response["Page"], response["Per-Page"]) == ("2", "1", "100")


def test_list_needs_no_2fa_and_may_be_empty(auth_api, make_user):
    response = auth_api(make_user()).get(KEYS)

    assert response.status_code == HTTPStatus.OK
    assert response.json() == []
    assert response["Total"] == "0"


def test_list_paginates(auth_api, owner):
    keys = [api_key_create(user=owner)[0] for _ in range(3)]

    response = auth_api(owner).get(f"{KEYS}?page=2&limit=2")

    assert [k["kid"] for k in response.json()] == [keys[2].kid]
    assert (response["Total"], response["Page"], response["Per-Page"]) == ("3", "2", "2")


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ("page=x", ["non_integer_page"]),
        ("page=0", ["non_positive_page"]),
        ("limit=0", ["invalid_limit"]),
        ("limit=1000", ["invalid_limit"]),
        (f"limit={'9' * 50}", ["non_integer_limit"]),
    ],
)
def test_list_bad_pagination(auth_api, owner, query, errors):
    response = auth_api(owner).get(f"{KEYS}?{query}")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": errors}


def test_api_keys_need_authentication(api):
    assert api.get(KEYS).status_code == HTTPStatus.UNAUTHORIZED
    assert api.post(KEYS, {"algorithm": "HS256"}).status_code == HTTPStatus.UNAUTHORIZED


# ---------------------------------------------------------------- PATCH


@pytest.mark.parametrize("fmt", ["multipart", "json"])
def test_update_state_and_scope(auth_api, owner, clock, fmt):
    api_key, _ = api_key_create(user=owner, scope=["read"])
    client = auth_api(owner)

    off = client.patch(
        f"{KEYS}/{api_key.kid}",
        {"state": "inactive", "scope": "trade,withdraw", "totp_code": clock.next_code(owner)},
        format=fmt,
    )
    on = client.patch(
        f"{KEYS}/{api_key.kid}",
        {"state": "active", "totp_code": clock.next_code(owner)},
        format=fmt,
    )

    assert off.status_code == HTTPStatus.OK
    assert (off.json()["state"], off.json()["scope"]) == ("inactive", ["trade", "withdraw"])
    assert "secret" not in off.json()
    assert on.status_code == HTTPStatus.OK
    # An omitted scope keeps the stored one (Barong reset it to an empty list).
    assert (on.json()["state"], on.json()["scope"]) == ("active", ["trade", "withdraw"])
    api_key.refresh_from_db()
    assert (api_key.state, api_key.scope) == ("active", ["trade", "withdraw"])


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, ["resource.apikey.missing_totp_code", "resource.apikey.empty_totp_code"]),
        ({"totp_code": ""}, ["resource.apikey.empty_totp_code"]),
        ({"state": "", "totp_code": "1"}, ["resource.apikey.empty_state"]),
        ({"scope": " ", "totp_code": "1"}, ["resource.apikey.empty_scope"]),
        ({"state": ["active"], "totp_code": "1"}, ["resource.apikey.invalid_state"]),
        ({"scope": {"a": 1}, "totp_code": "1"}, ["resource.apikey.invalid_scope"]),
    ],
)
def test_update_parameter_keys(auth_api, owner, body, errors):
    api_key, _ = api_key_create(user=owner)
    before = _snapshot(owner)

    response = auth_api(owner).patch(f"{KEYS}/{api_key.kid}", body, format="json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": errors}
    assert _snapshot(owner) == before


@pytest.mark.parametrize("state", ["ACTIVE", "Disabled", "enabled", "пароль", HUGE])
def test_update_accepts_only_active_inactive_or_disabled(auth_api, owner, clock, state):
    api_key, _ = api_key_create(user=owner)
    before = _snapshot(owner)

    response = auth_api(owner).patch(
        f"{KEYS}/{api_key.kid}", {"state": state, "totp_code": clock.next_code(owner)}
    )

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["state.inclusion"]}
    assert _snapshot(owner) == before


def test_update_with_a_huge_scope_changes_nothing(auth_api, owner, clock):
    api_key, _ = api_key_create(user=owner, scope=["read"])
    before = _snapshot(owner)

    response = auth_api(owner).patch(
        f"{KEYS}/{api_key.kid}",
        {"scope": HUGE, "state": "inactive", "totp_code": clock.next_code(owner)},
    )

    assert response.json() == {"errors": ["scope.too_long"]}
    assert _snapshot(owner) == before


@pytest.mark.parametrize("whose", ["someone else's", "unknown", "huge", "unicode", "nul"])
def test_update_of_a_key_that_is_not_mine_is_not_found(auth_api, owner, make_user, clock, whose):
    theirs, _ = api_key_create(user=make_user())
    kid = {
        "someone else's": theirs.kid,
        "unknown": "0123456789abcdef",
        "huge": HUGE,
        "unicode": "ключ",
        "nul": "ab%00cd",  # PostgreSQL refuses a NUL in a query: never sent to it
    }[whose]

    response = auth_api(owner).patch(
        f"{KEYS}/{kid}", {"state": "inactive", "totp_code": clock.next_code(owner)}
    )

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"errors": ["record.not_found"]}
    theirs.refresh_from_db()
    assert theirs.state == "active"


def test_put_on_a_key_is_not_an_operation(auth_api, owner):
    api_key, _ = api_key_create(user=owner)

    response = auth_api(owner).put(f"{KEYS}/{api_key.kid}", {"state": "inactive"})

    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED


# ---------------------------------------------------------------- DELETE


def test_delete_removes_the_key_and_its_secret(auth_api, owner, clock):
    api_key, _ = api_key_create(user=owner)
    other, _ = api_key_create(user=owner)

    response = auth_api(owner).delete(f"{KEYS}/{api_key.kid}?totp_code={clock.next_code(owner)}")

    assert response.status_code == HTTPStatus.NO_CONTENT
    assert response.content == b""
    assert not APIKey.objects.filter(kid=api_key.kid).exists()
    assert APIKey.objects.filter(kid=other.kid).exists()


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ("", ["resource.apikey.missing_totp_code", "resource.apikey.empty_totp_code"]),
        ("?totp_code=", ["resource.apikey.empty_totp_code"]),
    ],
)
def test_delete_parameter_keys(auth_api, owner, query, errors):
    api_key, _ = api_key_create(user=owner)

    response = auth_api(owner).delete(f"{KEYS}/{api_key.kid}{query}")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": errors}
    assert APIKey.objects.filter(kid=api_key.kid).exists()


def test_delete_of_someone_elses_key_is_not_found(auth_api, owner, make_user, clock):
    theirs, _ = api_key_create(user=make_user())

    response = auth_api(owner).delete(f"{KEYS}/{theirs.kid}?totp_code={clock.next_code(owner)}")

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"errors": ["record.not_found"]}
    assert APIKey.objects.filter(kid=theirs.kid).exists()


# ---------------------------------------------------------------- who keeps working keys


def test_turning_2fa_off_or_a_ban_switches_keys_off(owner, make_user):
    api_key, _ = api_key_create(user=owner)
    user_otp_set(user=owner, enabled=False)
    api_key.refresh_from_db()
    assert api_key.state == "inactive"

    banned = make_user()
    user_otp_set(user=banned, enabled=True)
    theirs, _ = api_key_create(user=banned)
    user_state_set(user=banned, state="banned")
    theirs.refresh_from_db()
    assert theirs.state == "inactive"


def test_a_key_cannot_turn_active_for_an_owner_who_may_not_use_it(owner):
    api_key, _ = api_key_create(user=owner)
    api_key_update(api_key=api_key, state="inactive")
    user_state_set(user=owner, state="locked")

    with pytest.raises(ApiError) as refused:
        api_key_update(api_key=api_key, state="active")

    assert refused.value.keys == ["resource.api_key.user_not_active"]
    user_state_set(user=owner, state="active")
    user_otp_set(user=owner, enabled=False)
    with pytest.raises(ApiError) as no_2fa:
        api_key_update(api_key=api_key, state="active")
    assert no_2fa.value.keys == ["resource.api_key.2fa_disabled"]
    api_key.refresh_from_db()
    assert api_key.state == "inactive"


def test_a_banned_user_cannot_reach_the_api(auth_api, owner):
    client = auth_api(owner)
    user_state_set(user=owner, state="banned")

    response = client.get(KEYS)

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"errors": ["authz.user_not_active"]}


def test_secrets_are_never_logged(auth_api, owner, clock, caplog):
    caplog.set_level("DEBUG")

    response = auth_api(owner).post(
        KEYS, {"algorithm": "HS256", "totp_code": clock.next_code(owner)}
    )

    secret = response.json()["secret"]["data"]["value"]
    assert secret not in caplog.text
