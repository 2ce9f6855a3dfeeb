"""Authz paths (format suffix, dot segments, hostile input), RBAC precedence, audit rows, JWKS."""

from http import HTTPStatus

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from activities.models import Activity
from barong import jwt as barong_jwt
from permissions import authz, engine
from permissions.models import Permission
from tests.authz.conftest import bearer, login
from tests.keys import private_pem

pytestmark = pytest.mark.django_db

ME = "/api/v2/auth/api/v2/barong/resource/users/me"


# ---------------------------------------------------------------- paths


@pytest.mark.parametrize(
    ("raw", "checked"),
    [
        ("api/v2/barong/resource/users/me", "api/v2/barong/resource/users/me"),
        ("/api/v2/barong/resource/users/me", "api/v2/barong/resource/users/me"),
        ("api/v2/barong/resource/users/me.json", "api/v2/barong/resource/users/me"),
        ("api/v2/peatio/orders.tar.gz", "api/v2/peatio/orders.tar"),
        ("api/v2/barong/identity/../admin/users", "api/v2/barong/admin/users"),
        ("api/v2//barong/./admin/users/", "api/v2/barong/admin/users"),
        ("../../etc/passwd", "etc/passwd"),
        ("api/v2/.hidden", "api/v2/.hidden"),
        ("api/v2/x.", "api/v2/x."),
        ("", ""),
    ],
)
def test_checked_path(raw, checked):
    assert authz.authz_path(raw) == checked


def test_format_suffix_is_dropped_before_matching(api, make_user):
    login(api, make_user())

    public = api.get("/api/v2/auth/api/v2/barong/identity/ping.json")
    admin = api.get("/api/v2/auth/api/v2/barong/admin/users.json")

    assert public.status_code == HTTPStatus.OK
    assert "Authorization" not in public
    assert admin.status_code == HTTPStatus.FORBIDDEN


def test_query_string_is_not_part_of_the_path(api, make_user):
    login(api, make_user())

    response = api.get(ME + "?x=api/v2/barong/admin")

    assert response.status_code == HTTPStatus.OK


def test_dot_segments_cannot_borrow_the_public_prefix(api, db):
    response = api.get("/api/v2/auth/api/v2/barong/identity/../admin/users")

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json() == {"errors": ["authz.permission_denied"]}


def test_percent_encoded_dot_segments_are_refused_too(api, make_user):
    login(api, make_user())

    response = api.get("/api/v2/auth/api/v2/barong/identity/%2e%2e/admin/users")

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json() == {"errors": ["authz.permission_denied"]}


# Paths an upstream could read differently from us: each borrows the public identity prefix.
AMBIGUOUS = [
    "api/v2/barong/identity%252f..%252fadmin/users",
    "api/v2/barong/identity%252F..%252Fadmin/users",
    "api/v2/barong/identity/%252e%252e/admin/users",
    "api/v2/barong/identity%25252f..%25252fadmin/users",
    "api/v2/barong/identity/..%5cadmin/users",
    "api/v2/barong/identity/..%5Cadmin/users",
    "api/v2/barong/identity/..\\admin/users",
    "api/v2/barong/identity/..;/admin/users",
    "api/v2/barong/identity/ping;jsessionid=1",
    "api/v2/barong/identity/ping%00",
    "api/v2/barong/identity/ping%2500",
    "api/v2/barong/identity/ping/..",
]


@pytest.mark.parametrize("path", AMBIGUOUS)
@pytest.mark.parametrize("method", ["get", "post"])
def test_ambiguous_paths_are_refused_before_public_prefixes(api, db, path, method):
    response = getattr(api, method)(f"/api/v2/auth/{path}")

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json() == {"errors": ["authz.permission_denied"]}
    assert "Authorization" not in response


