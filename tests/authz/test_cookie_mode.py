"""/api/v2/auth/<path> in cookie mode: order, CSRF, binding, expiry, user state."""

import time
from http import HTTPStatus

import pytest
from django.conf import settings
from django.core.cache import cache

from accounts.services import user_role_set, user_state_set
from accounts.sessions import session_public_id
from activities.models import Activity
from tests.authz.conftest import bearer, login
from tests.conftest import BROWSER_UA

pytestmark = pytest.mark.django_db

ME = "/api/v2/auth/api/v2/barong/resource/users/me"
ADMIN_USERS = "/api/v2/auth/api/v2/barong/admin/users"


def test_logged_in_member_gets_a_bearer_token_and_empty_body(api, make_user):
    user = make_user()
    login(api, user)

    response = api.get(ME)

    assert response.status_code == HTTPStatus.OK
    assert response.content == b""
    claims = bearer(response)
    assert claims["uid"] == user.uid
    assert claims["email"] == user.email
    assert (claims["role"], claims["level"], claims["state"]) == ("member", 1, "active")
    assert claims["referral_id"] is None
    assert claims["sub"] == "session"
    assert claims["exp"] - claims["iat"] == settings.BARONG_JWT_EXPIRE_TIME


def test_claims_are_barongs_and_the_session_id(api, member):
    login(api, member)

    claims = bearer(api.get(ME))

    # Barong's claims, the session's public id, and how and when the user authenticated.
    assert set(claims) == {
        "uid", "email", "role", "level", "state", "referral_id",
        "iat", "exp", "sub", "iss", "aud", "jti", "sid", "amr", "auth_time",
    }  # fmt: skip
    assert claims["iss"] == "barong"
    assert claims["aud"] == ["peatio", "barong"]
    assert len(claims["jti"]) == 20
    # The id /resource/sessions shows and DELETE takes, not the cookie's value.
    cookie = api.cookies[settings.SESSION_COOKIE_NAME].value
    assert claims["sid"] == session_public_id(cookie) != cookie
    listed = api.get("/api/v2/resource/sessions").json()
    assert [row["id"] for row in listed if row["current"]] == [claims["sid"]]


def test_referral_id_is_the_referrers_numeric_id(api, make_user):
    referrer = make_user()
    user = make_user()
    user.referral = referrer
    user.save(update_fields=["referral"])
    login(api, user)

    assert bearer(api.get(ME))["referral_id"] == referrer.pk


def test_pending_user_gets_through(api, make_user):
    user = make_user(verified=False)
    assert user.state == "pending"
    login(api, user)

    response = api.get(ME)

    assert response.status_code == HTTPStatus.OK
    assert bearer(response)["state"] == "pending"


def test_public_path_answers_200_without_token_and_without_session(api):
    response = api.post("/api/v2/auth/api/v2/barong/identity/sessions")

    assert response.status_code == HTTPStatus.OK
    assert response.content == b""
    assert "Authorization" not in response


def test_peatio_public_prefix_passes(api, db):
    response = api.get("/api/v2/auth/api/v2/peatio/public/markets")

    assert response.status_code == HTTPStatus.OK
    assert "Authorization" not in response


@pytest.mark.parametrize(
    "path", ["api/v2/barong/management/users/get", "api/v2/peatio/management/deposits"]
)
def test_blocked_prefix_is_403_permission_denied_even_when_logged_in(api, make_admin, path):
    login(api, make_admin())

    response = api.get(f"/api/v2/auth/{path}")

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json() == {"errors": ["authz.permission_denied"]}


def _rules_file(settings, tmp_path, *, pass_: list[str], block: list[str]):
    """An authz rules file with these pass and block prefixes, in force; its path."""
    rules = tmp_path / "rules.yml"
    rules.write_text(f"rules:\n  pass: [{', '.join(pass_)}]\n  block: [{', '.join(block)}]\n")
    settings.BARONG_AUTHZ_RULES_FILE = str(rules)
    return rules


def test_block_rule_wins_over_pass_rule(api, db, settings, tmp_path):
    _rules_file(settings, tmp_path, pass_=["api/v2/x"], block=["api/v2/x/secret"])

    assert api.get("/api/v2/auth/api/v2/x/open").status_code == HTTPStatus.OK
    response = api.get("/api/v2/auth/api/v2/x/secret/data")
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json() == {"errors": ["authz.permission_denied"]}


def test_rules_file_is_read_once_not_per_request(api, db, settings, tmp_path):
    rules = _rules_file(settings, tmp_path, pass_=["api/v2/open"], block=[])
    assert api.get("/api/v2/auth/api/v2/open/a").status_code == HTTPStatus.OK

    rules.write_text("rules:\n  pass: []\n  block: [api/v2/open]\n")

    assert api.get("/api/v2/auth/api/v2/open/a").status_code == HTTPStatus.OK


