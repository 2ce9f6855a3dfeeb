"""One login policy for every door: the API login, the passkey login and the back-office.

Each door calls ``login_attempt`` before it checks a password (one attempt counted per
client address, ``login_ip``; the failure budgets of the account read), then
``login_failed`` when the password (or, in a held passkey flow, the assertion) was wrong,
or ``login_reset_ops``/``login_succeeded`` once the login is complete. The account is a
sha256 of the normalised e-mail, the same subject at every door and for unknown e-mails,
so guesses at one door count at the others and the counters tell nothing about which
accounts exist. Numbers and reasoning: docs/operations.md, "Login limits".
"""

import hashlib
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from accounts.captcha import captcha_verify
from accounts.services.users import email_normalize
from barong.api.net import remote_ip
from barong.cache import batch
from barong.ratelimit import rate_limit_reset_ops, rate_limits_count, rate_limits_hit

TOO_MANY = "identity.session.too_many_requests"


def login_account(email: str) -> str:
    """The rate-limit subject of an e-mail: bounded, the same for any spelling of it."""
    return hashlib.sha256(email_normalize(email).encode()).hexdigest()


@dataclass(frozen=True)
class LoginAttempt:
    """Who is trying: the client's address and the account's subject."""

    ip: str
    account: str

    @property
    def failure_limits(self) -> list[tuple[str, str]]:
        """Failures count per (account, address) and, looser, per account: guessing from
        one address locks out only that address (docs/operations.md)."""
        return [("login_account_ip", f"{self.account}:{self.ip}"), ("login_account", self.account)]


def login_attempt(
    *,
    request: HttpRequest,
    email: str | None = None,
    account: str | None = None,
    captcha_response: Any = None,
    captcha: bool = True,
) -> LoginAttempt:
    """Count an attempt from this address and refuse (429) one over any budget.

    The account is named by ``email`` or, when a door already knows it (a passkey flow),
    by its subject ``account``; with neither only the address is counted. ``captcha``:
    the API doors check the ``session_create`` captcha here, after the limits; the
    back-office has no captcha widget. One cache round trip for the limits.
    """
    subject = login_account(email) if email is not None else account
    attempt = LoginAttempt(ip=remote_ip(request), account=subject or "")
    checks = attempt.failure_limits if subject else []
    rate_limits_hit([("login_ip", attempt.ip)], checks=checks, error_key=TOO_MANY)
    if captcha:
        captcha_verify(endpoint="session_create", response=captcha_response)
    return attempt


def login_failed(attempt: LoginAttempt) -> None:
    """A wrong password (or a failed assertion in a held flow): counted against the account."""
    if attempt.account:
        rate_limits_count(attempt.failure_limits)


def login_reset_ops(attempt: LoginAttempt) -> list[tuple]:
    """The cache operations that forget the account's failures, to ride with the session."""
    limits = attempt.failure_limits
    return [op for name, subject in limits for op in rate_limit_reset_ops(name, subject)]


def login_succeeded(attempt: LoginAttempt) -> None:
    """A completed login where the session is written elsewhere (the back-office)."""
    if ops := login_reset_ops(attempt):
        batch(ops)