@pytest.mark.parametrize(
    "raw_uri",
    [
        "/api/v2/auth/api/v2/barong/identity%2f..%2fadmin/users",
        "/api/v2/auth/api/v2/barong/identity%2F..%2Fadmin/users",
        "/api/v2/auth/api/v2/barong/identity/..%5cadmin/users",
        "/api/v2/auth/api/v2/barong/identity/ping%3bx",
    ],
)
def test_separators_encoded_in_the_request_line_are_refused(api, db, raw_uri):
    """The server decoded ``%2f`` into ``/`` already; the raw request line still shows it."""
    path = "/api/v2/auth/api/v2/barong/identity/ping"

    response = api.get(path, RAW_URI=raw_uri)
    plain = api.get(path, RAW_URI=path + "?x=%2f")

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json() == {"errors": ["authz.permission_denied"]}
    assert plain.status_code == HTTPStatus.OK


@pytest.mark.parametrize(
    "path",
    [
        "api/v2/barong/identity/ping",
        "api/v2/barong/identity/..x/ping",
        "api/v2/barong/identity/time.json",
    ],
)
def test_ordinary_public_paths_still_pass(api, db, path):
    assert api.get(f"/api/v2/auth/{path}").status_code == HTTPStatus.OK


@pytest.mark.parametrize("url", ["/api/v2/auth", "/api/v2/auth/"])
def test_empty_path_needs_a_session_and_matches_no_permission(api, make_user, url):
    anonymous = api.get(url)
    login(api, make_user())
    member = api.get(url)

    assert anonymous.status_code == HTTPStatus.UNAUTHORIZED
    assert anonymous.json() == {"errors": ["authz.invalid_session"]}
    assert member.status_code == HTTPStatus.FORBIDDEN
    assert member.json() == {"errors": ["authz.invalid_permission"]}


@pytest.mark.parametrize("url", ["/api/v2/authx", "/api/v2/authorize/x", "/api/v2/barong/auth/x"])
def test_only_the_auth_prefix_is_the_authz_endpoint(api, db, url):
    response = api.get(url)

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"errors": ["route.not_found"]}


def test_route_serves_authz_without_the_middleware_too(api, make_user, settings):
    settings.MIDDLEWARE = [
        entry for entry in settings.MIDDLEWARE if entry != "permissions.middleware.AuthzMiddleware"
    ]
    login(api, make_user())

    response = api.get(ME)

    assert response.status_code == HTTPStatus.OK
    assert bearer(response)["role"] == "member"


HOSTILE = [
    "api/v2/barong/resource/" + "a" * 10_240,
    "api/v2/barong/admin/" + "%2e%2e/" * 200,
    "api/v2/barong/resource/%00",
    "api/v2/barong/admin/users%00",
    "api/v2/barong/admin/%0Ausers",
    "api/v2/barong/résource/ユーザー/😀",
    "api/v2/barong/admin/users/%ff%fe",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "api/v2/barong/admin/users?uid=%00",
    "api/v2/barong/admin/users/..;/..;/",
    "/" * 500,
    "." * 300,
]


@pytest.mark.parametrize("path", HOSTILE)
@pytest.mark.parametrize("method", ["get", "post", "put", "delete", "patch", "head", "options"])
def test_hostile_paths_never_answer_500(api, member, path, method):
    csrf = login(api, member)

    response = getattr(api, method)(
        f"/api/v2/auth/{path}", HTTP_X_CSRF_TOKEN=csrf, data={"uid": "\x00" * 3}
    )

    assert response.status_code in (200, 401, 403)
    if response.status_code != 200 and method != "head":
        assert response.json()["errors"][0].startswith("authz.")


@pytest.mark.parametrize("path", HOSTILE)
def test_hostile_paths_anonymous(api, db, path):
    response = api.get(f"/api/v2/auth/{path}")

    assert response.status_code in (200, 401, 403)


def test_denied_request_with_hostile_params_is_still_audited(api, make_user):
    user = make_user()
    csrf = login(api, user)

    response = api.post(
        "/api/v2/auth/api/v2/barong/admin/users\u00e9x",
        {"note": "a\x00b"},
        format="json",
        HTTP_X_CSRF_TOKEN=csrf,
    )

    assert response.status_code == HTTPStatus.FORBIDDEN
    row = Activity.objects.get(user=user, category="admin", result="denied")
    assert "\x00" not in row.data
    assert "a\ufffdb" in row.data
    assert row.topic == "users\u00e9x"


def test_refused_path_is_not_audited(api, make_user):
    user = make_user()
    login(api, user)

    response = api.get("/api/v2/auth/api/v2/barong/admin/users%00x")

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert not Activity.objects.filter(user=user, category="admin").exists()


