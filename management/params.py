"""The management API's parameter rules and error bodies, as Barong's Grape API words them.

Parameter errors are one string, every failure in declaration order:
``{"error": "email is missing, email is empty, password is missing, password is empty"}``.
Model errors are Rails' full messages: ``{"error": ["Email is invalid", "Password weak"]}``.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from rest_framework.exceptions import APIException

from barong.api.params import date_parse

MISSING = object()
TRUE = {"true", "1", "t", "yes", "y", "on"}
FALSE = {"false", "0", "f", "no", "n", "off"}
INTEGER_RE = re.compile(r"\A[+-]?\d{1,18}\Z")
MAX_STRING = 65536


class ManagementError(APIException):
    """An answer ``{"error": message}`` with ``status_code``; message is text or a list."""

    def __init__(self, message: str | list[str], status_code: int = 422) -> None:
        super().__init__(detail="management error")
        self.message = message
        self.status_code = status_code


@dataclass(frozen=True)
class Param:
    """One declared parameter: Grape's ``requires``/``optional`` with type and rules."""

    name: str
    # string | boolean | integer | date | hash | raw. A raw parameter is passed on as sent,
    # unless absent, presence included: the operation's service checks it and answers with
    # its own error keys (an amount must stay a decimal string, never a coerced number).
    type: str = "string"
    required: bool = False
    allow_blank: bool = True
    default: Any = MISSING
    values: Any = None  # a collection, or a callable answering True for a good value
    type_message: str | None = None
    values_message: str | None = None


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, dict | list):
        return not value
    return False


def _coerce(param: Param, value: Any) -> Any:
    """The value in the declared type; ValueError when it cannot be one."""
    if value is None:
        return None
    if param.type == "string":
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float | str):
            text = str(value)
            if len(text) > MAX_STRING or "\x00" in text:
                raise ValueError("too long, or a NUL no database column can hold")
            try:
                text.encode("utf-8")
            except UnicodeEncodeError as exc:  # a lone surrogate from a JSON escape
                raise ValueError("not UTF-8") from exc
            return text
        raise ValueError("not a scalar")
    if param.type == "boolean":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower() if isinstance(value, int | str) else None
        if text in TRUE:
            return True
        if text in FALSE:
            return False
        raise ValueError("not a boolean")
    if param.type == "integer":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and INTEGER_RE.match(value.strip()):
            return int(value.strip())
        raise ValueError("not an integer")
    if param.type == "date":
        parsed = date_parse(value) if isinstance(value, str) else None
        if parsed is not None:
            return parsed
        raise ValueError("not a date")
    if param.type == "hash":
        if isinstance(value, dict):
            return value
        raise ValueError("not a hash")
    raise ValueError(f"unknown type {param.type}")


def _allowed(param: Param, value: Any) -> bool:
    if param.values is None or value is None:
        return True
    if callable(param.values):
        return bool(param.values(value))
    return value in param.values


def params_parse(
    raw: dict[str, Any], spec: Iterable[Param], exactly_one_of: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Declared parameters only (defaults filled in), or ManagementError 422 naming each fault."""
    messages: list[str] = []
    values: dict[str, Any] = {}
    for param in spec:
        present = param.name in raw
        value = raw.get(param.name)
        if param.type == "raw":
            if present:
                values[param.name] = value
            continue
        if param.required and not present:
            messages.append(f"{param.name} is missing")
        if present:
            try:
                value = _coerce(param, value)
            except ValueError:
                messages.append(f"{param.name} {param.type_message or 'is invalid'}")
                continue
        if not param.allow_blank and (param.required or present) and _blank(value):
            messages.append(f"{param.name} is empty")
            continue
        if present and not _allowed(param, value):
            messages.append(f"{param.name} {param.values_message or 'does not have a valid value'}")
            continue
        if present and value is not None:
            values[param.name] = value
        elif param.default is not MISSING:
            values[param.name] = param.default
    if exactly_one_of:
        given = [name for name in exactly_one_of if name in raw]
        if not given:
            messages.append(
                f"{', '.join(exactly_one_of)} are missing, exactly one parameter must be provided"
            )
        elif len(given) > 1:
            messages.append(f"{', '.join(given)} are mutually exclusive")
    if messages:
        unique = list(dict.fromkeys(messages))
        raise ManagementError(", ".join(unique), 422)
    return values


PAGINATION = (
    Param(
        "page",
        type="integer",
        default=1,
        values=lambda p: p > 0,
        type_message="non_integer_page",
        values_message="non_positive_page",
    ),
    Param(
        "limit",
        type="integer",
        default=100,
        values=range(1, 101),
        type_message="non_integer_limit",
        values_message="invalid_limit",
    ),
)
USER_UID = Param("user_uid", required=True, allow_blank=False)
MAX_UNIX_TIME = 253402300799  # 9999-12-31T23:59:59Z
TIME_PERIOD = (
    Param("from", type="integer", values=lambda v: 0 <= v <= MAX_UNIX_TIME),
    Param("to", type="integer", values=lambda v: 0 <= v <= MAX_UNIX_TIME),
)
RANGES = ("created", "updated")
EXTENDED = Param(
    "extended", type="boolean", default=False, type_message="Non boolean extended value"
)


# Rails' default wording for the model error codes our services raise as ``attribute.code``.
RAILS_MESSAGES = {
    "blank": "can't be blank",
    "taken": "has already been taken",
    "invalid": "is invalid",
    "too_short": "is too short",
    "too_long": "is too long",
    "inclusion": "is not included in the list",
    "exclusion": "is reserved",
    "invalid_format": "has invalid format",
    "doesnt_exist": "doesnt exist",
}
MODEL_KEY_RE = re.compile(r"\A([a-z_]+)\.(.+)\Z")


def full_message(key: str) -> str:
    """``email.invalid`` → ``Email is invalid``; ``password.weak`` → ``Password weak``."""
    match = MODEL_KEY_RE.match(key)
    if match is None:
        return key
    attribute, code = match.groups()
    human = attribute.replace("_", " ").capitalize()
    return f"{human} {RAILS_MESSAGES.get(code, code.replace('_', ' '))}"


NOT_MODEL_PREFIXES = ("identity", "resource", "admin", "management", "record", "server", "jwt")


def model_key(key: str) -> bool:
    """An ``attribute.code`` key (no module prefix), as model validations raise them."""
    return (
        key.count(".") == 1
        and MODEL_KEY_RE.match(key) is not None
        and key.split(".")[0] not in NOT_MODEL_PREFIXES
    )


def to_sentence(messages: list[str]) -> str:
    """Rails' ``Array#to_sentence``: ``a``, ``a and b``, ``a, b, and c``."""
    if len(messages) <= 1:
        return "".join(messages)
    if len(messages) == 2:
        return f"{messages[0]} and {messages[1]}"
    return f"{', '.join(messages[:-1])}, and {messages[-1]}"
