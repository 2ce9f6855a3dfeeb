"""Confirmations bound to an operation: an upstream asks through the signed management API,
the user confirms through the resource API (TOTP or a passkey over the operation's hash),
and the upstream verifies the signed answer with /api/v2/management/jwks alone."""

import base64
import hashlib
import json
from datetime import timedelta
from http import HTTPStatus

import jwt as pyjwt
import pytest
from django.utils import timezone

from activities.models import Activity
from barong import jwt as barong_jwt
from management import confirmations as confirmations_module
from management.models import Confirmation
from tests.resource_account import helpers
from tests.resource_account.helpers import login, two_factor_on, unthrottle

pytestmark = pytest.mark.django_db
clock = helpers.clock  # the TOTP clock fixture
RESOURCE = "/api/v2/resource/confirmations"
WITHDRAW = {
    "type": "withdraw",
    "asset": "BTC",
    "amount": "0.50000000",
    "destination": "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
    "nonce": "wd-1001",
}


def canonical_digest(operation: dict) -> str:
    """The upstream's own computation of the hash (written from docs/operations.md)."""
    text = json.dumps(operation, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def upstream_operation(uid: str, **changes) -> dict:
    """The operation as the upstream is about to execute it, in canonical form."""
    return {
        "type": "withdraw",
        "asset": "btc",
        "amount": "0.5",
        "destination": WITHDRAW["destination"],
        "nonce": "wd-1001",
        "uid": uid,
        **changes,
    }


def upstream_verify(token: str, *, jwks: dict, operation: dict, audience: str) -> dict:
    """What an upstream does with a confirmation: signature by the management JWKS, typ,
    issuer, audience, expiry, then the hash of the operation it is about to execute."""
    header = pyjwt.get_unverified_header(token)
    if header.get("typ") != "confirmation+jwt" or header.get("alg") != "RS256":
        raise pyjwt.InvalidTokenError("not a confirmation")
    key = pyjwt.PyJWKSet.from_dict(jwks)[header["kid"]]
    claims = pyjwt.decode(
        token,
        key.key,
        algorithms=["RS256"],
        audience=audience,
        issuer="barong",
        options={"require": ["exp", "iat", "jti", "sub", "op_hash", "uid"]},
    )
    if claims["sub"] != "confirmation" or claims["uid"] != operation["uid"]:
        raise pyjwt.InvalidTokenError("not this user's confirmation")
    if claims["op_hash"] != canonical_digest(operation) or claims["op"] != operation:
        raise pyjwt.InvalidTokenError("another operation")
    return claims


@pytest.fixture
def member(make_user, clock):
    return two_factor_on(make_user(email="withdrawer@example.com"), clock)


@pytest.fixture
def ask(mgmt):
    """``ask(uid, **changes)``: the upstream (signer alex) asks for a confirmation."""

    def call(uid, **changes):
        return mgmt("confirmations", {"uid": uid, **WITHDRAW, **changes})

    return call


@pytest.fixture
def asked(ask, member):
    response = ask(member.uid)
    assert response.status_code == HTTPStatus.CREATED, response.content
    return response.json()


def jwks(api) -> dict:
    response = api.get("/api/v2/management/jwks")
    assert response.status_code == HTTPStatus.OK
    return response.json()


# ---------------------------------------------------------------- the upstream asks


def test_request_answers_the_canonical_operation_and_its_hash(asked, member):
    operation = upstream_operation(member.uid)
    assert asked["operation"] == operation
    assert asked["digest"] == canonical_digest(operation)
    assert asked["state"] == "pending"
    assert asked["uid"] == member.uid
    assert asked["methods"] == ["otp"]
    assert asked["path"] == f"/confirmations/{asked['cid']}"
    assert asked["confirmation"] is None
    row = Activity.objects.get(topic="management", action="confirmation request")
    assert json.loads(row.data)["cid"] == asked["cid"]
    assert json.loads(row.data)["signers"] == ["alex"]


@pytest.mark.parametrize(
    ("sent", "canonical"),
    [
        ("0.50000000", "0.5"),
        ("100", "100"),
        ("100.000", "100"),
        ("007.10", "7.1"),
        ("0.000000000000000000000000000001", "0.000000000000000000000000000001"),
        (
            "123456789012345678901234567890.123456789012345678901234567890",
            "123456789012345678901234567890.12345678901234567890123456789",
        ),
    ],
)
def test_amounts_keep_every_digit(ask, member, sent, canonical):
    response = ask(member.uid, amount=sent)
    assert response.status_code == HTTPStatus.CREATED, response.content
    assert response.json()["operation"]["amount"] == canonical


def test_equivalent_spellings_hash_alike(ask, member):
    first = ask(member.uid, amount="100.000", asset="usdt", nonce="n-1").json()
    second = ask(member.uid, amount="100", asset="USDT ", nonce="n-2").json()
    assert first["operation"]["amount"] == second["operation"]["amount"] == "100"
    assert first["operation"]["asset"] == second["operation"]["asset"] == "usdt"
    assert first["digest"] == canonical_digest(first["operation"])
    assert second["digest"] == canonical_digest(second["operation"])


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"type": None}, "missing_type"),
        ({"asset": ""}, "missing_asset"),
        ({"amount": None}, "missing_amount"),
        ({"destination": None}, "missing_destination"),
        ({"nonce": None}, "missing_nonce"),
        ({"amount": "-1"}, "invalid_amount"),
        ({"amount": "0"}, "invalid_amount"),
        ({"amount": "0.000"}, "invalid_amount"),
        ({"amount": "1e5"}, "invalid_amount"),
        ({"amount": 0.5}, "invalid_amount"),  # a JSON number is a float: refused
        ({"amount": "NaN"}, "invalid_amount"),
        ({"amount": "1" * 31}, "invalid_amount"),
        ({"amount": ["1"]}, "invalid_amount"),
        ({"asset": "b t c"}, "invalid_asset"),
        ({"asset": {"a": "b"}}, "invalid_asset"),
        ({"type": "with draw"}, "invalid_type"),
        ({"type": "x" * 40}, "invalid_type"),
        ({"destination": "bc1q\u202eevil"}, "invalid_destination"),
        ({"destination": "bc1q\nevil"}, "invalid_destination"),
        ({"destination": "x" * 257}, "invalid_destination"),
        ({"destination": 12}, "invalid_destination"),
        ({"nonce": "n" * 65}, "invalid_nonce"),
        ({"nonce": "a b"}, "invalid_nonce"),
        ({"nonce": True}, "invalid_nonce"),
    ],
)
def test_malformed_operations_are_refused_with_nothing_written(mgmt, member, changes, key):
    data = {k: v for k, v in {**WITHDRAW, **changes}.items() if v is not None}
    response = mgmt("confirmations", {"uid": member.uid, **data})
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY, response.content
    assert response.json() == {"error": f"management.confirmation.{key}"}
    assert not Confirmation.objects.exists()


