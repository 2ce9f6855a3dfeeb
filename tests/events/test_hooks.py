"""A cache that cannot be reached never stops a change, its events or its e-mails."""

import logging

import pytest

from accounts.services import label_set
from events.models import OutboxEvent
from tests.events.test_relay import closed_port_url

pytestmark = pytest.mark.django_db


def test_failing_cache_invalidation_is_logged_and_the_email_still_goes(
    make_user, settings, mailoutbox, caplog, django_capture_on_commit_callbacks
):
    user = make_user()
    dead_redis = closed_port_url().replace("amqp://guest:guest@", "redis://").rstrip("/") + "/0"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": dead_redis,
        }
    }
    caplog.set_level(logging.ERROR)

    with django_capture_on_commit_callbacks(execute=True):
        label_set(user=user, key="phone", value="verified", scope="private")

    assert any("not dropped" in record.getMessage() for record in caplog.records)
    assert [message.subject for message in mailoutbox] == ["Phone verified"]
    event = OutboxEvent.objects.get(routing_key="label.created", payload__record__key="phone")
    assert event.delivered_at is not None