# ---------------------------------------------------------------- RBAC


@pytest.fixture
def rules(db):
    """A role of its own with exactly the rules a test gives it."""

    def make(*rows: tuple[str, str, str, str | None]):
        for verb, path, action, topic in rows:
            Permission.objects.create(
                role="tester", verb=verb, path=path, action=action, topic=topic
            )
        engine.invalidate()

    return make


def test_no_matching_rule_denies(rules):
    rules(("GET", "api/v2/x", "ACCEPT", None))

    assert not engine.check("tester", "GET", "api/v2/y").allowed
    assert not engine.check("nobody", "GET", "api/v2/x").allowed


def test_accept_grants(rules):
    rules(("GET", "api/v2/x", "ACCEPT", None))

    decision = engine.check("tester", "GET", "api/v2/x/anything")

    assert decision.allowed
    assert not decision.audit


def test_drop_beats_accept_whatever_the_order(rules):
    rules(
        ("ALL", "api/v2/x/secret", "DROP", None),
        ("ALL", "api/v2/x", "ACCEPT", None),
    )

    assert not engine.check("tester", "GET", "api/v2/x/secret/1").allowed
    assert engine.check("tester", "GET", "api/v2/x/open").allowed


def test_audit_alone_never_grants(rules):
    rules(("POST", "api/v2/x", "AUDIT", "topic"))

    assert not engine.check("tester", "POST", "api/v2/x").allowed


def test_accept_with_audit_grants_and_names_the_first_audit_topic(rules):
    rules(
        ("ALL", "api/v2/x", "ACCEPT", None),
        ("POST", "api/v2/x", "AUDIT", "first"),
        ("ALL", "api/v2", "AUDIT", "second"),
    )

    decision = engine.check("tester", "post", "api/v2/x/y")

    assert (decision.allowed, decision.audit, decision.topic) == (True, True, "first")
    get = engine.check("tester", "GET", "api/v2/x")
    assert (get.allowed, get.audit, get.topic) == (True, True, "second")


def test_verb_must_match_or_be_all(rules):
    rules(("GET", "api/v2/x", "ACCEPT", None))

    assert not engine.check("tester", "POST", "api/v2/x").allowed
    assert not engine.check("tester", "HEAD", "api/v2/x").allowed


def test_prefix_match_is_plain_string_prefix_as_barong(rules):
    rules(("GET", "api/v2/x", "ACCEPT", None))

    assert engine.check("tester", "GET", "api/v2/xyz").allowed


def test_audited_request_is_recorded_with_topic_action_target_and_params(api, make_admin):
    admin = make_admin()
    target = make_admin(role="member")
    csrf = login(api, admin)

    response = api.post(
        "/api/v2/auth/api/v2/barong/admin/users/labels",
        {"uid": target.uid, "key": "kyc"},
        HTTP_X_CSRF_TOKEN=csrf,
    )

    assert response.status_code == HTTPStatus.OK
    row = Activity.objects.get(user=admin, category="admin", result="succeed")
    assert (row.topic, row.action, row.target_uid) == ("users", "create", target.uid)
    assert '"path": "api/v2/barong/admin/users/labels"' in row.data
    assert '"key": "kyc"' in row.data


def test_audit_topic_comes_from_the_rule_when_it_has_one(api, make_admin):
    admin = make_admin()
    Permission.objects.filter(role="superadmin", action="AUDIT").update(topic="custom")
    engine.invalidate()
    csrf = login(api, admin)

    api.delete("/api/v2/auth/api/v2/barong/admin/permissions", HTTP_X_CSRF_TOKEN=csrf)

    row = Activity.objects.get(user=admin, category="admin")
    assert (row.topic, row.action) == ("custom", "delete")


@pytest.mark.parametrize(
    ("path", "topic"),
    [
        ("api/v2/barong/admin/users/labels", "users"),
        ("api/v2/peatio/admin/deposits/new", "deposits"),
        ("api/v2/barong/admin/", "general"),
        ("api/v2/peatio/account/orders", "general"),
    ],
)
def test_derived_audit_topic(path, topic):
    assert authz.audit_topic(path, None) == topic


