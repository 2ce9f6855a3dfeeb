"""/resource/sessions (own) and /admin/users/{uid}/sessions (operators): list and end."""

from http import HTTPStatus

import jwt
import pytest
from django.conf import settings

from accounts.sessions import session_public_id
from activities.models import Activity
from tests.conftest import BROWSER_UA
from tests.resource_account.helpers import HOSTILE_STRINGS, login

pytestmark = pytest.mark.django_db

SESSIONS = "/api/v2/resource/sessions"
AUTHZ_ME = "/api/v2/auth/api/v2/barong/resource/users/me"
OTHER_UA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 Safari/605.1.15"


def browser(client_class, *, agent: str = BROWSER_UA, ip: str = "203.0.113.10"):
    return client_class(HTTP_USER_AGENT=agent, REMOTE_ADDR=ip)


@pytest.fixture
def two_devices(api, make_user):
    """One user logged in on two browsers: (user, laptop client + csrf, phone client + csrf)."""
    user = make_user()
    laptop = api
    laptop_csrf = login(laptop, user)
    phone = browser(type(api), agent=OTHER_UA, ip="198.51.100.7")
    phone_csrf = login(phone, user)
    return user, (laptop, laptop_csrf), (phone, phone_csrf)


def test_list_shows_both_sessions_with_the_current_one_marked(two_devices):
    _user, (laptop, _), (_phone, _) = two_devices

    response = laptop.get(SESSIONS)

    assert response.status_code == HTTPStatus.OK
    rows = response.json()
    assert len(rows) == 2
    assert {row["user_agent"] for row in rows} == {BROWSER_UA, OTHER_UA}
    assert {row["user_ip"] for row in rows} == {"203.0.113.10", "198.51.100.7"}
    mine = [row for row in rows if row["current"]]
    assert len(mine) == 1
    assert mine[0]["user_agent"] == BROWSER_UA
    cookie = laptop.cookies[settings.SESSION_COOKIE_NAME].value
    assert mine[0]["id"] == session_public_id(cookie)
    assert all(cookie not in row["id"] and len(row["id"]) == 32 for row in rows)
    assert all(row["created_at"] <= row["last_seen_at"] for row in rows)
    assert set(rows[0]) == {"id", "user_ip", "user_agent", "created_at", "last_seen_at", "current"}


def test_ending_a_session_refuses_it_at_authz_at_once(two_devices):
    user, (laptop, laptop_csrf), (phone, _) = two_devices
    assert phone.get(AUTHZ_ME).status_code == HTTPStatus.OK
    phone_id = next(row["id"] for row in laptop.get(SESSIONS).json() if not row["current"])

    response = laptop.delete(f"{SESSIONS}/{phone_id}", HTTP_X_CSRF_TOKEN=laptop_csrf)

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"ended": 1}
    refused = phone.get(AUTHZ_ME)
    assert refused.status_code == HTTPStatus.UNAUTHORIZED
    assert refused.json() == {"errors": ["authz.invalid_session"]}
    assert phone.get("/api/v2/resource/users/me").status_code == HTTPStatus.UNAUTHORIZED
    assert laptop.get(AUTHZ_ME).status_code == HTTPStatus.OK
    assert [row["current"] for row in laptop.get(SESSIONS).json()] == [True]
    assert Activity.objects.filter(user=user, topic="session", action="end session").exists()
    again = laptop.delete(f"{SESSIONS}/{phone_id}", HTTP_X_CSRF_TOKEN=laptop_csrf)
    assert again.status_code == HTTPStatus.NOT_FOUND
    assert again.json() == {"errors": ["resource.session.not_found"]}


def test_end_all_keeps_only_the_current_session(api, make_user):
    user = make_user()
    others = [browser(type(api), agent=f"{BROWSER_UA} n{n}") for n in range(3)]
    for client in others:
        login(client, user)
    csrf = login(api, user)

    response = api.delete(SESSIONS, HTTP_X_CSRF_TOKEN=csrf)

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"ended": 3}
    assert all(client.get(AUTHZ_ME).status_code == HTTPStatus.UNAUTHORIZED for client in others)
    assert api.get(AUTHZ_ME).status_code == HTTPStatus.OK


def test_a_bearer_callers_current_session_is_its_tokens_and_end_all_keeps_it(
    api, make_user, auth_api
):
    """The gateway's JWT names its session (``sid``): that one is current and stays."""
    user = make_user()
    login(api, user)
    client = auth_api(user)
    token = client._credentials["HTTP_AUTHORIZATION"].removeprefix("Bearer ")
    sid = jwt.decode(token, options={"verify_signature": False})["sid"]

    rows = client.get(SESSIONS).json()
    assert sorted((row["current"], row["id"] == sid) for row in rows) == [
        (False, False),
        (True, True),
    ]
    assert client.delete(SESSIONS).json() == {"ended": 1}
    assert api.get(AUTHZ_ME).status_code == HTTPStatus.UNAUTHORIZED
    assert client.get(SESSIONS).status_code == HTTPStatus.OK


