"""POST /identity/users/email/generate_code and POST .../email/confirm_code."""

import re
from http import HTTPStatus
from importlib import import_module

import pytest
from django.conf import settings as django_settings

from accounts.models import Label, User
from accounts.services import label_set, user_state_set
from barong import jwt as barong_jwt
from tests.accounts.conftest import STRONG_PASSWORD, last_token

pytestmark = pytest.mark.django_db

GENERATE = "/api/v2/identity/users/email/generate_code"
CONFIRM = "/api/v2/identity/users/email/confirm_code"
SIGNUP = "/api/v2/identity/users"
COOKIE = "_barong_session"


@pytest.fixture
def pending(api, mailoutbox):
    """A user who just signed up (and got the first confirmation e-mail)."""
    api.post(SIGNUP, {"email": "pending@example.com", "password": STRONG_PASSWORD})
    api.cookies.clear()
    return User.objects.get(email="pending@example.com")


# ---------------------------------------------------------------- resend


@pytest.mark.parametrize("fmt", ["json", "multipart"])
def test_resend_sends_a_new_token_to_a_pending_user(api, pending, mailoutbox, fmt):
    first = last_token(mailoutbox, "confirmation")

    response = api.post(GENERATE, {"email": "PENDING@example.com"}, format=fmt)

    assert response.status_code == HTTPStatus.CREATED
    assert response.json() == {}
    assert len(mailoutbox) == 2
    assert mailoutbox[1].to == ["pending@example.com"]
    assert last_token(mailoutbox, "confirmation") != first


def test_resend_to_unknown_email_answers_the_same_without_mail(api, mailoutbox):
    response = api.post(GENERATE, {"email": "ghost@example.com"}, format="json")

    assert response.status_code == HTTPStatus.CREATED
    assert response.json() == {}
    assert mailoutbox == []


def test_resend_to_active_user_answers_the_same_without_mail(api, make_user, mailoutbox):
    user = make_user()

    response = api.post(GENERATE, {"email": user.email}, format="json")

    assert response.status_code == HTTPStatus.CREATED
    assert response.json() == {}
    assert mailoutbox == []


def test_resend_honours_lang(api, pending, mailoutbox):
    api.post(GENERATE, {"email": pending.email, "lang": "ru"}, format="json")

    assert mailoutbox[-1].subject == "Подтверждение регистрации"
    assert "&lang=ru" in mailoutbox[-1].body


def test_resend_is_rate_limited_per_account(api, pending, mailoutbox, tight_limits):
    tight_limits(email_code_account="2/3600")
    for _ in range(2):
        api.post(GENERATE, {"email": pending.email}, format="json")
    sent = len(mailoutbox)

    response = api.post(GENERATE, {"email": pending.email.upper()}, format="json")
    other = api.post(GENERATE, {"email": "other@example.com"}, format="json")

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert response.json() == {"errors": ["identity.user.too_many_requests"]}
    assert len(mailoutbox) == sent
    assert other.status_code == HTTPStatus.CREATED


def test_resend_is_rate_limited_per_ip(api, tight_limits):
    tight_limits(email_code_ip="2/3600")
    for n in range(2):
        api.post(GENERATE, {"email": f"x{n}@example.com"}, format="json")

    response = api.post(GENERATE, {"email": "x9@example.com"}, format="json")
    other_ip = api.post(
        GENERATE, {"email": "x9@example.com"}, format="json", REMOTE_ADDR="198.51.100.3"
    )

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert response.json() == {"errors": ["identity.user.too_many_requests"]}
    assert other_ip.status_code == HTTPStatus.CREATED


def test_resend_rate_limit_off(api, pending, mailoutbox, settings):
    settings.BARONG_RATE_LIMITS = False
    settings.BARONG_RATE_LIMIT_RULES = {
        **settings.BARONG_RATE_LIMIT_RULES,
        "email_code_account": "1/3600",
        "email_code_ip": "1/3600",
    }

    statuses = {
        api.post(GENERATE, {"email": pending.email}, format="json").status_code for _ in range(3)
    }

    assert statuses == {HTTPStatus.CREATED}
    assert len(mailoutbox) == 4