def test_no_session_is_invalid_session(api, db):
    response = api.get(ME)

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"errors": ["authz.invalid_session"]}


def test_unknown_session_cookie_is_invalid_session(api, db):
    api.cookies[settings.SESSION_COOKIE_NAME] = "x" * 32

    response = api.get(ME)

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"errors": ["authz.invalid_session"]}


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_unsafe_method_without_csrf_header_is_missing_csrf_token(api, member, method):
    login(api, member)

    response = getattr(api, method)(ME)

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"errors": ["authz.missing_csrf_token"]}


def test_anonymous_post_is_missing_csrf_token_before_invalid_session(api, db):
    response = api.post(ME)

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"errors": ["authz.missing_csrf_token"]}


def test_trace_also_needs_the_csrf_header(api, member):
    login(api, member)

    response = api.generic("TRACE", ME)

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"errors": ["authz.missing_csrf_token"]}


@pytest.mark.parametrize("token", ["wrong", "0" * 20, "x" * 10_000, "ü"])
def test_wrong_csrf_header_is_csrf_token_mismatch(api, member, token):
    login(api, member)

    response = api.post(ME, HTTP_X_CSRF_TOKEN=token)

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"errors": ["authz.csrf_token_mismatch"]}


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_right_csrf_header_passes_unsafe_methods(api, member, method):
    csrf = login(api, member)

    response = getattr(api, method)(ME, HTTP_X_CSRF_TOKEN=csrf)

    assert response.status_code == HTTPStatus.OK
    assert response["Authorization"].startswith("Bearer ")


def test_csrf_check_can_be_switched_off(api, member, settings):
    settings.BARONG_CSRF_PROTECTION = False
    login(api, member)

    assert api.post(ME).status_code == HTTPStatus.OK


def test_get_needs_no_csrf_header(api, member):
    login(api, member)

    assert api.get(ME).status_code == HTTPStatus.OK


def test_other_user_agent_is_client_session_mismatch_and_ends_the_session(api, member):
    login(api, member)

    response = api.get(ME, HTTP_USER_AGENT="curl/8.0")

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"errors": ["authz.client_session_mismatch"]}
    # The session is gone: even the right agent is now refused.
    again = api.get(ME)
    assert again.status_code == HTTPStatus.UNAUTHORIZED
    assert again.json() == {"errors": ["authz.invalid_session"]}


def test_same_slash16_network_keeps_the_session(api, member):
    login(api, member, ip="198.51.7.1")

    response = api.get(ME, REMOTE_ADDR="198.51.200.9")

    assert response.status_code == HTTPStatus.OK


@pytest.mark.parametrize(
    ("login_ip", "later_ip"),
    [
        ("198.51.7.1", "198.52.7.1"),  # another /16 network
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2:3:5:5:6"),  # another /96 network
        ("198.51.7.1", "2001:db8::1"),  # an IPv4 session used from IPv6
    ],
)
def test_another_network_is_client_session_mismatch(api, member, login_ip, later_ip):
    login(api, member, ip=login_ip)

    response = api.get(ME, REMOTE_ADDR=later_ip)

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"errors": ["authz.client_session_mismatch"]}


def test_ipv6_session_keeps_to_its_slash96(api, member):
    login(api, member, ip="2001:db8:1:2:3:4:5:6")

    assert api.get(ME, REMOTE_ADDR="2001:db8:1:2:3:4:ffff:1").status_code == HTTPStatus.OK


def test_binding_uses_the_forwarded_client_ip_behind_a_trusted_proxy(api, member):
    login(api, member, ip="198.51.7.1")

    ok = api.get(ME, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.4")
    moved = api.get(ME, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.50")

    assert ok.status_code == HTTPStatus.OK
    assert moved.status_code == HTTPStatus.UNAUTHORIZED
    assert moved.json() == {"errors": ["authz.client_session_mismatch"]}


def test_forwarded_for_from_an_untrusted_peer_is_ignored(api, member):
    login(api, member, ip="198.51.7.1")

    # The peer is a public address, so its X-Forwarded-For claim is not believed.
    response = api.get(ME, REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="198.51.7.1")

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"errors": ["authz.client_session_mismatch"]}


def _session(api):
    from importlib import import_module

    store = import_module(settings.SESSION_ENGINE).SessionStore
    return store(session_key=api.cookies[settings.SESSION_COOKIE_NAME].value)


def test_idle_session_expires(api, member, settings):
    login(api, member)
    session = _session(api)
    session["expire_time"] = int(time.time()) - 1
    session.save()

    response = api.get(ME)

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"errors": ["authz.client_session_mismatch"]}
    assert api.get(ME).json() == {"errors": ["authz.invalid_session"]}


