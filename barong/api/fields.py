"""Output fields with Barong's time formats (UTC ISO 8601; raw records with milliseconds)."""

from datetime import UTC

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


class EntityTime(serializers.DateTimeField):
    """Entity timestamps: UTC, no fractional seconds (``2019-01-28T08:35:29Z``)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(format="%Y-%m-%dT%H:%M:%SZ", default_timezone=None, **kwargs)

    def to_representation(self, value):
        return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class RawTime(serializers.DateTimeField):
    """Raw-record timestamps: UTC with milliseconds (``2019-01-28T08:35:29.000Z``)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        if value is None:
            return None
        value = value.astimezone(UTC)
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


@extend_schema_field({"type": "string"})
class SometimesField(serializers.Field):
    """A string taken from the serializer's context; the serializer drops it when absent.

    Output only. It is declared ``required=False`` rather than read-only because the
    OpenAPI generator lists every read-only field as always present, and this one is
    not: login answers ``csrf_token``, ``users/me`` (same entity) does not.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("source", "*")
        super().__init__(**kwargs)

    def to_representation(self, value):
        return self.context.get(self.field_name)
