"""Passkeys over HTTP: register, list, delete, and log in after the password."""

from http import HTTPStatus

import pytest

from accounts.models import WebAuthnCredential
from activities.models import Activity
from tests.resource_account.helpers import HOSTILE_JSON, HOSTILE_STRINGS
from tests.security.authenticator import SoftAuthenticator

pytestmark = pytest.mark.django_db

WEBAUTHN = "/api/v2/resource/webauthn"
LOGIN = "/api/v2/identity/sessions"
LOGIN_WEBAUTHN = "/api/v2/identity/sessions/webauthn"
AUTHZ_ME = "/api/v2/auth/api/v2/barong/resource/users/me"
PASSWORD = "Correct-Horse-Battery-9"


@pytest.fixture(autouse=True)
def _relying_party(settings):
    settings.BARONG_WEBAUTHN_RP_ID = "localhost"
    settings.BARONG_WEBAUTHN_ORIGINS = ["http://localhost:8000"]


def register(client, authenticator: SoftAuthenticator, name: str = "laptop") -> dict:
    options = client.post(f"{WEBAUTHN}/register/options")
    assert options.status_code == HTTPStatus.CREATED, options.content
    response = client.post(
        f"{WEBAUTHN}/register/verify",
        {"credential": authenticator.create(options.json()), "name": name},
        format="json",
    )
    assert response.status_code == HTTPStatus.CREATED, response.content
    return response.json()


def login_options(api, user) -> dict:
    response = api.post(
        f"{LOGIN_WEBAUTHN}/options", {"email": user.email, "password": PASSWORD}, format="json"
    )
    assert response.status_code == HTTPStatus.OK, response.content
    return response.json()


def login_verify(api, options: dict, credential):
    """Verify within the flow that ``options`` (an options answer) started."""
    return api.post(
        f"{LOGIN_WEBAUTHN}/verify",
        {"flow_id": options["flow_id"], "credential": credential},
        format="json",
    )


def test_register_lists_and_deletes(make_user, auth_api):
    user = make_user()
    client = auth_api(user)
    authenticator = SoftAuthenticator()

    row = register(client, authenticator, name="YubiKey")

    assert row["id"] == authenticator.id
    assert row["name"] == "YubiKey"
    assert [r["id"] for r in client.get(f"{WEBAUTHN}/credentials").json()] == [authenticator.id]
    options = client.post(f"{WEBAUTHN}/register/options").json()["publicKey"]
    assert options["rp"] == {"id": "localhost", "name": "Barong"}
    assert [c["id"] for c in options["excludeCredentials"]] == [authenticator.id]
    assert client.delete(f"{WEBAUTHN}/credentials/{authenticator.id}").status_code == 200
    assert client.get(f"{WEBAUTHN}/credentials").json() == []
    actions = Activity.objects.filter(user=user, topic="otp").values_list("action", flat=True)
    assert {"add passkey", "remove passkey"} <= set(actions)


def test_login_with_the_passkey_after_the_password(api, passkey_user):
    user, authenticator = passkey_user

    options = login_options(api, user)
    assert [c["id"] for c in options["publicKey"]["allowCredentials"]] == [authenticator.id]
    response = login_verify(api, options, authenticator.get(options))

    assert response.status_code == HTTPStatus.OK, response.content
    assert response.json()["uid"] == user.uid
    assert response.json()["csrf_token"]
    assert api.get(AUTHZ_ME).status_code == HTTPStatus.OK
    assert WebAuthnCredential.objects.get(user=user).sign_count == 1
    assert Activity.objects.filter(user=user, action="login::webauthn", result="succeed").exists()


def test_password_alone_no_longer_logs_a_passkey_user_in(api, passkey_user):
    user, _ = passkey_user

    response = api.post(LOGIN, {"email": user.email, "password": PASSWORD})

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json() == {"errors": ["identity.session.webauthn_required"]}


def test_replayed_assertion_is_refused(api, passkey_user):
    user, authenticator = passkey_user
    options = login_options(api, user)
    assertion = authenticator.get(options)
    assert login_verify(api, options, assertion).status_code == HTTPStatus.OK

    replay = login_verify(api, options, assertion)
    assert replay.status_code == HTTPStatus.FORBIDDEN
    assert replay.json() == {"errors": ["identity.session.invalid_webauthn"]}
    # even in a fresh flow the old signature over the old challenge fails
    assert login_verify(api, login_options(api, user), assertion).status_code == 403


