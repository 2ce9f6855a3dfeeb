"""Barong's parameter handling: query, form and JSON merged, validated in declaration order."""

import re
from datetime import date, datetime
from typing import Any

from django.http import QueryDict
from rest_framework import serializers
from rest_framework.request import Request

from barong.api.errors import ApiError, serializer_error_keys


def request_params(request: Request) -> dict[str, Any]:
    """Query string, then the body (form or JSON object) on top, as one flat dict, as in Barong."""
    merged: dict[str, Any] = {}
    for key in request.query_params:
        merged[key] = request.query_params.get(key)
    data = request.data
    if isinstance(data, QueryDict):
        for key in data:
            merged[key] = data.get(key)
    elif isinstance(data, dict):
        merged.update(data)
    return merged


def validate_params(
    serializer_class: type[serializers.Serializer],
    data: dict[str, Any],
    prefix: str,
    context: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Validate with an ``<Entity><Verb>Input`` serializer; failures are 422 with Barong keys."""
    serializer = serializer_class(data=data, context=context or {})
    if not serializer.is_valid():
        raise ApiError(serializer_error_keys(prefix, serializer.errors, serializer), 422)
    return dict(serializer.validated_data)


class Str(serializers.CharField):
    """Barong ``String``: any scalar becomes a string, whitespace kept as sent."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("trim_whitespace", False)
        kwargs.setdefault("max_length", 65536)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        if isinstance(data, bool):
            data = "true" if data else "false"
        return super().to_internal_value(data)


class Bool(serializers.BooleanField):
    """Barong ``Boolean``: true/false/1/0/t/f/yes/no/y/n/on/off in any case, or JSON booleans."""

    TRUE = {"true", "1", "t", "yes", "y", "on"}
    FALSE = {"false", "0", "f", "no", "n", "off"}

    def to_internal_value(self, data: Any) -> bool:
        if isinstance(data, bool):
            return data
        if isinstance(data, int | str):
            value = str(data).strip().lower()
            if value in self.TRUE:
                return True
            if value in self.FALSE:
                return False
        self.fail("invalid", input=data)
        return False


class Int(serializers.IntegerField):
    """Barong ``Integer``: digits (optionally signed), never a float or a boolean."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool | float):
            self.fail("invalid")
        if isinstance(data, str) and len(data) > 20:
            self.fail("invalid")
        return super().to_internal_value(data)


class BareInvalidInt(Int):
    """Barong's ``Integer`` without a custom message: any failure is the bare key ``invalid``."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault(
            "error_messages",
            {
                code: "invalid"
                for code in ("invalid", "max_value", "min_value", "max_string_length", "null")
            },
        )
        super().__init__(**kwargs)


# Barong read ``Date`` parameters with Ruby's ``Date.parse``: besides ISO dates it takes the
# day first (``09/12/1990``, what OpenDAX's date inputs write; also with ``.`` or ``-``)
# and the year first with ``/``. Two-digit years and month names are not taken here.
DAY_FIRST_RE = re.compile(r"\A(\d{1,2})([./-])(\d{1,2})\2(\d{4})\Z", re.ASCII)
YEAR_FIRST_RE = re.compile(r"\A(\d{4})/(\d{1,2})/(\d{1,2})\Z", re.ASCII)


def date_parse(text: str) -> date | None:
    """A date as Barong's ``Date`` parameters took it, or None when it is none."""
    text = text.strip()
    if len(text) > 40 or not text.isascii():
        return None
    for parse in (date.fromisoformat, lambda value: datetime.fromisoformat(value).date()):
        try:
            return parse(text)
        except ValueError:
            continue
    if match := DAY_FIRST_RE.match(text):
        day, _, month, year = match.groups()
    elif match := YEAR_FIRST_RE.match(text):
        year, month, day = match.groups()
    else:
        return None
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None
