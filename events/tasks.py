"""Celery tasks of the outbox: the relay (kicked on commit and swept by beat), e-mails, pruning.

The relay's and the e-mail's tasks live beside the code they run (``events.relay``,
``events.mailer``) so that nothing below this module imports it; they are named here too,
where Celery's autodiscovery and the beat schedule look for them.
"""

import logging

from celery import shared_task

from events.mailer import event_email_send
from events.relay import outbox_prune as prune
from events.relay import outbox_relay

__all__ = ["event_email_send", "outbox_prune", "outbox_relay"]

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def outbox_prune() -> int:
    """Forget delivered outbox rows past their retention."""
    deleted = prune()
    logger.info("outbox: %s delivered rows pruned", deleted)
    return deleted
