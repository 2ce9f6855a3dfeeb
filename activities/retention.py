"""Activity retention: ``BARONG_ACTIVITY_RETENTION_DAYS`` (0, the default, keeps every row).

Barong keeps the activity log for ever; at tens of millions of rows an exchange may prefer
a bounded log (or must keep one for exactly its record-keeping period). Rows older than
the period go in small batches, oldest first, each batch its own short transaction: a
batch reads its ids from the ``(created_at, id)`` index and deletes them by primary key,
so no statement holds locks for long and logins writing new rows never wait on it.

The daily metrics (/admin/metrics) must not change when their rows go: the roll-up runs
first, and nothing newer than its watermark (the last rolled-up day) is deleted, so whole
days keep their counts from ``daily_metrics`` (activities/rollup.py).
"""

import time
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from activities.models import Activity
from activities.rollup import ONE_DAY, metrics_rollup, rollup_watermark


def retention_cutoff(*, days: int, now: datetime | None = None) -> datetime | None:
    """The moment before which rows may go: ``days`` ago, never past the roll-up's
    watermark (a day not rolled up yet keeps its rows). None when nothing may go."""
    now = now or timezone.now()
    watermark = rollup_watermark()
    if watermark is None:
        return None
    rolled_until = datetime.combine(watermark + ONE_DAY, datetime.min.time(), tzinfo=UTC)
    return min(now - timedelta(days=days), rolled_until)


def activities_prune(
    *,
    days: int | None = None,
    batch: int | None = None,
    pause: float | None = None,
    now: datetime | None = None,
) -> int:
    """Delete activity rows older than ``days`` in batches; returns how many went.

    ``pause`` (seconds between batches) leaves the database to the traffic on a busy day;
    a run interrupted part way leaves whole batches done and the next run goes on.
    """
    days = settings.BARONG_ACTIVITY_RETENTION_DAYS if days is None else days
    if days <= 0:
        return 0
    batch = batch or settings.BARONG_ACTIVITY_RETENTION_BATCH
    pause = settings.BARONG_ACTIVITY_RETENTION_PAUSE_MS / 1000 if pause is None else pause
    metrics_rollup()
    cutoff = retention_cutoff(days=days, now=now)
    if cutoff is None:
        return 0
    deleted = 0
    after: tuple[datetime, int] | None = None
    while True:
        rows = Activity.objects.filter(created_at__lt=cutoff)
        if after is not None:
            # From where the last batch ended: the index entries of the rows already gone
            # stay until vacuum, and a scan from the start would step over all of them
            # again (each batch slower than the last: 11k rows/s over a million rows).
            rows = rows.filter(created_at__gte=after[0]).exclude(
                created_at=after[0], id__lte=after[1]
            )
        with transaction.atomic():
            found = list(rows.order_by("created_at", "id").values_list("created_at", "id")[:batch])
            if found:
                ids = [pk for _, pk in found]
                deleted += Activity.objects.filter(id__in=ids).delete()[0]
        if len(found) < batch:
            return deleted
        after = found[-1]
        if pause:
            time.sleep(pause)