def test_sign_counter_must_grow(api, passkey_user):
    user, authenticator = passkey_user
    options = login_options(api, user)
    first = login_verify(api, options, authenticator.get(options, counter=5))
    assert first.status_code == HTTPStatus.OK

    options = login_options(api, user)
    response = login_verify(api, options, authenticator.get(options, counter=5))

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert WebAuthnCredential.objects.get(user=user).sign_count == 5


def test_wrong_origin_is_refused(api, passkey_user):
    user, authenticator = passkey_user

    options = login_options(api, user)
    response = login_verify(api, options, authenticator.get(options, origin="https://evil.example"))

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json() == {"errors": ["identity.session.invalid_webauthn"]}
    assert api.get(AUTHZ_ME).status_code == HTTPStatus.UNAUTHORIZED


def test_wrong_origin_at_registration_is_refused(make_user, auth_api):
    client = auth_api(make_user())
    options = client.post(f"{WEBAUTHN}/register/options").json()

    response = client.post(
        f"{WEBAUTHN}/register/verify",
        {"credential": SoftAuthenticator().create(options, origin="https://evil.example")},
        format="json",
    )

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["resource.webauthn.invalid_credential"]}
    assert not WebAuthnCredential.objects.exists()


def test_another_users_credential_cannot_log_in(api, passkey_user, make_user, auth_api):
    victim, _ = passkey_user
    attacker = make_user()
    attacker_key = SoftAuthenticator()
    register(auth_api(attacker), attacker_key)

    # the attacker knows the victim's password but holds only their own passkey
    options = login_options(api, victim)
    response = login_verify(api, options, attacker_key.get(options))

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert api.get(AUTHZ_ME).status_code == HTTPStatus.UNAUTHORIZED


def test_another_users_credential_id_cannot_be_deleted(passkey_user, make_user, auth_api):
    victim, authenticator = passkey_user

    response = auth_api(make_user()).delete(f"{WEBAUTHN}/credentials/{authenticator.id}")

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"errors": ["resource.webauthn.not_found"]}
    assert WebAuthnCredential.objects.filter(user=victim).exists()


def test_the_same_credential_cannot_be_registered_twice(passkey_user, make_user, auth_api):
    _, authenticator = passkey_user
    client = auth_api(make_user())
    options = client.post(f"{WEBAUTHN}/register/options").json()

    response = client.post(
        f"{WEBAUTHN}/register/verify", {"credential": authenticator.create(options)}, format="json"
    )

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["resource.webauthn.already_registered"]}


def test_verify_without_options_or_twice_is_refused(make_user, auth_api):
    client = auth_api(make_user())
    authenticator = SoftAuthenticator()
    fake = {"publicKey": {"challenge": "AAAA"}}

    response = client.post(
        f"{WEBAUTHN}/register/verify", {"credential": authenticator.create(fake)}, format="json"
    )

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["resource.webauthn.challenge_expired"]}


def test_login_verify_without_the_password_step_is_refused(api, passkey_user):
    _, authenticator = passkey_user

    forged = {"flow_id": "A" * 43, "publicKey": {"challenge": "AAAA"}}
    response = login_verify(api, forged, authenticator.get(forged))

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json() == {"errors": ["identity.session.invalid_webauthn"]}
    assert api.get(AUTHZ_ME).status_code == HTTPStatus.UNAUTHORIZED


def test_login_options_need_the_right_password(api, passkey_user):
    user, _ = passkey_user

    response = api.post(f"{LOGIN_WEBAUTHN}/options", {"email": user.email, "password": "nope"})

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"errors": ["identity.session.invalid_params"]}


def test_login_options_for_a_user_without_passkeys(api, make_user):
    user = make_user()

    response = api.post(f"{LOGIN_WEBAUTHN}/options", {"email": user.email, "password": PASSWORD})

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json() == {"errors": ["identity.session.webauthn_not_registered"]}


@pytest.mark.parametrize("value", [*HOSTILE_JSON, *HOSTILE_STRINGS, None, {}])
def test_hostile_credentials_are_clean_4xx(api, passkey_user, auth_api, value):
    user, _ = passkey_user
    client = auth_api(user)
    client.post(f"{WEBAUTHN}/register/options")
    options = login_options(api, user)

    registered = client.post(f"{WEBAUTHN}/register/verify", {"credential": value}, format="json")
    logged_in = login_verify(api, options, value)

    assert registered.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert logged_in.status_code in (HTTPStatus.FORBIDDEN, HTTPStatus.UNPROCESSABLE_ENTITY)
    assert WebAuthnCredential.objects.filter(user=user).count() == 1


