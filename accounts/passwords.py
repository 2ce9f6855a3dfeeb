"""Password rules as Django password validators: 8 to 128 characters, the operator's
pattern, Django's common-password list and zxcvbn strength.

``AUTH_PASSWORD_VALIDATORS`` lists them in Barong's order of checks, so the API (through
``password_error``), the back-office password forms, ``createsuperuser`` and
``manage.py changepassword`` all apply the same rules. Each refusal's ``code`` is the
Barong error key the API answers with.
"""

import math
import re

from django.conf import settings
from django.contrib.auth.password_validation import (
    CommonPasswordValidator,
    get_default_password_validators,
)
from django.core.exceptions import ValidationError
from zxcvbn import zxcvbn

MIN_LENGTH = 8
MAX_LENGTH = 128
# zxcvbn refuses more than 72 characters (ValueError) and its cost grows quickly with length;
# a longer password is at least as strong as its first 72 characters, so those are scored.
SCORED_LENGTH = 72


def password_entropy(password: str) -> float:
    """log2 of zxcvbn's guess count: the figure ``/password/validate`` answers."""
    if not password:
        return 0.0
    guesses = float(zxcvbn(password[:SCORED_LENGTH])["guesses"])
    return round(math.log2(max(guesses, 1.0)), 4)


class LengthValidator:
    """8 to 128 characters: ``password.too_long`` above, ``password.requirements`` below."""

    def __init__(self, min_length: int = MIN_LENGTH, max_length: int = MAX_LENGTH) -> None:
        self.min_length, self.max_length = min_length, max_length

    def validate(self, password: str, user=None) -> None:
        if len(password) > self.max_length:
            raise ValidationError(
                f"At most {self.max_length} characters (password.too_long).",
                code="password.too_long",
            )
        if len(password) < self.min_length:
            raise ValidationError(
                f"At least {self.min_length} characters (password.requirements).",
                code="password.requirements",
            )

    def get_help_text(self) -> str:
        return f"{self.min_length} to {self.max_length} characters."


class PatternValidator:
    """The operator's ``BARONG_PASSWORD_REGEXP``, when set (``password.requirements``)."""

    def validate(self, password: str, user=None) -> None:
        pattern = settings.BARONG_PASSWORD_REGEXP
        if pattern and not re.search(pattern, password, re.MULTILINE):
            raise ValidationError(
                "The password does not match the required pattern (password.requirements).",
                code="password.requirements",
            )

    def get_help_text(self) -> str:
        pattern = settings.BARONG_PASSWORD_REGEXP
        return f"Matches {pattern}." if pattern else ""


class CommonListValidator(CommonPasswordValidator):
    """Django's list of common passwords, unless ``BARONG_PASSWORD_USE_DICTIONARY`` is off."""

    def validate(self, password: str, user=None) -> None:
        if not settings.BARONG_PASSWORD_USE_DICTIONARY:
            return
        try:
            super().validate(password, user)
        except ValidationError as exc:
            raise ValidationError(
                "Too weak or too common (password.weak).", code="password.weak"
            ) from exc


class EntropyValidator:
    """zxcvbn's entropy of at least ``BARONG_PASSWORD_MIN_ENTROPY`` bits (``password.weak``)."""

    def validate(self, password: str, user=None) -> None:
        if password_entropy(password) < settings.BARONG_PASSWORD_MIN_ENTROPY:
            raise ValidationError("Too weak or too common (password.weak).", code="password.weak")

    def get_help_text(self) -> str:
        return "Hard to guess (not a word, a name or a keyboard pattern)."


def password_error(password: str) -> str | None:
    """The first Barong key that refuses ``password`` (validators in order), or None."""
    for validator in get_default_password_validators():
        try:
            validator.validate(password)
        except ValidationError as exc:
            return exc.code or "password.requirements"
    return None


def password_regexp() -> str:
    """The pattern a browser can apply, for ``/identity/configs``."""
    return settings.BARONG_PASSWORD_REGEXP or f"^.{{{MIN_LENGTH},{MAX_LENGTH}}}$"
