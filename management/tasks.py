"""The periodic prune of old confirmations (``CELERY_BEAT_SCHEDULE["confirmations-prune"]``)."""

import logging

from celery import shared_task

from management.confirmations import confirmations_prune

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def confirmations_prune_task() -> int:
    """Delete confirmations that expired longer ago than the retention."""
    deleted = confirmations_prune()
    if deleted:
        logger.info("%s old confirmation(s) deleted", deleted)
    return deleted