def test_tampered_assertion_fields_are_refused(api, passkey_user):
    user, authenticator = passkey_user
    for path in (("response", "signature"), ("response", "authenticatorData"), ("id",)):
        options = login_options(api, user)
        bad = authenticator.get(options)
        node = bad
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = "AAAA" + node[path[-1]][4:]
        assert login_verify(api, options, bad).status_code == HTTPStatus.FORBIDDEN


def test_missing_parameters(api, make_user, auth_api):
    client = auth_api(make_user())
    response = client.post(f"{WEBAUTHN}/register/verify", {})
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert "resource.webauthn.missing_credential" in response.json()["errors"]
    response = api.post(f"{LOGIN_WEBAUTHN}/verify", {})
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    errors = response.json()["errors"]
    assert {"identity.session.missing_flow_id", "identity.session.missing_credential"} <= set(
        errors
    )


def test_register_is_rate_limited(make_user, auth_api, tight_limits):
    tight_limits(webauthn_account="2/300")
    client = auth_api(make_user())
    for _ in range(2):
        client.post(f"{WEBAUTHN}/register/options")

    response = client.post(f"{WEBAUTHN}/register/options")

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert response.json() == {"errors": ["resource.webauthn.too_many_requests"]}


def test_login_verify_is_rate_limited_per_address(api, passkey_user, tight_limits):
    user, authenticator = passkey_user
    tight_limits(login_ip="2/300")
    options = login_options(api, user)
    login_verify(api, {"flow_id": "x"}, {"id": "x"})

    response = login_verify(api, options, authenticator.get(options))

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert response.json() == {"errors": ["identity.session.too_many_requests"]}


def test_both_prefixes_and_anonymous(api):
    assert api.get(f"{WEBAUTHN}/credentials").status_code == HTTPStatus.UNAUTHORIZED
    barong = api.post("/api/v2/barong/identity/sessions/webauthn/options", {})
    assert barong.status_code == HTTPStatus.UNPROCESSABLE_ENTITY


@pytest.mark.django_db(transaction=True)
def test_one_assertion_sent_concurrently_logs_in_once(api, make_user, auth_api):
    from tests.resource_account.test_otp_api import _concurrently

    user = make_user()
    authenticator = SoftAuthenticator()
    register(auth_api(user), authenticator)
    options = login_options(api, user)
    assertion = authenticator.get(options)
    clients = [type(api)(HTTP_USER_AGENT=api.defaults["HTTP_USER_AGENT"]) for _ in range(3)]

    responses = _concurrently([lambda c=c: login_verify(c, options, assertion) for c in clients])

    assert sorted(r.status_code for r in responses) == [200, 403, 403]
    assert WebAuthnCredential.objects.get(user=user).sign_count == 1


# ---------------------------------------------------------------- operators


def test_operator_removes_a_users_passkeys_and_the_password_works_again(
    api, passkey_user, auth_api, make_user
):
    user, _ = passkey_user
    operator = make_user(role="admin")

    response = auth_api(operator).delete(f"/api/v2/admin/users/{user.uid}/passkeys")

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"removed": 1}
    assert not WebAuthnCredential.objects.filter(user=user).exists()
    assert api.post(LOGIN, {"email": user.email, "password": PASSWORD}).status_code == 200
    audit = Activity.objects.get(category="admin", user=operator, target_uid=user.uid)
    assert audit.action == "delete"
    again = auth_api(operator).delete(f"/api/v2/barong/admin/users/{user.uid}/passkeys")
    assert again.status_code == HTTPStatus.NOT_FOUND
    assert again.json() == {"errors": ["admin.webauthn.doesnt_exist"]}


def test_members_and_admins_on_superadmins_are_refused(passkey_user, auth_api, make_user):
    user, _ = passkey_user
    member = auth_api(make_user()).delete(f"/api/v2/admin/users/{user.uid}/passkeys")
    assert member.status_code == HTTPStatus.FORBIDDEN
    boss = make_user(role="superadmin")
    register(auth_api(boss), SoftAuthenticator())

    response = auth_api(make_user(role="admin")).delete(f"/api/v2/admin/users/{boss.uid}/passkeys")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["admin.user.superadmin_change"]}
    assert WebAuthnCredential.objects.filter(user__in=[user, boss]).count() == 2
