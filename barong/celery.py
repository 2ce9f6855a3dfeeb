"""The Celery app: e-mails and events leave through tasks (eager in development)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "barong.settings")

app = Celery("barong")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
