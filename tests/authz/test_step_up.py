"""How and when the user authenticated (``amr``, ``auth_time``), step-up, step-up rules and
the session policy (absolute lifetime, sessions per user), through the login doors, the
resource API and the authz endpoint: Django's path, the front, and its fast path."""

import time
from http import HTTPStatus

import pytest
from django.test import Client

import accounts.services.otp
import accounts.sessions
import permissions.authz
import permissions.decision
import permissions.lean
from accounts.models import User
from accounts.services.recovery import recovery_codes_generate
from accounts.sessions import session_public_id
from apikeys.services import api_key_create
from permissions import engine
from permissions.models import Permission
from tests.accounts.conftest import STRONG_PASSWORD, last_token
from tests.authz.conftest import bearer, login, signed_headers
from tests.authz.gateway import GATEWAY_ME
from tests.clocks import Later
from tests.conftest import BROWSER_UA, rows_once
from tests.factories import DEFAULT_PASSWORD, make_admin_user, make_user_with
from tests.resource_account import helpers
from tests.resource_account.helpers import HOSTILE_JSON, HOSTILE_STRINGS, two_factor_on
from tests.security import conftest as security

pytestmark = pytest.mark.django_db
clock = helpers.clock  # the TOTP clock fixture
passkey_user = security.passkey_user  # (a user with one passkey, its authenticator)

LOGIN = "/api/v2/identity/sessions"
LOGIN_WEBAUTHN = "/api/v2/identity/sessions/webauthn"
STEP_UP = "/api/v2/resource/sessions/step_up"
SESSIONS = "/api/v2/resource/sessions"
CONFIRM = "/api/v2/identity/users/email/confirm_code"
PERMISSIONS = "/api/v2/admin/permissions"
WITHDRAW = "api/v2/peatio/account/withdraws"
GATEWAY_WITHDRAW = f"/api/v2/auth/{WITHDRAW}"
GATEWAY_BALANCES = "/api/v2/auth/api/v2/peatio/account/balances"
STEP_UP_REQUIRED = {
    "errors": ["authz.step_up_required"],
    "step_up": {"methods": ["otp", "hwk"], "max_age": 300},
}


@pytest.fixture(autouse=True)
def _relying_party(settings):
    settings.BARONG_WEBAUTHN_RP_ID = "localhost"
    settings.BARONG_WEBAUTHN_ORIGINS = ["http://localhost:8000"]


@pytest.fixture
def later(monkeypatch):
    shim = Later()
    for module in (accounts.sessions, permissions.authz, permissions.decision, permissions.lean):
        monkeypatch.setattr(module, "time", shim)
    return shim


def log_in(api, user, **second) -> dict:
    """The login endpoint as a browser calls it; the CSRF header kept for unsafe calls."""
    body = {"email": user.email, "password": DEFAULT_PASSWORD, **second}
    response = api.post(LOGIN, body, format="json")
    assert response.status_code == HTTPStatus.OK, response.content
    api.credentials(HTTP_X_CSRF_TOKEN=response.json()["csrf_token"])
    return response.json()


def claims(api, path: str = GATEWAY_ME) -> dict:
    response = api.get(path)
    assert response.status_code == HTTPStatus.OK, response.content
    return bearer(response)


def passkey_login(api, user, authenticator) -> None:
    body = {"email": user.email, "password": DEFAULT_PASSWORD}
    options = api.post(f"{LOGIN_WEBAUTHN}/options", body, format="json").json()
    verify = {"flow_id": options["flow_id"], "credential": authenticator.get(options)}
    response = api.post(f"{LOGIN_WEBAUTHN}/verify", verify, format="json")
    assert response.status_code == HTTPStatus.OK, response.content
    api.credentials(HTTP_X_CSRF_TOKEN=response.json()["csrf_token"])


@pytest.fixture
def otp_user(make_user, clock):
    return two_factor_on(make_user(), clock)


