"""The relay: delivers outbox rows at least once, in order per aggregate, with backoff.

A pass locks a batch of due rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so relays
on several workers share the work), publishes each to the Event API and hands its
e-mail to ``event_email_send``. A row whose publish failed waits with exponential
backoff, and so do later rows of the same aggregate, so consumers see one user's
events in order. An e-mail task that got lost (dead worker, broker outage) is queued
again after the backoff; the task is idempotent, so repeats send nothing twice.
"""

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from events.jws import event_sign
from events.mailer import event_email_send
from events.models import OutboxEvent
from events.publisher import EventPublisher

logger = logging.getLogger(__name__)

ERROR_LENGTH = 1000


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff from ``BARONG_OUTBOX_RETRY_BASE`` up to ``BARONG_OUTBOX_RETRY_MAX``."""
    base = settings.BARONG_OUTBOX_RETRY_BASE
    seconds = min(base * 2 ** max(attempts - 1, 0), settings.BARONG_OUTBOX_RETRY_MAX)
    return timedelta(seconds=seconds)


def _due_batch(now, limit: int) -> list[OutboxEvent]:
    rows = OutboxEvent.objects.filter(delivered_at__isnull=True, next_attempt_at__lte=now)
    if connection.features.has_select_for_update_skip_locked:
        rows = rows.select_for_update(skip_locked=True)
    return list(rows.order_by("id")[:limit])


def _waiting_aggregates(batch: list[OutboxEvent]) -> dict[str, int]:
    """Per aggregate of the batch, the first unpublished row outside it (locked or waiting)."""
    unpublished = [row for row in batch if not row.publish_done]
    if not unpublished:
        return {}
    mine = {row.pk for row in batch}
    earlier = (
        OutboxEvent.objects.filter(
            aggregate__in={row.aggregate for row in unpublished},
            delivered_at__isnull=True,
            publish=True,
            published_at__isnull=True,
            id__lt=max(row.pk for row in unpublished),
        )
        .exclude(pk__in=mine)
        .values_list("aggregate", "id")
    )
    first: dict[str, int] = {}
    for aggregate, pk in earlier:
        first[aggregate] = min(pk, first.get(aggregate, pk))
    return first


def _fail(row: OutboxEvent, error: str, now) -> None:
    row.last_error = error[:ERROR_LENGTH]
    row.next_attempt_at = now + retry_delay(row.attempts)


def _publish(
    row: OutboxEvent,
    publisher: EventPublisher | None,
    blocked: dict[str, int],
    broker_error: str,
    now,
) -> str:
    """Publish one row unless an earlier event of its user waits; answers the broker error."""
    earlier = blocked.get(row.aggregate)
    if earlier is not None and earlier < row.pk:
        # Not an attempt of its own: it goes as soon as the earlier one went.
        row.last_error = f"waiting for event #{earlier} of {row.aggregate}"
        row.next_attempt_at = now + retry_delay(1)
        return broker_error
    if publisher is None:  # the Event API was switched off since the event was recorded
        row.publish = False
        row.last_error = "not published: BARONG_EVENT_API_URL is not set"
        return broker_error
    row.attempts += 1
    if broker_error:  # the broker failed a moment ago: this pass tries no further
        _fail(row, broker_error, now)
        return broker_error
    try:
        body = event_sign(jti=str(row.jti), event=row.payload)
        publisher.publish(category=row.category, routing_key=row.routing_key, body=body)
    except Exception as exc:  # any broker failure; the row is retried after its backoff
        logger.warning("event %s not published: %r", row.jti, exc)
        publisher.close()
        _fail(row, f"publish failed: {exc!r}", now)
        return row.last_error
    row.published_at = timezone.now()
    row.last_error = ""
    return broker_error


def outbox_relay_pass(*, limit: int | None = None) -> int:
    """One pass over due rows; answers how many rows it delivered completely."""
    limit = limit or settings.BARONG_OUTBOX_BATCH
    now = timezone.now()
    delivered = 0
    publisher = EventPublisher() if settings.BARONG_EVENT_API_URL else None
    broker_error = ""
    try:
        with transaction.atomic():
            batch = _due_batch(now, limit)
            blocked = _waiting_aggregates(batch)
            for row in batch:
                attempts = row.attempts
                if not row.publish_done:
                    broker_error = _publish(row, publisher, blocked, broker_error, now)
                    if not row.publish_done:
                        blocked.setdefault(row.aggregate, row.pk)
                if not row.mail_done:
                    row.attempts = max(row.attempts, attempts + 1)  # one attempt per pass
                    pk = row.pk
                    transaction.on_commit(lambda pk=pk: event_email_send.delay(pk), robust=True)
                    row.next_attempt_at = max(row.next_attempt_at, now + retry_delay(row.attempts))
                if row.publish_done and row.mail_done:
                    row.settle(timezone.now())
                    delivered += 1
                row.save(
                    update_fields=[
                        "publish",
                        "attempts",
                        "published_at",
                        "delivered_at",
                        "payload",
                        "next_attempt_at",
                        "last_error",
                    ]
                )
    finally:
        if publisher is not None:
            publisher.close()
    return delivered


# Set while a relay wake-up is queued and its pass has not started (docs/operations.md).
RELAY_KICK_KEY = "outbox:relay-kick"


def relay_kick() -> None:
    """Wake the relay after a commit, unless a wake-up is already queued: a pass that has
    not started yet reads this row too, since ``outbox_relay`` clears the mark before it
    reads. The mark expires after the sweep interval, and the periodic sweep delivers
    whatever a lost wake-up left; the row is the truth, the wake-up only a hint."""
    try:
        queued = not cache.add(
            RELAY_KICK_KEY, 1, timeout=max(settings.BARONG_OUTBOX_SWEEP_INTERVAL, 1)
        )
    except Exception:  # no cache: wake the relay every time, as without the mark
        logger.warning("outbox: relay wake-up mark unavailable", exc_info=True)
        queued = False
    if queued:
        return
    try:
        outbox_relay.delay()
    except Exception:
        relay_kick_clear()  # the next commit tries again rather than trusting this one
        raise


def relay_kick_clear() -> None:
    """A relay pass is starting: rows committed from now on need a wake-up of their own."""
    try:
        cache.delete(RELAY_KICK_KEY)
    except Exception:  # the mark expires by itself; the sweep covers the gap
        logger.warning("outbox: relay wake-up mark not cleared", exc_info=True)


# The task keeps the name it had when it lived in events.tasks: wake-ups already queued in
# a broker across an upgrade still find it.
@shared_task(ignore_result=True, name="events.tasks.outbox_relay")
def outbox_relay() -> int:
    """One relay pass over the due outbox rows (the wake-up mark cleared first, see
    ``relay_kick``); a full batch wakes the relay again for the rest."""
    relay_kick_clear()
    delivered = outbox_relay_pass()
    if delivered >= settings.BARONG_OUTBOX_BATCH:
        relay_kick()
    return delivered


def outbox_prune(*, days: int | None = None) -> int:
    """Forget delivered rows older than ``days`` (``BARONG_OUTBOX_RETENTION_DAYS``)."""
    keep = settings.BARONG_OUTBOX_RETENTION_DAYS if days is None else days
    cutoff = timezone.now() - timedelta(days=keep)
    deleted, _ = OutboxEvent.objects.filter(delivered_at__lt=cutoff).delete()
    return deleted


def outbox_backlog() -> dict[str, object]:
    """What an operator watches: undelivered rows, the oldest one's age, the latest error."""
    pending = OutboxEvent.objects.filter(delivered_at__isnull=True)
    oldest = pending.order_by("id").first()
    failing = pending.exclude(last_error="").order_by("-id").first()
    now = timezone.now()
    return {
        "pending": pending.count(),
        "unpublished": pending.filter(publish=True, published_at__isnull=True).count(),
        "unmailed": pending.filter(mail=True, mailed_at__isnull=True).count(),
        "oldest_age_seconds": int((now - oldest.created_at).total_seconds()) if oldest else 0,
        "last_error": failing.last_error if failing else "",
    }
