"""A test that points the Celery app at a broker of its own leaves nothing pointing there.

A fault test once started a Redis, sent the app's tasks to it, and stopped it; every later
relay wake-up of the same xdist worker still went to that dead port (the app's pools), so
a later test waiting for a worker's e-mail got none. ``tests/brokers.py`` closes the pools
on the way in and out, and ``tests/conftest.py`` fails any test that leaves a leak.
"""

import shutil

import pytest
from django.conf import settings as django_settings
from kombu import Connection

from barong.celery import app
from events.tasks import outbox_relay
from tests.brokers import celery_broker, celery_broker_leaks, celery_pools_close
from tests.events.processes import RedisServer

pytestmark = [
    pytest.mark.skipif(not django_settings.REDIS_URL, reason="needs REDIS_URL (broker)"),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server"),
]


@pytest.fixture
def own_redis(tmp_path):
    with RedisServer(tmp_path / "redis") as server:
        yield server


def _queued(url: str) -> int:
    with Connection(url) as conn:
        client = conn.default_channel.client
        return client.llen(django_settings.CELERY_TASK_DEFAULT_QUEUE)


def test_changing_the_url_alone_leaves_the_pools_on_the_old_broker(own_redis):
    configured = app.conf.broker_url
    celery_pools_close(app)
    try:
        app.conf.broker_url = own_redis.url
        app.conf.task_always_eager = False
        outbox_relay.delay()  # the pools are built for this broker
        app.conf.broker_url = configured  # what the fault tests used to do on the way out

        assert celery_broker_leaks(app, configured) == [f"a pool publishes to {own_redis.url}"]
    finally:
        celery_pools_close(app)
        app.conf.task_always_eager = True


def test_after_a_broker_of_its_own_the_wake_up_reaches_the_configured_one(own_redis, settings):
    with celery_broker(own_redis.url):
        outbox_relay.delay()
        assert _queued(own_redis.url) == 1
    own_redis.stop()

    assert celery_broker_leaks(app, django_settings.CELERY_BROKER_URL) == []
    with celery_broker(django_settings.CELERY_BROKER_URL):
        before = _queued(django_settings.CELERY_BROKER_URL)
        outbox_relay.delay()
        assert _queued(django_settings.CELERY_BROKER_URL) == before + 1
        Connection(django_settings.CELERY_BROKER_URL).default_channel.client.rpop(
            django_settings.CELERY_TASK_DEFAULT_QUEUE
        )
