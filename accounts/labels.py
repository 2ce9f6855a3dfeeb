"""What a label key or value looks like: Barong squishes and lower-cases, then validates."""

import re

from accounts.models import LABEL_RE


def label_squish(text: str) -> str:
    """Runs of whitespace become one space; none at either end."""
    return re.sub(r"\s+", " ", text).strip()


def label_normalize(text: object) -> str:
    """Barong lower-cases and squishes label keys and values before validating them."""
    return label_squish(str(text)).lower()


def label_key_valid(key: str) -> bool:
    """A normalised key a label can take (the model's rules: 3-255 of ``a-z 0-9 _ -``)."""
    return bool(LABEL_RE.regex.match(key)) and 3 <= len(key) <= 255
