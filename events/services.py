"""Recording events: one outbox row in the caller's transaction, delivered after commit.

Services that own an operation call ``event_record`` (or ``event_record_update``) at the
point where the change is made; nothing else publishes or sends mail. The relay
(``events.relay``) delivers the rows; docs/operations.md describes it.
"""

import logging
from datetime import UTC, date, datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from barong.db.rows import row_insert
from events import relay
from events.bulk import outbox_insert
from events.mailer import MAILS
from events.models import OutboxEvent

logger = logging.getLogger(__name__)

CATEGORIES = ("system", "model")


def event_time(value: datetime | date | None) -> str | None:
    """Barong's timestamps in events: ISO 8601 in UTC, whole seconds (dates as YYYY-MM-DD)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value.isoformat()


def event_compact(record: dict[str, Any]) -> dict[str, Any]:
    """Model events drop null fields at the top level of ``record`` (nested ones stay)."""
    return {key: value for key, value in record.items() if value is not None}


def event_changes(
    *, before: dict[str, Any], after: dict[str, Any], changed: bool = False
) -> dict[str, Any] | None:
    """Previous values of the attributes that changed (``updated_at`` aside); None if none did.

    ``changed`` says a column the record does not show moved (a password, a profile's
    state): the update is reported, with ``changes`` possibly empty, as Barong does. As
    Barong, null fields are dropped first, so an attribute that was null before does not
    appear in ``changes``.
    """
    previous, current = event_compact(before), event_compact(after)
    previous.pop("updated_at", None)
    current.pop("updated_at", None)
    if not changed and previous == current:
        return None
    return {key: value for key, value in previous.items() if current.get(key) != value}


def event_fields(
    *,
    name: str,
    record: dict[str, Any],
    aggregate: str,
    changes: dict[str, Any] | None = None,
    context: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The column values of event ``name``'s outbox row (the rest are the model's defaults).

    The one builder of every write path (``event_record``, the bulk ``event_records_updated``
    whether it copies or inserts), so an event is the same whoever writes it.
    """
    category, _, routing_key = name.partition(".")
    if category not in CATEGORIES or not routing_key:
        raise ValueError(f"not an event name: {name!r}")
    payload: dict[str, Any] = {"record": record}
    if changes is not None:
        payload["changes"] = changes
    payload["name"] = name
    publish = bool(settings.BARONG_EVENT_API_URL)
    mail = name in MAILS and MAILS[name].wanted(record)
    return {
        "category": category,
        "routing_key": routing_key,
        "aggregate": aggregate[:64],
        "payload": payload,
        "context": context or {},
        "publish": publish,
        "mail": mail,
        # nothing to deliver: kept as history only
        "delivered_at": None if publish or mail else timezone.now(),
    }


def event_record(
    *,
    name: str,
    record: dict[str, Any],
    aggregate: str,
    changes: dict[str, Any] | None = None,
    context: dict[str, Any] | None = None,
) -> OutboxEvent:
    """Write event ``name`` to the outbox in the caller's transaction (durable with the change)."""
    event = OutboxEvent(
        **event_fields(
            name=name, record=record, aggregate=aggregate, changes=changes, context=context
        )
    )
    row_insert(event)
    if event.delivered_at is None:
        # robust: a broker outage is logged; the periodic sweep delivers the row later.
        transaction.on_commit(relay.relay_kick, robust=True)
    return event


def event_record_created(*, name: str, record: dict[str, Any], aggregate: str) -> OutboxEvent:
    """``model.<model>.created``: the record without its null fields."""
    return event_record(name=name, record=event_compact(record), aggregate=aggregate)


def event_record_updated(
    *,
    name: str,
    before: dict[str, Any],
    after: dict[str, Any],
    aggregate: str,
    changed: bool = False,
) -> OutboxEvent | None:
    """``model.<model>.updated`` with ``changes``; nothing at all when nothing changed."""
    changes = event_changes(before=before, after=after, changed=changed)
    if changes is None:
        return None
    return event_record(
        name=name, record=event_compact(after), changes=changes, aggregate=aggregate
    )


def event_records_updated(
    *, name: str, items: list[tuple[dict[str, Any], dict[str, Any], str]]
) -> int:
    """``event_record_updated`` for a batch of (before, after, aggregate), in that order: one
    bulk write (a level resync moves thousands of users at once). Returns the rows written."""
    rows = []
    for before, after, aggregate in items:
        changes = event_changes(before=before, after=after, changed=False)
        if changes is not None:
            rows.append(
                event_fields(
                    name=name, record=event_compact(after), changes=changes, aggregate=aggregate
                )
            )
    outbox_insert(rows=rows)
    if any(row["delivered_at"] is None for row in rows):
        transaction.on_commit(relay.relay_kick, robust=True)
    return len(rows)
