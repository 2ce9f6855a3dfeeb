"""Bearer tokens from a gateway whose clock runs a little ahead are accepted within JWT_LEEWAY."""

import secrets
import time
from http import HTTPStatus

import jwt
import pytest

from accounts.sessions import session_public_id
from barong import jwt as barong_jwt
from tests.conftest import session_open_for

ME = "/api/v2/resource/users/me"


def _token(settings, user, *, iat_offset: int) -> str:
    now = int(time.time())
    claims = {
        "uid": user.uid,
        "sid": session_public_id(session_open_for(user)),
        "iat": now + iat_offset,
        "exp": now + 600,
        "sub": "session",
        "iss": settings.JWT_ISSUER,
        "aud": settings.JWT_AUDIENCE,
        "jti": secrets.token_hex(10),
    }
    pair = barong_jwt.signing_key()
    return jwt.encode(claims, pair.private_key, algorithm="RS256", headers={"kid": pair.kid})


@pytest.mark.parametrize("offset", [0, 10, 25])
def test_iat_slightly_in_the_future_is_accepted_within_the_leeway(api, make_user, settings, offset):
    settings.JWT_LEEWAY = 30
    user = make_user()

    response = api.get(ME, HTTP_AUTHORIZATION=f"Bearer {_token(settings, user, iat_offset=offset)}")

    assert response.status_code == HTTPStatus.OK
    assert response.json()["uid"] == user.uid


def test_iat_beyond_the_leeway_is_refused(api, make_user, settings):
    settings.JWT_LEEWAY = 30
    user = make_user()

    response = api.get(ME, HTTP_AUTHORIZATION=f"Bearer {_token(settings, user, iat_offset=90)}")

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"errors": ["jwt.decode_and_verify"]}


def test_the_leeway_is_the_setting(api, make_user, settings):
    settings.JWT_LEEWAY = 0
    user = make_user()

    response = api.get(ME, HTTP_AUTHORIZATION=f"Bearer {_token(settings, user, iat_offset=10)}")

    assert response.status_code == HTTPStatus.UNAUTHORIZED