@pytest.mark.parametrize(
    ("uid", "status", "key"),
    [
        (None, 422, "missing_uid"),
        (["ID1"], 422, "invalid_uid"),
        ("ID" + "0" * 70, 422, "invalid_uid"),
        ("ID0000000000", 404, "user_not_found"),
    ],
)
def test_unknown_or_malformed_uid(mgmt, member, uid, status, key):
    data = {**WITHDRAW} if uid is None else {**WITHDRAW, "uid": uid}
    response = mgmt("confirmations", data)
    assert response.status_code == status
    assert response.json() == {"error": f"management.confirmation.{key}"}
    assert not Confirmation.objects.exists()


def test_a_nonce_is_used_once_per_user(ask, asked, member):
    response = ask(member.uid, amount="7")
    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json() == {"error": "management.confirmation.nonce_taken"}
    assert Confirmation.objects.count() == 1


def test_a_user_without_second_factor_cannot_be_asked(ask, make_user):
    user = make_user()
    response = ask(user.uid)
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"error": "management.confirmation.no_second_factor"}
    assert not Confirmation.objects.exists()


def test_never_signed_with_the_session_key(ask, member, monkeypatch):
    """Production without BARONG_MANAGEMENT_SIGNING_KEY signs otp/sign with the JWT key:
    confirmations are refused then, before anything is written."""
    monkeypatch.setattr(confirmations_module, "management_signing_key", barong_jwt.signing_key)
    response = ask(member.uid)
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.json() == {"error": "management.confirmation.unavailable"}
    assert not Confirmation.objects.exists()


