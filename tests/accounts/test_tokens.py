"""Confirmation and reset tokens: RS256 JWTs, single-use, only the newest valid."""

import threading

import jwt
import pytest
from django.core.cache import cache

from accounts import tokens
from barong import jwt as barong_jwt
from barong.api.errors import ApiError

pytestmark = pytest.mark.django_db


@pytest.fixture
def user(make_user):
    return make_user(verified=False)


def test_token_is_an_rs256_jwt_with_barong_claims(user, settings):
    token = tokens.token_issue(user=user, purpose=tokens.CONFIRMATION)

    header = jwt.get_unverified_header(token)
    claims = barong_jwt.decode(token, sub="confirmation")
    assert header["alg"] == "RS256"
    assert header["kid"] == barong_jwt.signing_key().kid
    assert (claims["email"], claims["uid"], claims["sub"]) == (user.email, user.uid, "confirmation")
    assert claims["iss"] == "barong"
    assert claims["exp"] - claims["iat"] == settings.BARONG_JWT_EXPIRE_TIME


def test_issued_token_is_usable_once(user):
    claims = tokens.token_decode(
        token=tokens.token_issue(user=user, purpose=tokens.RESET), purpose=tokens.RESET
    )

    assert tokens.token_usable(claims=claims, purpose=tokens.RESET)
    tokens.token_consume(claims=claims, purpose=tokens.RESET)
    assert not tokens.token_usable(claims=claims, purpose=tokens.RESET)
    with pytest.raises(ApiError) as raised:
        tokens.token_consume(claims=claims, purpose=tokens.RESET)
    assert raised.value.keys == ["identity.user.utilized_token"]
    assert raised.value.status_code == 422


def test_a_new_token_supersedes_the_previous_one(user):
    first = tokens.token_decode(
        token=tokens.token_issue(user=user, purpose=tokens.RESET), purpose=tokens.RESET
    )
    second = tokens.token_decode(
        token=tokens.token_issue(user=user, purpose=tokens.RESET), purpose=tokens.RESET
    )

    assert not tokens.token_usable(claims=first, purpose=tokens.RESET)
    # the superseded marker is gone (found through the pointer the new one replaced)
    assert cache.get(tokens._unused_key(tokens.RESET, user.uid, first["jti"])) is None
    with pytest.raises(ApiError):
        tokens.token_consume(claims=first, purpose=tokens.RESET)
    tokens.token_consume(claims=second, purpose=tokens.RESET)


def test_purposes_and_users_are_independent(user, make_user):
    other = make_user(verified=False)
    reset = tokens.token_decode(
        token=tokens.token_issue(user=user, purpose=tokens.RESET), purpose=tokens.RESET
    )
    tokens.token_issue(user=user, purpose=tokens.CONFIRMATION)
    tokens.token_issue(user=other, purpose=tokens.RESET)

    assert tokens.token_usable(claims=reset, purpose=tokens.RESET)
    assert not tokens.token_usable(claims=reset, purpose=tokens.CONFIRMATION)


def test_decode_refuses_the_other_purpose(user):
    token = tokens.token_issue(user=user, purpose=tokens.CONFIRMATION)

    with pytest.raises(ApiError) as raised:
        tokens.token_decode(token=token, purpose=tokens.RESET)

    assert raised.value.keys == ["jwt.decode_and_verify"]
    assert raised.value.status_code == 403


@pytest.mark.parametrize("token", ["", "x", "a.b.c", "x" * 9000, None, 5])
def test_decode_refuses_garbage(token):
    with pytest.raises(ApiError) as raised:
        tokens.token_decode(token=token, purpose=tokens.RESET)

    assert raised.value.keys == ["jwt.decode_and_verify"]


def test_unknown_purpose_is_a_programming_error(user):
    with pytest.raises(ValueError, match="unknown token purpose"):
        tokens.token_issue(user=user, purpose="session")


def test_concurrent_consumers_succeed_once(user):
    claims = tokens.token_decode(
        token=tokens.token_issue(user=user, purpose=tokens.CONFIRMATION),
        purpose=tokens.CONFIRMATION,
    )
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def consume():
        barrier.wait()
        try:
            tokens.token_consume(claims=claims, purpose=tokens.CONFIRMATION)
            outcomes.append("ok")
        except ApiError as exc:
            outcomes.append(exc.keys[0])

    threads = [threading.Thread(target=consume) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["identity.user.utilized_token"] * 7 + ["ok"]