@pytest.fixture
def step_up_rule(make_admin, django_capture_on_commit_callbacks):
    """Members' withdrawals ask for a second factor at most 300 s old, set through the
    admin API (every worker reloads the table after commit)."""
    operator = Client(HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR="203.0.113.10")
    csrf = login(operator, make_admin())
    body = {"role": "member", "verb": "post", "path": WITHDRAW, "action": "accept"}
    with django_capture_on_commit_callbacks(execute=True):
        response = operator.post(
            PERMISSIONS,
            {**body, "step_up_max_age": 300},
            content_type="application/json",
            HTTP_X_CSRF_TOKEN=csrf,
        )
    assert response.status_code == HTTPStatus.OK, response.content
    return Permission.objects.get(path=WITHDRAW)


# ---------------------------------------------------------------- amr and auth_time in the JWT


def test_a_password_login_says_pwd_and_when(api, make_user):
    before = int(time.time())
    log_in(api, make_user())

    token = claims(api)

    assert token["amr"] == ["pwd"]
    assert before <= token["auth_time"] <= int(time.time())


def test_a_totp_login_says_otp_and_mfa(api, otp_user, clock):
    log_in(api, otp_user, otp_code=clock.next_code(otp_user))

    assert claims(api)["amr"] == ["mfa", "otp", "pwd"]


def test_a_recovery_code_login_says_recovery(api, otp_user, clock):
    codes = recovery_codes_generate(user=otp_user, code=clock.next_code(otp_user))
    log_in(api, otp_user, recovery_code=codes[0])

    assert claims(api)["amr"] == ["mfa", "pwd", "recovery"]


def test_a_passkey_login_says_hwk(api, passkey_user):
    user, authenticator = passkey_user
    passkey_login(api, user, authenticator)

    token = claims(api)

    assert token["amr"] == ["hwk", "mfa", "pwd"]
    assert abs(token["auth_time"] - time.time()) < 5


def test_an_api_key_token_has_no_amr(api, otp_user):
    key, secret = api_key_create(user=otp_user)

    response = api.get(GATEWAY_ME, **signed_headers(key.kid, secret))

    assert response.status_code == HTTPStatus.OK
    assert "amr" not in bearer(response)
    assert "auth_time" not in bearer(response)


def test_the_backoffice_login_records_amr_and_auth_time(make_admin, clock):
    operator = two_factor_on(make_admin(role="compliance"), clock)
    office = Client(HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR="203.0.113.40")
    data = {"username": operator.email, "password": DEFAULT_PASSWORD, "recovery_code": ""}

    response = office.post(
        "/admin/login/?next=/admin/", {**data, "otp_code": clock.next_code(operator)}
    )

    assert response.status_code == HTTPStatus.FOUND
    assert office.session["amr"] == ["mfa", "otp", "pwd"]
    assert abs(office.session["auth_time"] - time.time()) < 5
    assert office.session["created_at"] == office.session["auth_time"]


# ---------------------------------------------------------------- step-up on the resource API


def test_a_totp_step_up_refreshes_the_session(api, otp_user, clock, later):
    log_in(api, otp_user, otp_code=clock.next_code(otp_user))
    first = claims(api)["auth_time"]
    later.offset = 120

    response = api.post(STEP_UP, {"otp_code": clock.next_code(otp_user)}, format="json")

    assert response.status_code == HTTPStatus.OK, response.content
    assert response.json()["amr"] == ["mfa", "otp", "pwd"]
    assert response.json()["auth_time"] >= first + 120
    token = claims(api)
    assert token["auth_time"] == response.json()["auth_time"]
    assert token["amr"] == ["mfa", "otp", "pwd"]