def test_request_needs_the_write_scope(mgmt, management_file, member):
    management_file(
        scopes={
            "write_confirmations": {"permitted_signers": ["jeff"], "mandatory_signers": ["jeff"]}
        }
    )
    response = mgmt("confirmations", {"uid": member.uid, **WITHDRAW}, signers=("alex",))
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert not Confirmation.objects.exists()


# ---------------------------------------------------------------- the user confirms with TOTP


def confirm(client, cid, **body):
    return client.post(f"{RESOURCE}/{cid}/confirm", body, format="json")


def test_totp_confirmation_verified_by_the_upstream(api, auth_api, asked, member, clock, mgmt):
    client = auth_api(member)
    shown = client.get(f"{RESOURCE}/{asked['cid']}")
    assert shown.status_code == HTTPStatus.OK
    assert shown.json()["digest"] == asked["digest"]
    assert shown.json()["operation"] == asked["operation"]

    response = confirm(
        client, asked["cid"], digest=asked["digest"], otp_code=clock.next_code(member)
    )
    assert response.status_code == HTTPStatus.CREATED, response.content
    token = response.json()["confirmation"]
    claims = upstream_verify(
        token, jwks=jwks(api), operation=upstream_operation(member.uid), audience="alex"
    )
    assert claims["amr"] == ["otp"]
    assert claims["cid"] == asked["cid"]
    assert claims["exp"] - claims["iat"] == 300
    # The upstream may also read it through the management API.
    status = mgmt("confirmations/get", {"cid": asked["cid"]}).json()
    assert status["state"] == "confirmed"
    assert status["method"] == "otp"
    assert status["confirmation"] == token
    assert (
        Activity.objects.filter(topic="confirmation", action="confirm", result="succeed").count()
        == 1
    )


def test_upstream_refuses_a_changed_operation(api, auth_api, asked, member, clock):
    client = auth_api(member)
    token = confirm(
        client, asked["cid"], digest=asked["digest"], otp_code=clock.next_code(member)
    ).json()["confirmation"]
    keys = jwks(api)
    with pytest.raises(pyjwt.InvalidTokenError):
        upstream_verify(
            token,
            jwks=keys,
            operation={**upstream_operation(member.uid), "uid": "ID0"},
            audience="alex",
        )
    for field, value in [
        ("amount", "5"),
        ("asset", "eth"),
        ("destination", "bc1qattacker"),
        ("nonce", "wd-1002"),
        ("type", "transfer"),
    ]:
        with pytest.raises(pyjwt.InvalidTokenError):
            upstream_verify(
                token,
                jwks=keys,
                operation=upstream_operation(member.uid, **{field: value}),
                audience="alex",
            )


def test_confirmation_does_not_verify_with_the_session_keys(api, auth_api, asked, member, clock):
    token = confirm(
        auth_api(member), asked["cid"], digest=asked["digest"], otp_code=clock.next_code(member)
    ).json()["confirmation"]
    session_keys = api.get("/api/v2/identity/jwks").json()
    kid = pyjwt.get_unverified_header(token)["kid"]
    assert kid not in [key["kid"] for key in session_keys["keys"]]
    for jwk in session_keys["keys"]:
        with pytest.raises(pyjwt.InvalidTokenError):
            pyjwt.decode(
                token, pyjwt.PyJWK(jwk).key, algorithms=["RS256"], audience="alex", issuer="barong"
            )
    # Nor does the session verifier take it: another subject, another key.
    with pytest.raises(pyjwt.InvalidTokenError):
        barong_jwt.decode(token, sub="session")


