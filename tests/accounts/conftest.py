"""Helpers for the identity API tests: e-mailed tokens, 2FA users, counting hashers."""

import re

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher, PBKDF2PasswordHasher
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import TestCase
from rest_framework.test import APIClient

from accounts.services import user_otp_set
from accounts.services.otp import otp_device_confirm, otp_secret_create
from tests.conftest import BROWSER_UA

TOKEN_RE = {
    "confirmation": re.compile(
        r"confirmation_token=([A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+)"
    ),
    "reset": re.compile(r"reset_token=([A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+)"),
}
STRONG_PASSWORD = "Correct-Horse-Battery-9"
NEW_PASSWORD = "Purple-Lantern-Orbit-42"


def migrate_to(targets: list[tuple[str, str]]):
    """Walk the test database to these migrations; the apps (models) of that state."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


def token_in(message, kind: str) -> str:
    """The token of the link in an e-mail's plain-text body."""
    match = TOKEN_RE[kind].search(message.body)
    assert match, f"no {kind} link in {message.body!r}"
    return match.group(1)


def last_token(mailoutbox, kind: str, to: str | None = None) -> str:
    messages = [m for m in mailoutbox if to is None or m.to == [to]]
    assert messages, f"no e-mail to {to}"
    return token_in(messages[-1], kind)


class CommittingAPIClient(APIClient):
    """Each request ends as it does in production: its on-commit work (e-mails) runs.

    pytest-django wraps a test in one transaction, so without this the callbacks that
    queue e-mails would wait for a commit that never comes.
    """

    def request(self, **kwargs):
        with TestCase.captureOnCommitCallbacks(execute=True):
            return super().request(**kwargs)


@pytest.fixture
def api():
    """A browser-like client whose requests commit their side effects."""
    return CommittingAPIClient(HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR="203.0.113.10")


class FastPBKDF2Hasher(PBKDF2PasswordHasher):
    """PBKDF2 with few iterations: a cheap stand-in for "the current hasher"."""

    iterations = 1000


class CountingHasher(MD5PasswordHasher):
    """MD5 for speed, counting how often a password is hashed or verified."""

    calls: list[str] = []
    verifying = False  # MD5's verify() encodes internally; count that as one verify

    def encode(self, password, salt):
        if not CountingHasher.verifying:
            CountingHasher.calls.append("encode")
        return super().encode(password, salt)

    def verify(self, password, encoded):
        CountingHasher.calls.append("verify")
        CountingHasher.verifying = True
        try:
            return super().verify(password, encoded)
        finally:
            CountingHasher.verifying = False


@pytest.fixture
def counting_hasher(settings):
    settings.PASSWORD_HASHERS = ["tests.accounts.conftest.CountingHasher"]
    CountingHasher.calls = []
    return CountingHasher


@pytest.fixture
def make_otp_user(make_user):
    """A user with 2FA switched on, as otp/enable leaves them."""

    def factory(**kwargs):
        user = make_user(**kwargs)
        otp_secret_create(user=user)
        otp_device_confirm(user=user)
        user_otp_set(user=user, enabled=True)
        user.refresh_from_db()
        return user

    return factory


@pytest.fixture
def tight_limits(settings):
    """Small rate limits so a test can cross them in a few requests."""

    def apply(**rules):
        settings.BARONG_RATE_LIMITS = True
        settings.BARONG_RATE_LIMIT_RULES = {**settings.BARONG_RATE_LIMIT_RULES, **rules}

    return apply
