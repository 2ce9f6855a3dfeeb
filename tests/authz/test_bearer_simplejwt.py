"""Bearer JWTs on the API are verified by simplejwt's TokenBackend, with Barong's claims."""

import secrets
import time
from http import HTTPStatus

import jwt
import pytest
from rest_framework_simplejwt.backends import TokenBackend
from rest_framework_simplejwt.exceptions import TokenBackendError

from accounts.sessions import session_public_id
from barong import jwt as barong_jwt
from tests.conftest import session_open_for

ME = "/api/v2/resource/users/me"


def _token(settings, user, **changes) -> str:
    now = int(time.time())
    claims = {
        "uid": user.uid,
        "sid": session_public_id(session_open_for(user)),
        "iat": now,
        "exp": now + 600,
        "sub": "session",
        "iss": settings.JWT_ISSUER,
        "aud": settings.JWT_AUDIENCE,
        "jti": secrets.token_hex(10),
        **changes,
    }
    claims = {name: value for name, value in claims.items() if value is not None}
    pair = barong_jwt.signing_key()
    return jwt.encode(claims, pair.private_key, algorithm="RS256", headers={"kid": pair.kid})


def test_the_token_backend_verifies_with_this_servers_audience_issuer_and_leeway(
    api, make_user, settings, monkeypatch
):
    settings.JWT_LEEWAY = 7
    seen = []
    original = TokenBackend.decode

    def spy(self, token, verify=True):
        seen.append((self.algorithm, self.audience, self.issuer, self.leeway, verify))
        return original(self, token, verify)

    monkeypatch.setattr(TokenBackend, "decode", spy)
    user = make_user()

    response = api.get(ME, HTTP_AUTHORIZATION=f"Bearer {_token(settings, user)}")

    assert response.status_code == HTTPStatus.OK
    assert seen == [("RS256", settings.JWT_AUDIENCE, settings.JWT_ISSUER, 7, True)]


def test_a_token_the_backend_refuses_is_refused(api, make_user, settings, monkeypatch):
    def refuse(self, token, verify=True):
        raise TokenBackendError("refused by the backend")

    monkeypatch.setattr(TokenBackend, "decode", refuse)
    user = make_user()

    response = api.get(ME, HTTP_AUTHORIZATION=f"Bearer {_token(settings, user)}")

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"errors": ["jwt.decode_and_verify"]}


@pytest.mark.parametrize("claim", ["exp", "iat", "jti", "sub"])
def test_barongs_mandatory_claims_are_still_required(api, make_user, settings, claim):
    """simplejwt passes no ``require`` to PyJWT: barong/jwt.py checks them itself."""
    user = make_user()

    response = api.get(ME, HTTP_AUTHORIZATION=f"Bearer {_token(settings, user, **{claim: None})}")

    assert response.status_code == HTTPStatus.UNAUTHORIZED


@pytest.mark.parametrize(
    ("claim", "value"), [("aud", "elsewhere"), ("iss", "someone"), ("exp", 1), ("nbf", 2**40)]
)
def test_audience_issuer_and_times_are_the_backends_checks(api, make_user, settings, claim, value):
    user = make_user()

    response = api.get(ME, HTTP_AUTHORIZATION=f"Bearer {_token(settings, user, **{claim: value})}")

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"errors": ["jwt.decode_and_verify"]}
