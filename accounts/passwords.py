"""Password rules: 8 to 128 characters, zxcvbn strength, Django's common list."""

import math
import re
from functools import lru_cache

from django.conf import settings
from django.contrib.auth.password_validation import CommonPasswordValidator
from django.core.exceptions import ValidationError
from zxcvbn import zxcvbn

MIN_LENGTH = 8
MAX_LENGTH = 128
# zxcvbn refuses more than 72 characters (ValueError) and its cost grows quickly with length;
# a longer password is at least as strong as its first 72 characters, so those are scored.
SCORED_LENGTH = 72


@lru_cache(maxsize=1)
def _common() -> CommonPasswordValidator:
    return CommonPasswordValidator()


def password_entropy(password: str) -> float:
    """log2 of zxcvbn's guess count: the figure ``/password/validate`` answers."""
    if not password:
        return 0.0
    guesses = float(zxcvbn(password[:SCORED_LENGTH])["guesses"])
    return round(math.log2(max(guesses, 1.0)), 4)


def _is_common(password: str) -> bool:
    try:
        _common().validate(password)
    except ValidationError:
        return True
    return False


def password_error(password: str) -> str | None:
    """The one Barong key that refuses ``password``, or None when it is acceptable."""
    if len(password) > MAX_LENGTH:
        return "password.too_long"
    if len(password) < MIN_LENGTH:
        return "password.requirements"
    if settings.BARONG_PASSWORD_REGEXP and not re.search(
        settings.BARONG_PASSWORD_REGEXP, password, re.MULTILINE
    ):
        return "password.requirements"
    if settings.BARONG_PASSWORD_USE_DICTIONARY and _is_common(password):
        return "password.weak"
    if password_entropy(password) < settings.BARONG_PASSWORD_MIN_ENTROPY:
        return "password.weak"
    return None


def password_regexp() -> str:
    """The pattern a browser can apply, for ``/identity/configs``."""
    return settings.BARONG_PASSWORD_REGEXP or f"^.{{{MIN_LENGTH},{MAX_LENGTH}}}$"
