from django.apps import AppConfig


def rollup_on_worker_start(sender=None, **kwargs) -> None:
    """A starting worker queues the metrics roll-up at once: after an upgrade or a bulk load
    the first one would otherwise wait for the hourly beat (activities/rollup.py)."""
    from activities.tasks import metrics_rollup_task

    metrics_rollup_task.delay()


class ActivitiesConfig(AppConfig):
    name = "activities"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from celery.signals import worker_ready

        worker_ready.connect(rollup_on_worker_start, dispatch_uid="activities.rollup_on_start")
