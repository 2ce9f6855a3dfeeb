"""Celery tasks of the outbox: the relay (kicked on commit and swept by beat), e-mails, pruning."""

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def outbox_relay() -> int:
    """One relay pass over the due outbox rows (the wake-up mark cleared first, see
    ``events.services._relay_kick``); a full batch wakes the relay again for the rest."""
    from django.conf import settings

    from events.relay import outbox_relay_pass
    from events.services import _relay_kick, relay_kick_clear

    relay_kick_clear()
    delivered = outbox_relay_pass()
    if delivered >= settings.BARONG_OUTBOX_BATCH:
        _relay_kick()
    return delivered


@shared_task(ignore_result=True)
def event_email_send(event_id: int) -> bool:
    """Send the e-mail of one event; a repeat of this task sends nothing twice."""
    from events.mailer import event_email_deliver
    from events.models import OutboxEvent

    try:
        return event_email_deliver(event_id=event_id)
    except Exception as exc:  # the relay queues the task again after its backoff
        OutboxEvent.objects.filter(pk=event_id).update(last_error=f"e-mail failed: {exc!r}"[:1000])
        raise


@shared_task(ignore_result=True)
def outbox_prune() -> int:
    """Forget delivered outbox rows past their retention."""
    from events.relay import outbox_prune as prune

    deleted = prune()
    logger.info("outbox: %s delivered rows pruned", deleted)
    return deleted