def test_reads_are_not_audited(api, make_admin):
    admin = make_admin()
    login(api, admin)

    assert api.get("/api/v2/auth/api/v2/barong/admin/users").status_code == HTTPStatus.OK

    assert not Activity.objects.filter(user=admin, category="admin").exists()


def test_admin_is_dropped_from_the_permissions_api(api, make_admin):
    login(api, make_admin(role="admin"))

    response = api.get("/api/v2/auth/api/v2/barong/admin/permissions")

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json() == {"errors": ["authz.invalid_permission"]}


# ---------------------------------------------------------------- JWT and JWKS


def _verify_with_served_jwks(api, token: str) -> dict:
    jwks = api.get("/api/v2/identity/jwks").json()
    kid = jwt.get_unverified_header(token)["kid"]
    keys = {key["kid"]: key for key in jwks["keys"]}
    assert keys[kid]["alg"] == "RS256"
    public = jwt.PyJWK.from_dict(keys[kid]).key
    return jwt.decode(
        token,
        public,
        algorithms=["RS256"],
        audience="peatio",
        issuer="barong",
        options={"require": ["exp", "iat", "jti", "sub"]},
    )


def _token(response) -> str:
    return response["Authorization"].removeprefix("Bearer ")


def test_minted_jwt_verifies_against_the_served_jwks(api, make_user):
    user = make_user()
    login(api, user)

    token = _token(api.get(ME))
    header = jwt.get_unverified_header(token)
    claims = _verify_with_served_jwks(api, token)

    assert header["alg"] == "RS256"
    assert header["kid"] == barong_jwt.signing_key().kid
    assert claims["uid"] == user.uid
    assert claims["exp"] > claims["iat"]


def test_well_known_jwks_serves_the_same_keys(api, db):
    assert api.get("/.well-known/jwks.json").json() == api.get("/api/v2/identity/jwks").json()


def test_tampered_token_fails_verification(api, make_user):
    login(api, make_user())
    token = _token(api.get(ME))
    head, body, signature = token.split(".")
    forged = f"{head}.{body[:-4]}AAAA.{signature}"

    with pytest.raises(jwt.InvalidTokenError):
        _verify_with_served_jwks(api, forged)


def _public_pem(key) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def test_key_rotation_mints_with_the_new_key_at_once_and_keeps_the_old_verifiable(
    api, make_admin, settings
):
    old_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    new_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    settings.JWT_PRIVATE_KEY = private_pem(old_key)
    settings.JWT_PREVIOUS_PUBLIC_KEY = ""
    barong_jwt.keyring.cache_clear()
    login(api, make_admin())
    old_token = _token(api.get(ME))
    old_kid = jwt.get_unverified_header(old_token)["kid"]

    settings.JWT_PRIVATE_KEY = private_pem(new_key)
    settings.JWT_PREVIOUS_PUBLIC_KEY = _public_pem(old_key)
    barong_jwt.keyring.cache_clear()
    new_token = _token(api.get(ME))

    new_kid = jwt.get_unverified_header(new_token)["kid"]
    assert new_kid != old_kid
    served = {key["kid"] for key in api.get("/api/v2/identity/jwks").json()["keys"]}
    assert served == {old_kid, new_kid}
    assert _verify_with_served_jwks(api, old_token)["uid"]
    assert _verify_with_served_jwks(api, new_token)["uid"]
    # Both are accepted by the app itself during the rotation.
    for token in (old_token, new_token):
        response = api.get("/api/v2/admin/permissions", HTTP_AUTHORIZATION=f"Bearer {token}")
        assert response.status_code == HTTPStatus.OK

    settings.JWT_PREVIOUS_PUBLIC_KEY = ""
    barong_jwt.keyring.cache_clear()
    retired = api.get("/api/v2/admin/permissions", HTTP_AUTHORIZATION=f"Bearer {old_token}")
    assert retired.status_code == HTTPStatus.UNAUTHORIZED


def test_token_lifetime_follows_the_setting(api, make_user, settings):
    settings.BARONG_JWT_EXPIRE_TIME = 120
    login(api, make_user())

    claims = bearer(api.get(ME))

    assert claims["exp"] - claims["iat"] == 120