def test_a_wrong_code_is_refused_and_changes_nothing(api, otp_user, clock):
    log_in(api, otp_user, otp_code=clock.next_code(otp_user))
    before = claims(api)
    right = clock.next_code(otp_user)

    response = api.post(STEP_UP, {"otp_code": f"{(int(right) + 1) % 10**6:06d}"}, format="json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["resource.session.invalid_otp"]}
    assert claims(api)["auth_time"] == before["auth_time"]


def test_a_replayed_code_is_refused(api, otp_user, clock):
    code = clock.next_code(otp_user)
    log_in(api, otp_user, otp_code=code)

    at_login = api.post(STEP_UP, {"otp_code": code}, format="json")
    helpers.unthrottle(otp_user)
    fresh = clock.next_code(otp_user)
    first = api.post(STEP_UP, {"otp_code": fresh}, format="json")
    helpers.unthrottle(otp_user)
    again = api.post(STEP_UP, {"otp_code": fresh}, format="json")

    assert at_login.json() == {"errors": ["resource.session.invalid_otp"]}
    assert first.status_code == HTTPStatus.OK
    assert again.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert again.json() == {"errors": ["resource.session.invalid_otp"]}


def test_a_step_up_needs_totp_enabled(api, make_user):
    log_in(api, make_user())

    response = api.post(STEP_UP, {"otp_code": "123456"}, format="json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["resource.session.otp_not_enabled"]}


def test_a_passkey_step_up(api, passkey_user, later):
    user, authenticator = passkey_user
    passkey_login(api, user, authenticator)
    later.offset = 60

    options = api.post(f"{STEP_UP}/options", format="json")
    assert options.status_code == HTTPStatus.OK, options.content
    assert options["Cache-Control"] == "no-store"
    assertion = authenticator.get(options.json())
    response = api.post(f"{STEP_UP}/verify", {"credential": assertion}, format="json")
    replayed = api.post(f"{STEP_UP}/verify", {"credential": assertion}, format="json")

    assert response.status_code == HTTPStatus.OK, response.content
    assert response.json()["amr"] == ["hwk", "mfa", "pwd"]
    assert claims(api)["auth_time"] == response.json()["auth_time"] >= int(time.time()) + 59
    assert replayed.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert replayed.json() == {"errors": ["resource.session.challenge_expired"]}


def test_a_passkey_step_up_over_another_challenge_fails(api, passkey_user):
    user, authenticator = passkey_user
    passkey_login(api, user, authenticator)
    api.post(f"{STEP_UP}/options", format="json")
    forged = authenticator.get({"publicKey": {"challenge": "AAAAAAAAAAAAAAAAAAAAAA"}})

    response = api.post(f"{STEP_UP}/verify", {"credential": forged}, format="json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["resource.session.invalid_webauthn"]}


def _upstream_step_up(token: str, otp_code: str):
    """A step-up as the gateway forwards it: only the JWT authz minted, no cookie."""
    upstream = Client(HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR="203.0.113.10")
    return upstream.post(
        STEP_UP, {"otp_code": otp_code}, content_type="application/json", HTTP_AUTHORIZATION=token
    )


def test_a_step_up_with_the_gateways_bearer_token(api, otp_user, clock):
    """The upstream path: the browser's call reaches this server with the JWT authz
    minted, bound to its session; the step-up lands on that session."""
    log_in(api, otp_user, otp_code=clock.next_code(otp_user))
    token = api.get(GATEWAY_ME)["Authorization"]

    response = _upstream_step_up(token, clock.next_code(otp_user))

    assert response.status_code == HTTPStatus.OK, response.content
    assert claims(api)["auth_time"] == response.json()["auth_time"]


def test_an_api_key_cannot_step_up(api, otp_user, clock, auth_api):
    key, secret = api_key_create(user=otp_user)
    token = api.get(GATEWAY_ME, **signed_headers(key.kid, secret))["Authorization"]

    response = _upstream_step_up(token, clock.next_code(otp_user))

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["resource.session.no_session"]}


def _otp_member_and_operator() -> tuple[User, User]:
    """2FA switched on an hour ago: the codes of each test's clock (now) were never used."""
    past = helpers.Clock()
    past.tick(-3600)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(accounts.services.otp, "time", past)
        member = two_factor_on(make_user_with(), past)
    return member, make_admin_user()


@pytest.fixture(scope="module")
def _built(django_db_setup, django_db_blocker):
    """A 2FA member and a superadmin for the many hostile-value cases, built once."""
    yield from rows_once(django_db_blocker, _otp_member_and_operator)


@pytest.fixture
def built_otp_user(_built):
    return User.objects.get(pk=_built[0].pk)


@pytest.fixture
def built_operator(_built):
    return User.objects.get(pk=_built[1].pk)


@pytest.mark.parametrize("value", [*HOSTILE_STRINGS, *HOSTILE_JSON, None, ""])
def test_hostile_step_up_codes_are_refused_with_keys(api, built_otp_user, clock, value):
    log_in(api, built_otp_user, otp_code=clock.next_code(built_otp_user))

    response = api.post(STEP_UP, {"otp_code": value}, format="json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY, response.content
    assert response.json()["errors"]
    assert all(key.startswith("resource.session.") for key in response.json()["errors"])


@pytest.mark.parametrize(
    "body", [{}, {"credential": None}, {"credential": "x" * 10_240}, {"credential": [1, 2]},
             {"credential": {"id": "\x00", "response": {"clientDataJSON": "%%%"}}}]
)  # fmt: skip
def test_hostile_step_up_assertions_are_refused_with_keys(api, passkey_user, body):
    user, authenticator = passkey_user
    passkey_login(api, user, authenticator)
    api.post(f"{STEP_UP}/options", format="json")

    response = api.post(f"{STEP_UP}/verify", body, format="json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY, response.content
    assert all(key.startswith("resource.session.") for key in response.json()["errors"])


def test_step_up_without_a_session_is_401(api):
    for path in (STEP_UP, f"{STEP_UP}/options", f"{STEP_UP}/verify"):
        response = api.post(path, {"otp_code": "123456"}, format="json")
        assert response.status_code == HTTPStatus.UNAUTHORIZED
        assert response.json()["errors"]


# ---------------------------------------------------------------- a rule asking for a step-up


def test_a_step_up_rule_refuses_then_lets_the_same_call_through(
    api, otp_user, clock, later, step_up_rule
):
    log_in(api, otp_user, otp_code=clock.next_code(otp_user))
    later.offset = 301  # the login's second factor is now too old

    refused = api.post(GATEWAY_WITHDRAW)
    stepped = api.post(STEP_UP, {"otp_code": clock.next_code(otp_user)}, format="json")
    allowed = api.post(GATEWAY_WITHDRAW)

    assert refused.status_code == HTTPStatus.UNAUTHORIZED
    assert refused.json() == STEP_UP_REQUIRED
    assert refused["WWW-Authenticate"] == (
        'Bearer error="insufficient_user_authentication", max_age=300'
    )
    assert stepped.status_code == HTTPStatus.OK
    assert allowed.status_code == HTTPStatus.OK, allowed.content
    assert bearer(allowed)["auth_time"] == stepped.json()["auth_time"]

    later.offset += 301
    assert api.post(GATEWAY_WITHDRAW).json() == STEP_UP_REQUIRED


def test_a_fresh_second_factor_at_login_satisfies_the_rule(api, otp_user, clock, step_up_rule):
    log_in(api, otp_user, otp_code=clock.next_code(otp_user))

    assert api.post(GATEWAY_WITHDRAW).status_code == HTTPStatus.OK


def test_a_password_only_session_must_step_up(api, make_user, step_up_rule):
    log_in(api, make_user())

    response = api.post(GATEWAY_WITHDRAW)

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == STEP_UP_REQUIRED


def test_a_recovery_code_login_is_no_step_up(api, otp_user, clock, step_up_rule):
    codes = recovery_codes_generate(user=otp_user, code=clock.next_code(otp_user))
    log_in(api, otp_user, recovery_code=codes[0])

    assert api.post(GATEWAY_WITHDRAW).json() == STEP_UP_REQUIRED


def test_a_passkey_step_up_satisfies_the_rule(api, passkey_user, later, step_up_rule):
    user, authenticator = passkey_user
    passkey_login(api, user, authenticator)
    later.offset = 400
    assert api.post(GATEWAY_WITHDRAW).status_code == HTTPStatus.UNAUTHORIZED

    options = api.post(f"{STEP_UP}/options", format="json").json()
    api.post(f"{STEP_UP}/verify", {"credential": authenticator.get(options)}, format="json")

    assert api.post(GATEWAY_WITHDRAW).status_code == HTTPStatus.OK


def test_rules_without_the_requirement_are_untouched(api, make_user, step_up_rule):
    log_in(api, make_user())

    assert api.get(GATEWAY_BALANCES).status_code == HTTPStatus.OK
    assert api.get(GATEWAY_WITHDRAW).status_code == HTTPStatus.OK  # the rule is for POST


def test_an_api_key_on_a_step_up_rule_is_refused(api, otp_user, step_up_rule):
    key, secret = api_key_create(user=otp_user)

    response = api.post(GATEWAY_WITHDRAW, **signed_headers(key.kid, secret))

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == STEP_UP_REQUIRED


def test_the_smallest_max_age_of_the_matching_rules_applies(api, otp_user, clock, later):
    seeded = Permission.objects.filter(role="member", verb="ALL", path="api/v2/peatio/account")
    assert seeded.update(step_up_max_age=600) == 1
    Permission.objects.create(
        role="member", verb="POST", path=WITHDRAW, action="AUDIT", step_up_max_age=60
    )
    engine.invalidate()
    log_in(api, otp_user, otp_code=clock.next_code(otp_user))
    later.offset = 120

    assert api.get(GATEWAY_BALANCES).status_code == HTTPStatus.OK
    assert api.post(GATEWAY_WITHDRAW).json()["step_up"]["max_age"] == 60


# ---------------------------------------------------------------- the rule's field


@pytest.mark.parametrize(
    "value", [-1, 86_401, 10**30, "abc", "1.5", 1.5, True, [], {}, "\x00", "x" * 10_240]
)
def test_hostile_max_ages_are_refused_with_keys(api, built_operator, value):
    api.credentials(HTTP_X_CSRF_TOKEN=login(api, built_operator))
    body = {"role": "member", "verb": "post", "path": WITHDRAW, "action": "accept"}

    response = api.post(PERMISSIONS, {**body, "step_up_max_age": value}, format="json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY, response.content
    assert response.json()["errors"] == ["admin.permission.invalid_step_up_max_age"]
    assert not Permission.objects.filter(path=WITHDRAW).exists()


def test_the_admin_api_shows_updates_and_clears_the_max_age(api, make_admin, step_up_rule):
    api.credentials(HTTP_X_CSRF_TOKEN=login(api, make_admin()))
    listed = api.get(PERMISSIONS, {"limit": 100, "page": 2}).json()
    listed += api.get(PERMISSIONS, {"limit": 100, "page": 1}).json()
    assert [row["step_up_max_age"] for row in listed if row["path"] == WITHDRAW] == [300]

    changed = api.put(PERMISSIONS, {"id": step_up_rule.pk, "step_up_max_age": 60}, format="json")
    assert changed.status_code == HTTPStatus.OK, changed.content
    step_up_rule.refresh_from_db()
    assert step_up_rule.step_up_max_age == 60
    cleared = api.put(PERMISSIONS, {"id": step_up_rule.pk, "step_up_max_age": 0}, format="json")
    assert cleared.status_code == HTTPStatus.OK
    step_up_rule.refresh_from_db()
    assert step_up_rule.step_up_max_age is None


# ---------------------------------------------------------------- session policy


def test_a_session_ends_at_its_absolute_lifetime(api, make_user, later, settings):
    settings.BARONG_SESSION_EXPIRE_TIME = 30 * 24 * 3600  # idle expiry out of the way
    settings.BARONG_SESSION_MAX_LIFETIME = 7 * 24 * 3600
    log_in(api, make_user())

    later.offset = 7 * 24 * 3600 - 60
    assert api.get(GATEWAY_ME).status_code == HTTPStatus.OK
    assert api.get(SESSIONS).status_code == HTTPStatus.OK
    later.offset = 7 * 24 * 3600 + 1
    refused = api.get(GATEWAY_ME)

    assert refused.status_code == HTTPStatus.UNAUTHORIZED
    assert refused.json() == {"errors": ["authz.client_session_mismatch"]}
    assert api.get(SESSIONS).status_code == HTTPStatus.UNAUTHORIZED


def test_a_bearer_token_dies_with_its_sessions_lifetime(api, make_user, later, settings):
    settings.BARONG_SESSION_EXPIRE_TIME = 30 * 24 * 3600
    settings.BARONG_SESSION_MAX_LIFETIME = 3600
    log_in(api, make_user())
    token = api.get(GATEWAY_ME)["Authorization"]
    upstream = Client(HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR="203.0.113.10")
    assert upstream.get(SESSIONS, HTTP_AUTHORIZATION=token).status_code == HTTPStatus.OK

    later.offset = 3601

    assert upstream.get(SESSIONS, HTTP_AUTHORIZATION=token).status_code == 401


def test_the_eleventh_session_ends_the_oldest(api, make_user, settings):
    assert settings.BARONG_SESSIONS_PER_USER == 10
    user = make_user()
    log_in(api, user)
    first_cookie = api.cookies[settings.SESSION_COOKIE_NAME].value
    assert api.get(GATEWAY_ME).status_code == HTTPStatus.OK
    others = []
    for number in range(10):
        device = type(api)(HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR=f"203.0.113.{20 + number}")
        device.handler = api.handler
        log_in(device, user)
        others.append(device)

    ended = api.get(GATEWAY_ME)

    assert ended.status_code == HTTPStatus.UNAUTHORIZED
    assert all(device.get(GATEWAY_ME).status_code == HTTPStatus.OK for device in others)
    listed = others[-1].get(SESSIONS).json()
    assert len(listed) == 10
    assert session_public_id(first_cookie) not in [row["id"] for row in listed]


def test_the_cap_counts_live_sessions_only(api, make_user, settings):
    settings.BARONG_SESSIONS_PER_USER = 2
    user = make_user()
    log_in(api, user)
    assert api.delete("/api/v2/identity/sessions").status_code == HTTPStatus.OK
    kept = type(api)(HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR="203.0.113.30")
    kept.handler = api.handler
    log_in(kept, user)
    log_in(api, user)

    assert kept.get(GATEWAY_ME).status_code == HTTPStatus.OK
    assert api.get(GATEWAY_ME).status_code == HTTPStatus.OK


def test_a_step_up_in_the_same_second_mints_a_new_token(api, passkey_user, clock, later):
    user, authenticator = passkey_user
    two_factor_on(user, clock)
    later.time = lambda: 1_900_000_000.5  # every call below in one and the same second
    passkey_login(api, user, authenticator)
    assert claims(api)["amr"] == ["hwk", "mfa", "pwd"]

    stepped = api.post(STEP_UP, {"otp_code": clock.next_code(user)}, format="json")

    assert stepped.status_code == HTTPStatus.OK, stepped.content
    token = claims(api)
    assert token["amr"] == ["hwk", "mfa", "otp", "pwd"]
    assert token["auth_time"] == 1_900_000_000


def test_the_sign_up_and_the_email_link_say_how(
    api, mailoutbox, django_capture_on_commit_callbacks
):
    body = {"email": "new-member@example.com", "password": STRONG_PASSWORD}
    with django_capture_on_commit_callbacks(execute=True):  # the e-mail goes after commit
        assert api.post("/api/v2/identity/users", body, format="json").status_code == 201
    assert claims(api)["amr"] == ["pwd"]
    api.cookies.clear()

    token = last_token(mailoutbox, "confirmation")
    confirmed = api.post(CONFIRM, {"token": token}, format="json")

    assert confirmed.status_code == HTTPStatus.CREATED, confirmed.content
    assert claims(api)["amr"] == ["email"]
