"""Reads and removals of the own passkeys and recovery codes are rate-limited per user.

Each operation has its own rule (docs/operations.md, "Account-security limits"); over it
the API answers 429 with the endpoint's ``too_many_requests`` key, other users are not
affected and the next window starts afresh.
"""

import time
from http import HTTPStatus

import pytest

import barong.ratelimit
from accounts.models import WebAuthnCredential
from tests.security.authenticator import SoftAuthenticator
from tests.security.test_passkeys_api import WEBAUTHN, register

pytestmark = pytest.mark.django_db

CODES = "/api/v2/resource/otp/recovery_codes"

# (rule, method, path, status below the limit, error key over it)
OPERATIONS = [
    ("webauthn_read_account", "get", f"{WEBAUTHN}/credentials", 200, "resource.webauthn"),
    ("webauthn_delete_account", "delete", f"{WEBAUTHN}/credentials/AAAA", 404, "resource.webauthn"),
    ("recovery_code_count_account", "get", CODES, 200, "resource.recovery_code"),
]


class FrozenTime:
    """``time`` for barong.ratelimit only: the window moves when the test says so."""

    def __init__(self) -> None:
        self.now = time.time()

    def time(self) -> float:
        return self.now


@pytest.fixture
def frozen(monkeypatch):
    fake = FrozenTime()
    monkeypatch.setattr(barong.ratelimit, "time", fake)
    return fake


@pytest.mark.parametrize(("rule", "method", "path", "below", "prefix"), OPERATIONS)
def test_limit_answers_429_then_other_users_pass_and_the_window_resets(
    make_user, auth_api, tight_limits, frozen, rule, method, path, below, prefix
):
    tight_limits(**{rule: "3/60"})
    client = auth_api(make_user())
    for _ in range(3):
        assert getattr(client, method)(path).status_code == below

    over = getattr(client, method)(path)

    assert over.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert over.json() == {"errors": [f"{prefix}.too_many_requests"]}
    assert getattr(auth_api(make_user()), method)(path).status_code == below
    frozen.now += 60
    assert getattr(client, method)(path).status_code == below


def test_a_refused_delete_keeps_the_passkey(make_user, auth_api, tight_limits):
    tight_limits(webauthn_delete_account="1/60")
    client = auth_api(make_user())
    authenticator = SoftAuthenticator()
    register(client, authenticator)
    assert client.delete(f"{WEBAUTHN}/credentials/AAAA").status_code == HTTPStatus.NOT_FOUND

    response = client.delete(f"{WEBAUTHN}/credentials/{authenticator.id}")

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert WebAuthnCredential.objects.filter(credential_id=authenticator.id).exists()


def test_the_rules_are_separate(make_user, auth_api, tight_limits):
    """Listing passkeys does not use up the deletes, nor the recovery-code reads."""
    tight_limits(webauthn_read_account="1/60")
    client = auth_api(make_user())
    client.get(f"{WEBAUTHN}/credentials")
    assert client.get(f"{WEBAUTHN}/credentials").status_code == HTTPStatus.TOO_MANY_REQUESTS

    assert client.delete(f"{WEBAUTHN}/credentials/AAAA").status_code == HTTPStatus.NOT_FOUND
    assert client.get(CODES).status_code == HTTPStatus.OK


def test_default_limits_leave_an_honest_user_alone(make_user, auth_api, settings):
    settings.BARONG_RATE_LIMITS = True
    client = auth_api(make_user())
    for _ in range(20):  # a page polled far more often than a person reloads it
        assert client.get(f"{WEBAUTHN}/credentials").status_code == HTTPStatus.OK
        assert client.get(CODES).status_code == HTTPStatus.OK
