"""Fixtures of the failure tests: a Redis of their own, which they may stop and pause."""

import shutil
import uuid

import pytest

from tests.failures.processes import RedisServer

# The failure tests' modules: database access, and a redis-server binary to start.
OWN_REDIS_MARKS = [
    pytest.mark.django_db,
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server"),
]


@pytest.fixture
def on_redis(settings, tmp_path):
    """Cache, sessions and rate limits in our own redis-server, with the production
    timeouts; stopped at the end whatever the test did to it."""
    server = RedisServer(tmp_path)
    server.start()
    settings.CACHES = {
        "default": {
            "BACKEND": "barong.cache.RedisCache",
            "LOCATION": server.url,
            "KEY_PREFIX": f"outage-{uuid.uuid4().hex}",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    yield server
    server.stop()