# ---------------------------------------------------------------- confirm


@pytest.mark.parametrize("fmt", ["json", "multipart"])
def test_confirm_activates_the_user_and_opens_a_session(api, pending, mailoutbox, fmt):
    token = last_token(mailoutbox, "confirmation")

    response = api.post(CONFIRM, {"token": token, "lang": "en"}, format=fmt)

    assert response.status_code == HTTPStatus.CREATED
    body = response.json()
    assert (body["uid"], body["state"], body["level"]) == (pending.uid, "active", 1)
    assert re.fullmatch(r"[0-9a-f]{20}", body["csrf_token"])
    assert [(lb["key"], lb["value"], lb["scope"]) for lb in body["labels"]] == [
        ("email", "verified", "private")
    ]
    pending.refresh_from_db()
    assert (pending.state, pending.level) == ("active", 1)
    assert Label.objects.filter(user=pending, key="email", scope="private").exists()
    store = import_module(django_settings.SESSION_ENGINE).SessionStore
    assert store(session_key=response.cookies[COOKIE].value)["uid"] == pending.uid


def test_confirm_twice_is_refused(api, pending, mailoutbox):
    token = last_token(mailoutbox, "confirmation")
    api.post(CONFIRM, {"token": token}, format="json")

    response = api.post(CONFIRM, {"token": token}, format="json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["identity.user.active_or_doesnt_exist"]}


def test_confirmation_token_is_single_use(api, pending, mailoutbox):
    # A banned user stays banned after confirming, so the second try reaches the token check.
    label_set(user=pending, key="ban", value="fraud", scope="private")
    token = last_token(mailoutbox, "confirmation")
    first = api.post(CONFIRM, {"token": token}, format="json")

    second = api.post(CONFIRM, {"token": token}, format="json")

    assert first.status_code == HTTPStatus.CREATED
    assert first.json()["state"] == "banned"
    assert second.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert second.json() == {"errors": ["identity.user.utilized_token"]}


def test_only_the_newest_confirmation_token_is_valid(api, pending, mailoutbox):
    old = last_token(mailoutbox, "confirmation")
    api.post(GENERATE, {"email": pending.email}, format="json")
    new = last_token(mailoutbox, "confirmation")

    stale = api.post(CONFIRM, {"token": old}, format="json")
    fresh = api.post(CONFIRM, {"token": new}, format="json")

    assert stale.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert stale.json() == {"errors": ["identity.user.utilized_token"]}
    assert fresh.status_code == HTTPStatus.CREATED
    pending.refresh_from_db()
    assert pending.state == "active"


def test_stale_token_changes_nothing(api, pending, mailoutbox):
    old = last_token(mailoutbox, "confirmation")
    api.post(GENERATE, {"email": pending.email}, format="json")

    api.post(CONFIRM, {"token": old}, format="json")

    pending.refresh_from_db()
    assert (pending.state, pending.level) == ("pending", 0)
    assert not Label.objects.filter(user=pending).exists()


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        "a.b.c",
        "x" * 10_000,
        "😀.😀.😀",
        "eyJhbGciOiJub25lIn0.eyJzdWIiOiJjb25maXJtYXRpb24ifQ.",
    ],
)
def test_garbage_token_is_403(api, pending, token):
    response = api.post(CONFIRM, {"token": token}, format="json")

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json() == {"errors": ["jwt.decode_and_verify"]}
    pending.refresh_from_db()
    assert pending.state == "pending"


def test_expired_token_is_403(api, pending):
    token = barong_jwt.encode(
        {"email": pending.email, "uid": pending.uid}, sub="confirmation", lifetime=-120
    )

    response = api.post(CONFIRM, {"token": token}, format="json")

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json() == {"errors": ["jwt.decode_and_verify"]}