def test_a_second_confirmation_fails(auth_api, asked, member, clock):
    client = auth_api(member)
    first = confirm(client, asked["cid"], digest=asked["digest"], otp_code=clock.next_code(member))
    assert first.status_code == HTTPStatus.CREATED
    second = confirm(client, asked["cid"], digest=asked["digest"], otp_code=clock.next_code(member))
    assert second.status_code == HTTPStatus.CONFLICT
    assert second.json() == {"errors": ["resource.confirmation.not_pending"]}
    options = client.post(f"{RESOURCE}/{asked['cid']}/webauthn")
    assert options.status_code == HTTPStatus.CONFLICT


def test_a_replayed_code_fails(auth_api, ask, member, clock):
    """The code that confirmed one operation cannot confirm another (RFC 6238, 5.2)."""
    one = ask(member.uid, nonce="n-1").json()
    two = ask(member.uid, nonce="n-2").json()
    client = auth_api(member)
    code = clock.next_code(member)
    assert confirm(client, one["cid"], digest=one["digest"], otp_code=code).status_code == 201
    replay = confirm(client, two["cid"], digest=two["digest"], otp_code=code)
    assert replay.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert replay.json() == {"errors": ["resource.confirmation.invalid_otp"]}
    assert Confirmation.objects.get(cid=two["cid"]).state == "pending"


def test_the_digest_of_another_operation_is_refused(auth_api, asked, member, clock):
    changed = canonical_digest(upstream_operation(member.uid, amount="50"))
    response = confirm(
        auth_api(member), asked["cid"], digest=changed, otp_code=clock.next_code(member)
    )
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["resource.confirmation.digest_mismatch"]}
    row = Confirmation.objects.get(cid=asked["cid"])
    assert (row.state, row.token, row.attempts) == ("pending", "", 0)


def test_expired_confirmation(auth_api, asked, member, clock, mgmt):
    Confirmation.objects.filter(cid=asked["cid"]).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    response = confirm(
        auth_api(member), asked["cid"], digest=asked["digest"], otp_code=clock.next_code(member)
    )
    assert response.status_code == HTTPStatus.GONE
    assert response.json() == {"errors": ["resource.confirmation.expired"]}
    assert mgmt("confirmations/get", {"cid": asked["cid"]}).json()["state"] == "expired"


def test_expiry_follows_the_setting(settings, ask, member):
    settings.BARONG_CONFIRMATION_TTL = 60
    row = ask(member.uid).json()
    created = Confirmation.objects.get(cid=row["cid"])
    assert (created.expires_at - created.created_at).total_seconds() == pytest.approx(60, abs=2)


def test_another_user_cannot_see_or_confirm(auth_api, asked, make_user, clock):
    other = two_factor_on(make_user(), clock)
    client = auth_api(other)
    assert client.get(f"{RESOURCE}/{asked['cid']}").status_code == HTTPStatus.NOT_FOUND
    response = confirm(
        client, asked["cid"], digest=asked["digest"], otp_code=clock.next_code(other)
    )
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"errors": ["resource.confirmation.not_found"]}
    reject = client.post(f"{RESOURCE}/{asked['cid']}/reject", {"digest": asked["digest"]})
    assert reject.status_code == HTTPStatus.NOT_FOUND
    assert Confirmation.objects.get(cid=asked["cid"]).state == "pending"


