"""Fixtures of the failure tests: a Redis of their own, which they may stop and pause."""

import uuid

import pytest

from tests.failures.processes import RedisServer


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