def test_another_users_session_id_is_not_found_and_stays(api, make_user):
    victim, attacker = make_user(), make_user()
    victim_client = browser(type(api), agent=OTHER_UA)
    login(victim_client, victim)
    victim_id = victim_client.get(SESSIONS).json()[0]["id"]
    csrf = login(api, attacker)

    response = api.delete(f"{SESSIONS}/{victim_id}", HTTP_X_CSRF_TOKEN=csrf)

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"errors": ["resource.session.not_found"]}
    assert victim_client.get(AUTHZ_ME).status_code == HTTPStatus.OK


@pytest.mark.parametrize("value", [*HOSTILE_STRINGS[1:], "A" * 32, "0" * 31, "%00"])
def test_malformed_ids_are_not_found(api, make_user, value):
    csrf = login(api, make_user())

    response = api.delete(f"{SESSIONS}/{value}", HTTP_X_CSRF_TOKEN=csrf)

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json()["errors"][0] in ("resource.session.not_found", "record.not_found")


def test_oversized_id_is_a_clean_404(api, make_user):
    csrf = login(api, make_user())

    response = api.delete(f"{SESSIONS}/{'a' * 5000}", HTTP_X_CSRF_TOKEN=csrf)

    assert response.status_code == HTTPStatus.NOT_FOUND


def test_ending_needs_the_csrf_token_in_cookie_mode(two_devices):
    _, (laptop, _), (phone, _) = two_devices

    response = laptop.delete(SESSIONS)

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"errors": ["authz.missing_csrf_token"]}
    assert phone.get(AUTHZ_ME).status_code == HTTPStatus.OK


def test_anonymous_is_refused(api):
    assert api.get(SESSIONS).status_code == HTTPStatus.UNAUTHORIZED


def test_listing_is_rate_limited(api, make_user, tight_limits):
    tight_limits(sessions_account="2/60")
    login(api, make_user())
    assert api.get(SESSIONS).status_code == HTTPStatus.OK
    assert api.get(SESSIONS).status_code == HTTPStatus.OK

    response = api.get(SESSIONS)

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert response.json() == {"errors": ["resource.session.too_many_requests"]}


def test_barong_prefix_serves_the_same(api, make_user):
    login(api, make_user())
    assert api.get("/api/v2/barong/resource/sessions").status_code == HTTPStatus.OK


# ---------------------------------------------------------------- operators


def test_admin_lists_and_ends_one_session_with_an_audit_row(api, make_user, auth_api, superadmin):
    user = make_user()
    login(api, user)
    admin = auth_api(superadmin)
    url = f"/api/v2/admin/users/{user.uid}/sessions"

    rows = admin.get(url).json()
    assert len(rows) == 1
    assert rows[0]["user_agent"] == BROWSER_UA
    response = admin.delete(f"{url}/{rows[0]['id']}")

    assert response.status_code == HTTPStatus.OK
    assert api.get(AUTHZ_ME).status_code == HTTPStatus.UNAUTHORIZED
    audit = Activity.objects.get(category="admin", topic="sessions", user=superadmin)
    assert audit.target_uid == user.uid
    missing = admin.delete(f"{url}/{rows[0]['id']}")
    assert missing.status_code == HTTPStatus.NOT_FOUND
    assert missing.json() == {"errors": ["admin.session.doesnt_exist"]}


def test_admin_ends_all_sessions_of_a_user(api, make_user, auth_api, superadmin):
    user = make_user()
    login(api, user)
    other = browser(type(api), agent=OTHER_UA)
    login(other, user)

    response = auth_api(superadmin).delete(f"/api/v2/barong/admin/users/{user.uid}/sessions")

    assert response.json() == {"ended": 2}
    assert api.get(AUTHZ_ME).status_code == HTTPStatus.UNAUTHORIZED
    assert other.get(AUTHZ_ME).status_code == HTTPStatus.UNAUTHORIZED


def test_admin_unknown_user_and_member_refused(api, make_user, auth_api):
    member = make_user()
    unknown = auth_api(make_user(role="admin")).get("/api/v2/admin/users/ID0000000000/sessions")
    assert unknown.status_code == HTTPStatus.NOT_FOUND
    assert unknown.json() == {"errors": ["admin.user.doesnt_exist"]}
    denied = auth_api(member).get(f"/api/v2/admin/users/{member.uid}/sessions")
    assert denied.status_code == HTTPStatus.FORBIDDEN


def test_admin_may_not_end_a_superadmins_sessions(api, make_user, auth_api, superadmin):
    login(api, superadmin)

    response = auth_api(make_user(role="admin")).delete(
        f"/api/v2/admin/users/{superadmin.uid}/sessions"
    )

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["admin.user.superadmin_change"]}
    assert api.get(AUTHZ_ME).status_code == HTTPStatus.OK


def test_bearer_token_mode_lists_the_tokens_own_session(auth_api, make_user):
    (row,) = auth_api(make_user()).get(SESSIONS).json()
    assert row["current"] is True