def test_wrong_codes_are_bounded(settings, auth_api, asked, member, clock, mgmt):
    settings.BARONG_CONFIRMATION_MAX_ATTEMPTS = 3
    client = auth_api(member)
    for attempt in (1, 2):
        response = confirm(client, asked["cid"], digest=asked["digest"], otp_code="000000")
        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        assert response.json() == {"errors": ["resource.confirmation.invalid_otp"]}
        assert Confirmation.objects.get(cid=asked["cid"]).attempts == attempt
        unthrottle(member)
    third = confirm(client, asked["cid"], digest=asked["digest"], otp_code="000000")
    assert third.json() == {"errors": ["resource.confirmation.too_many_attempts"]}
    unthrottle(member)
    late = confirm(client, asked["cid"], digest=asked["digest"], otp_code=clock.next_code(member))
    assert late.status_code == HTTPStatus.CONFLICT
    assert mgmt("confirmations/get", {"cid": asked["cid"]}).json()["state"] == "failed"
    failed = Activity.objects.filter(topic="confirmation", action="confirm", result="failed")
    assert failed.count() == 3


def test_reject(auth_api, asked, member, clock, mgmt):
    client = auth_api(member)
    response = client.post(f"{RESOURCE}/{asked['cid']}/reject", {"digest": asked["digest"]})
    assert response.status_code == HTTPStatus.CREATED
    assert response.json()["state"] == "rejected"
    late = confirm(client, asked["cid"], digest=asked["digest"], otp_code=clock.next_code(member))
    assert late.status_code == HTTPStatus.CONFLICT
    status = mgmt("confirmations/get", {"cid": asked["cid"]}).json()
    assert (status["state"], status["confirmation"]) == ("rejected", None)
    assert Activity.objects.filter(topic="confirmation", action="reject").count() == 1


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ({"otp_code": "123456"}, "missing_digest"),
        ({"digest": "", "otp_code": "123456"}, "empty_digest"),
        ({"digest": "abc", "otp_code": "123456"}, "invalid_digest"),
        ({"digest": "x" * 65, "otp_code": "123456"}, "invalid_digest"),
        ({"digest": "D"}, "missing_factor"),
        ({"digest": "D", "otp_code": "123456", "credential": {"id": "x"}}, "missing_factor"),
        ({"digest": "D", "credential": "not-an-object"}, "invalid_credential"),
        ({"digest": "D", "otp_code": "1" * 17}, "invalid_otp_code"),
        ({"digest": "D", "otp_code": ["1"]}, "invalid_otp_code"),
    ],
)
def test_hostile_confirm_bodies(auth_api, asked, member, body, key):
    body = {k: asked["digest"] if v == "D" else v for k, v in body.items()}
    response = confirm(auth_api(member), asked["cid"], **body)
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY, response.content
    # An absent non-blank parameter is Barong's missing_ and empty_ keys together.
    assert response.json()["errors"][0] == f"resource.confirmation.{key}"
    row = Confirmation.objects.get(cid=asked["cid"])
    assert (row.state, row.attempts) == ("pending", 0)


@pytest.mark.parametrize("cid", ["nope", "a" * 65, "%00" * 20, "../../users/me"])
def test_unknown_ids_are_404(auth_api, member, cid):
    response = auth_api(member).get(f"{RESOURCE}/{cid}")
    assert response.status_code == HTTPStatus.NOT_FOUND


def test_management_status_of_an_unknown_id(mgmt, management_file):
    for cid in ("A" * 32, 12, None):
        response = mgmt("confirmations/get", {"cid": cid})
        assert response.status_code == HTTPStatus.NOT_FOUND
        assert response.json() == {"error": "management.confirmation.not_found"}


def test_resource_calls_need_a_user(api, asked):
    assert api.get(f"{RESOURCE}/{asked['cid']}").status_code == HTTPStatus.UNAUTHORIZED


# ---------------------------------------------------------------- the user confirms with a passkey


