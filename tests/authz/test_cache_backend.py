"""barong.cache.RedisCache: Django's Redis backend reusing one client per pool (needs Redis)."""

import uuid

import pytest
from django.conf import settings

from barong.cache import RedisCache

pytestmark = pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL (CI)")


@pytest.fixture
def backend():
    cache = RedisCache(settings.REDIS_URL, {"KEY_PREFIX": f"test-{uuid.uuid4().hex}"})
    yield cache
    cache.clear()


def test_behaves_like_djangos_backend(backend):
    assert backend.add("a", {"x": 1}, 30)
    assert not backend.add("a", {"x": 2}, 30)
    backend.set("b", 7, 30)

    assert backend.get("a") == {"x": 1}
    assert backend.get_many(["a", "b", "missing"]) == {"a": {"x": 1}, "b": 7}
    assert backend.incr("b") == 8
    backend.delete("a")
    assert backend.get("a") is None


def test_one_client_is_reused_for_every_operation(backend):
    client = backend._cache.get_client("k")

    backend.set("k", 1, 30)
    backend.get("k")

    assert backend._cache.get_client("other") is client
    assert backend._cache.get_client("k", write=True) is client