def test_each_call_slides_the_idle_expiry(api, member, settings):
    settings.BARONG_SESSION_EXPIRE_TIME = 1800
    login(api, member)
    session = _session(api)
    session["expire_time"] = int(time.time()) + 5
    session.save()

    assert api.get(ME).status_code == HTTPStatus.OK

    assert _session(api)["expire_time"] >= int(time.time()) + 1800 - 2


@pytest.mark.parametrize("state", ["banned", "deleted", "locked", "frozen"])
def test_inactive_user_is_refused(api, make_user, state):
    """The state change ends the user's sessions (authz.invalid_session); a session that
    exists all the same (one a login opened in a race) meets the state check."""
    user = make_user()
    login(api, user)

    user_state_set(user=user, state=state)
    response = api.get(ME)

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"errors": ["authz.invalid_session"]}
    login(api, user)
    assert api.get(ME).json() == {"errors": ["authz.user_not_active"]}


def test_ban_takes_effect_on_the_very_next_request(api, make_user):
    user = make_user()
    login(api, user)
    assert api.get(ME).status_code == HTTPStatus.OK  # snapshot and token now cached

    user_state_set(user=user, state="banned")

    response = api.get(ME)
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"errors": ["authz.invalid_session"]}  # the session ended


def test_ban_saved_outside_the_services_also_takes_effect_at_once(api, make_user):
    user = make_user()
    login(api, user)
    assert api.get(ME).status_code == HTTPStatus.OK

    user.state = "banned"
    user.save()  # e.g. the Django admin form or a shell

    assert api.get(ME).json() == {"errors": ["authz.user_not_active"]}


def test_role_change_takes_effect_on_the_very_next_request(api, make_user):
    user = make_user()
    login(api, user)
    assert api.get(ADMIN_USERS).status_code == HTTPStatus.FORBIDDEN

    user_role_set(user=user, role="admin")

    response = api.get(ADMIN_USERS)
    assert response.status_code == HTTPStatus.OK
    assert bearer(response)["role"] == "admin"


def test_user_deleted_from_the_database_is_invalid_session(api, make_user):
    user = make_user()
    login(api, user)
    assert api.get(ME).status_code == HTTPStatus.OK

    user.delete()

    response = api.get(ME)
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"errors": ["authz.invalid_session"]}


def test_member_is_refused_the_admin_area_with_403_and_the_denial_is_logged(api, make_user):
    user = make_user()
    login(api, user)

    response = api.put(ADMIN_USERS + "?uid=nobody", HTTP_X_CSRF_TOKEN=_session(api)["csrf_token"])

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json() == {"errors": ["authz.invalid_permission"]}
    assert "Authorization" not in response
    # Barong drops the audit row when the target uid does not exist.
    assert not Activity.objects.filter(user=user, category="admin").exists()

    api.get(ADMIN_USERS, {"uid": user.uid})
    row = Activity.objects.get(user=user, category="admin")
    assert (row.topic, row.action, row.result, row.target_uid) == (
        "users",
        "read",
        "denied",
        user.uid,
    )
    assert '"path": "api/v2/barong/admin/users"' in row.data
    assert row.user_agent == BROWSER_UA


def test_token_is_reused_briefly_for_the_same_session_only(api, make_user):
    from rest_framework.test import APIClient

    user = make_user()
    login(api, user)
    other = APIClient(HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR="203.0.113.10")
    login(other, user)

    first, second = api.get(ME)["Authorization"], api.get(ME)["Authorization"]
    third = other.get(ME)["Authorization"]

    assert first == second
    assert third != first


def test_no_database_query_in_the_steady_state(api, member, django_assert_num_queries):
    login(api, member)
    assert api.get(ME).status_code == HTTPStatus.OK

    with django_assert_num_queries(0):
        assert api.get(ME).status_code == HTTPStatus.OK


def test_permission_change_takes_effect_on_the_very_next_request(api, member):
    from permissions import engine
    from permissions.models import Permission

    login(api, member)
    assert api.get(ME).status_code == HTTPStatus.OK

    Permission.objects.create(
        role="member", verb="GET", path="api/v2/barong/resource/users", action="DROP"
    )
    engine.invalidate()

    response = api.get(ME)
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json() == {"errors": ["authz.invalid_permission"]}


def test_lost_version_stamps_and_snapshots_only_cost_a_reload(api, make_user):
    from permissions import engine, restrictions, snapshots

    user = make_user()
    login(api, user)
    assert api.get(ME).status_code == HTTPStatus.OK

    cache.delete_many([engine.VERSION_KEY, restrictions.VERSION_KEY, snapshots.user_key(user.uid)])

    assert api.get(ME).status_code == HTTPStatus.OK