@pytest.fixture
def passkey_member(member, auth_api):
    from tests.security.authenticator import SoftAuthenticator
    from tests.security.test_passkeys_api import register

    authenticator = SoftAuthenticator()
    register(auth_api(member), authenticator)
    return member, authenticator


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_passkey_challenge_is_the_hash(api, auth_api, ask, passkey_member):
    member, authenticator = passkey_member
    asked = ask(member.uid).json()
    assert asked["methods"] == ["otp", "hwk"]
    client = auth_api(member)
    options = client.post(f"{RESOURCE}/{asked['cid']}/webauthn")
    assert options.status_code == HTTPStatus.CREATED
    public_key = options.json()["publicKey"]
    assert public_key["challenge"] == b64url(bytes.fromhex(asked["digest"]))
    assert [c["id"] for c in public_key["allowCredentials"]] == [authenticator.id]

    response = confirm(
        client, asked["cid"], digest=asked["digest"], credential=authenticator.get(options.json())
    )
    assert response.status_code == HTTPStatus.CREATED, response.content
    claims = upstream_verify(
        response.json()["confirmation"],
        jwks=jwks(api),
        operation=upstream_operation(member.uid),
        audience="alex",
    )
    assert claims["amr"] == ["hwk"]


def test_passkey_over_another_challenge_is_refused(auth_api, ask, passkey_member):
    member, authenticator = passkey_member
    asked = ask(member.uid).json()
    other = canonical_digest(upstream_operation(member.uid, amount="50"))
    forged = authenticator.get({"publicKey": {"challenge": b64url(bytes.fromhex(other))}})
    response = confirm(auth_api(member), asked["cid"], digest=asked["digest"], credential=forged)
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["resource.confirmation.invalid_webauthn"]}
    row = Confirmation.objects.get(cid=asked["cid"])
    assert (row.state, row.attempts, row.token) == ("pending", 1, "")


def test_passkey_assertion_cannot_be_replayed(auth_api, ask, passkey_member):
    """The same assertion (same counter) offered again: the confirmation is used, and a
    fresh one of the same operation would need a new nonce, hence another challenge."""
    member, authenticator = passkey_member
    asked = ask(member.uid).json()
    client = auth_api(member)
    options = client.post(f"{RESOURCE}/{asked['cid']}/webauthn").json()
    assertion = authenticator.get(options)
    assert (
        confirm(client, asked["cid"], digest=asked["digest"], credential=assertion).status_code
        == 201
    )
    again = confirm(client, asked["cid"], digest=asked["digest"], credential=assertion)
    assert again.status_code == HTTPStatus.CONFLICT


def test_passkey_options_without_passkey(auth_api, asked, member):
    response = auth_api(member).post(f"{RESOURCE}/{asked['cid']}/webauthn")
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["resource.confirmation.webauthn_not_registered"]}


def _hostile_credentials(authenticator) -> list:
    good = authenticator.get({"publicKey": {"challenge": "AAAA"}})
    response = good["response"]
    return [
        {},
        {"id": authenticator.id},
        {"id": authenticator.id, "rawId": authenticator.id, "type": "public-key"},
        {**good, "response": "not-an-object"},
        {**good, "response": {**response, "clientDataJSON": "!!not base64!!"}},
        {**good, "response": {**response, "clientDataJSON": "e30"}},  # {}
        {**good, "response": {**response, "authenticatorData": ""}},
        {**good, "response": {**response, "signature": "AA" * 600}},
        {**good, "type": "password"},
        {**good, "id": "x" * 5000, "rawId": "x" * 5000},
        {"id": {"nested": ["deep"]}, "response": {"a": {"b": {"c": 1}}}},
    ]


def test_hostile_assertions_are_4xx_and_counted(settings, auth_api, ask, passkey_member):
    settings.BARONG_CONFIRMATION_MAX_ATTEMPTS = 100
    member, authenticator = passkey_member
    asked = ask(member.uid).json()
    client = auth_api(member)
    hostile = _hostile_credentials(authenticator)
    for credential in hostile:
        response = confirm(client, asked["cid"], digest=asked["digest"], credential=credential)
        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY, (credential, response)
        assert response.json() == {"errors": ["resource.confirmation.invalid_webauthn"]}
    row = Confirmation.objects.get(cid=asked["cid"])
    assert (row.state, row.attempts, row.token) == ("pending", len(hostile), "")


