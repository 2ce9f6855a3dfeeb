"""Helpers for own-account tests: a controllable TOTP clock, 2FA set-up, logging in."""

import time

import pytest

import accounts.services.otp
from accounts.models import OTPDevice
from tests.factories import DEFAULT_PASSWORD, totp_code

HUGE = "x" * 10_240
HOSTILE_STRINGS = [HUGE, "пароль-密码-🔐", "' OR 1=1 --", "\x00\x01"]
HOSTILE_JSON = [{"a": "b"}, ["a", "b"], 12.5, True]


class Clock:
    """Time as accounts.services.otp sees it; each ``next_code`` moves to a fresh 30 s step."""

    def __init__(self) -> None:
        self.now = time.time()

    def time(self) -> float:
        return self.now

    def tick(self, seconds: float = 30) -> None:
        self.now += seconds

    def code(self, user) -> str:
        """The authenticator's code now (the same until the clock moves)."""
        return totp_code(user, now=self.now)

    def next_code(self, user) -> str:
        """A code of the next time step, so it was never accepted before."""
        self.tick()
        return totp_code(user, now=self.now)


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(accounts.services.otp, "time", fake)
    return fake


def two_factor_on(user, clock: Clock):
    """Generate a seed and enable 2FA through the services, as the API does."""
    accounts.services.otp.otp_secret_create(user=user)
    accounts.services.otp.otp_enable(user=user, code=clock.next_code(user))
    user.refresh_from_db()
    assert user.otp
    return user


def unthrottle(user) -> None:
    """Forget django-otp's back-off after a deliberate failure (it runs on the real clock)."""
    OTPDevice.objects.filter(user=user).update(
        throttling_failure_count=0, throttling_failure_timestamp=None
    )


def login(client, user, password: str = DEFAULT_PASSWORD, otp_code: str | None = None) -> str:
    """Log ``client`` in through the identity API; returns the CSRF token for unsafe calls."""
    body = {"email": user.email, "password": password}
    if otp_code:
        body["otp_code"] = otp_code
    response = client.post("/api/v2/identity/sessions", body, format="json")
    assert response.status_code == 200, response.content
    return response.json()["csrf_token"]
