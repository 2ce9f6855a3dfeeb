"""The periodic erasure (``CELERY_BEAT_SCHEDULE["privacy-erase-deleted-users"]``)."""

import logging

from celery import shared_task

from privacy.erasure import users_erase_due

logger = logging.getLogger(__name__)


@shared_task
def users_erase_due_task() -> int:
    """Erase the personal data of users deleted longer ago than the erasure delay."""
    erased = users_erase_due()
    if erased:
        logger.info("personal data erased for %s deleted user(s)", erased)
    return erased