@pytest.mark.parametrize("sub", ["reset", "session"])
def test_token_of_another_purpose_is_403(api, pending, sub):
    token = barong_jwt.encode({"email": pending.email, "uid": pending.uid}, sub=sub)

    response = api.post(CONFIRM, {"token": token}, format="json")

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json() == {"errors": ["jwt.decode_and_verify"]}


def test_token_signed_by_another_key_is_403(api, pending):
    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    real = barong_jwt.encode({"email": pending.email, "uid": pending.uid}, sub="confirmation")
    claims = jwt.decode(real, options={"verify_signature": False})
    forged = jwt.encode(claims, key, algorithm="RS256")

    response = api.post(CONFIRM, {"token": forged}, format="json")

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json() == {"errors": ["jwt.decode_and_verify"]}


def test_valid_signature_but_never_issued_is_utilized(api, pending):
    # Signed by us, yet not the token the cache remembers for this user.
    token = barong_jwt.encode({"email": pending.email, "uid": pending.uid}, sub="confirmation")

    response = api.post(CONFIRM, {"token": token}, format="json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["identity.user.utilized_token"]}


def test_token_of_unknown_user(api):
    token = barong_jwt.encode(
        {"email": "ghost@example.com", "uid": "ID0000000000"}, sub="confirmation"
    )

    response = api.post(CONFIRM, {"token": token}, format="json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["identity.user.active_or_doesnt_exist"]}


def test_token_whose_email_does_not_match_the_uid(api, pending, make_user):
    other = make_user(verified=False)
    token = barong_jwt.encode({"email": other.email, "uid": pending.uid}, sub="confirmation")

    response = api.post(CONFIRM, {"token": token}, format="json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["identity.user.active_or_doesnt_exist"]}


def test_token_without_email_claim_is_403(api, pending):
    token = barong_jwt.encode({"uid": pending.uid}, sub="confirmation")

    response = api.post(CONFIRM, {"token": token}, format="json")

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json() == {"errors": ["jwt.decode_and_verify"]}


def test_confirm_of_a_deleted_user_keeps_the_state(api, pending, mailoutbox):
    user_state_set(user=pending, state="deleted")
    label_set(user=pending, key="delete", value="by_user", scope="private")
    token = last_token(mailoutbox, "confirmation")

    response = api.post(CONFIRM, {"token": token}, format="json")

    assert response.status_code == HTTPStatus.CREATED
    assert response.json()["state"] == "deleted"


def test_confirm_missing_and_blank_parameters(api):
    missing = api.post(CONFIRM, {}, format="json")
    blank = api.post(CONFIRM, {"token": "", "lang": ""}, format="json")

    assert missing.status_code == blank.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert missing.json() == {
        "errors": ["identity.user.missing_token", "identity.user.empty_token"]
    }
    assert blank.json() == {"errors": ["identity.user.empty_token", "identity.user.empty_lang"]}


@pytest.mark.parametrize(
    ("payload", "key"),
    [
        ({"token": {"jwt": "x"}}, "identity.user.invalid_token"),
        ({"token": ["x"]}, "identity.user.invalid_token"),
        ({"token": None}, "identity.user.empty_token"),
        ({"token": "x.y.z", "lang": {"a": 1}}, "identity.user.invalid_lang"),
        ({"token": "x.y.z", "lang": ""}, "identity.user.empty_lang"),
    ],
)
def test_confirm_wrong_types(api, pending, payload, key):
    response = api.post(CONFIRM, payload, format="json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": [key]}
    pending.refresh_from_db()
    assert pending.state == "pending"


def test_blank_lang_in_multipart_is_empty_lang(api):
    response = api.post(CONFIRM, {"token": "x.y.z", "lang": ""}, format="multipart")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {"errors": ["identity.user.empty_lang"]}