def test_upstream_refuses_an_expired_confirmation(api, auth_api, asked, member, clock):
    token = confirm(
        auth_api(member), asked["cid"], digest=asked["digest"], otp_code=clock.next_code(member)
    ).json()["confirmation"]
    claims = pyjwt.decode(token, options={"verify_signature": False})
    key = pyjwt.PyJWKSet.from_dict(jwks(api))[pyjwt.get_unverified_header(token)["kid"]]
    # A negative leeway is the upstream's clock TTL + 1 seconds later.
    with pytest.raises(pyjwt.ExpiredSignatureError):
        pyjwt.decode(
            token,
            key.key,
            algorithms=["RS256"],
            audience="alex",
            leeway=-(claims["exp"] - claims["iat"] + 1),
            options={"verify_iat": False},  # iat is checked with the same shifted clock
        )


def test_the_session_cookie_path_needs_its_csrf_header(api, asked, member, clock):
    csrf = login(api, member, otp_code=clock.next_code(member))
    body = {"digest": asked["digest"], "otp_code": clock.next_code(member)}
    refused = api.post(f"{RESOURCE}/{asked['cid']}/confirm", body, format="json")
    assert refused.status_code == HTTPStatus.UNAUTHORIZED
    assert refused.json() == {"errors": ["authz.missing_csrf_token"]}
    assert Confirmation.objects.get(cid=asked["cid"]).state == "pending"
    done = api.post(
        f"{RESOURCE}/{asked['cid']}/confirm", body, format="json", HTTP_X_CSRF_TOKEN=csrf
    )
    assert done.status_code == HTTPStatus.CREATED, done.content


def test_old_confirmations_are_pruned_on_schedule(settings, ask, member):
    from barong.celery import app
    from management.tasks import confirmations_prune_task

    schedule = settings.CELERY_BEAT_SCHEDULE["confirmations-prune"]
    assert schedule["task"] == "management.tasks.confirmations_prune_task"
    assert schedule["task"] in app.tasks
    old = ask(member.uid, nonce="old").json()
    recent = ask(member.uid, nonce="recent").json()
    Confirmation.objects.filter(cid=old["cid"]).update(
        expires_at=timezone.now() - timedelta(days=31)
    )
    Confirmation.objects.filter(cid=recent["cid"]).update(
        expires_at=timezone.now() - timedelta(days=29)
    )
    assert confirmations_prune_task.delay().get() == 1
    assert list(Confirmation.objects.values_list("cid", flat=True)) == [recent["cid"]]
    assert Activity.objects.filter(action="confirmation request").count() == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_decisions_decide_once(auth_api, ask, member, clock):
    """A confirm and two refusals at the same moment: one wins, the others see it decided."""
    from tests.resource_account.test_otp_api import _concurrently

    asked = ask(member.uid).json()
    code = clock.next_code(member)
    url = f"{RESOURCE}/{asked['cid']}"
    confirmer, *rejecters = [auth_api(member) for _ in range(3)]
    body = {"digest": asked["digest"]}
    calls = [
        lambda: confirmer.post(f"{url}/confirm", {**body, "otp_code": code}, format="json"),
        *[lambda c=c: c.post(f"{url}/reject", body) for c in rejecters],
    ]

    responses = _concurrently(calls)

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201, 409, 409], [r.content for r in responses]
    row = Confirmation.objects.get(cid=asked["cid"])
    winner = next(r for r in responses if r.status_code == 201).json()["state"]
    assert row.state == winner
    assert bool(row.token) == (winner == "confirmed")
    decided = Activity.objects.filter(topic="confirmation", result="succeed")
    assert decided.count() == 1
