"""Periodic work on the activity log (Celery beat: ``CELERY_BEAT_SCHEDULE`` in settings)."""

from celery import shared_task

from activities.retention import activities_prune
from activities.rollup import metrics_rollup


@shared_task(name="activities.metrics_rollup")
def metrics_rollup_task() -> int:
    """Roll up the complete days not rolled up yet; safe to run at any time, any number."""
    return metrics_rollup()


@shared_task(name="activities.activities_prune")
def activities_prune_task() -> int:
    """Apply ``BARONG_ACTIVITY_RETENTION_DAYS`` (off by default); an hourly run is small."""
    return activities_prune()
