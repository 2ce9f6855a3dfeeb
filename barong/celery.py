"""The Celery app: e-mails and events leave through tasks (eager in development)."""

import os
import sys

from celery import Celery
from celery.loaders.app import AppLoader
from django.core.exceptions import ImproperlyConfigured

from barong import broker

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "barong.settings")
# kombu's Redis transports, with the fix that keeps a worker alive through a Redis outage.
broker.install()


class SettingsLoader(AppLoader):
    """Reads Django's settings; a configuration error is one line, not a worker traceback."""

    def config_from_object(self, obj, silent: bool = False):
        try:
            return super().config_from_object(obj, silent=silent)
        except ImproperlyConfigured as exc:
            sys.exit(f"configuration error: {exc}")


app = Celery("barong", loader="barong.celery:SettingsLoader")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
