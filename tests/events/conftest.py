"""Helpers for the event tests: the outbox rows an operation wrote, by name."""

import pytest

from events.models import OutboxEvent


def events(name: str | None = None, after: int = 0) -> list[dict]:
    """Payloads of the outbox rows (of ``name``) recorded after row id ``after``, in order."""
    rows = OutboxEvent.objects.filter(pk__gt=after).order_by("id")
    return [row.payload for row in rows if name is None or row.name == name]


def names(after: int = 0) -> list[str]:
    return [row.name for row in OutboxEvent.objects.filter(pk__gt=after).order_by("id")]


def last_id() -> int:
    row = OutboxEvent.objects.order_by("-id").first()
    return row.pk if row else 0


@pytest.fixture
def mark():
    """The outbox position now: only later events are looked at."""
    return last_id
