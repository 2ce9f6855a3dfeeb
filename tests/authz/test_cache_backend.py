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
    # Not clear(): that flushes the whole Redis database other test workers share.
    cache.delete_many(["a", "b", "k", "claim"])


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


def test_get_many_and_add_is_one_pipeline_with_add_semantics(backend):
    backend.set("a", {"x": 1}, 30)

    found, added = backend.get_many_and_add(["a", "missing"], "claim", 1, 30)
    again, added_again = backend.get_many_and_add(["a"], "claim", 1, 30)

    assert found == {"a": {"x": 1}}
    assert again == {"a": {"x": 1}}
    assert (added, added_again) == (True, False)
    assert backend.get("claim") == 1


def run_script(run) -> list:
    """Every kind of ``batch`` operation, through ``run`` (one backend's implementation)."""
    return [
        run([("incr", "n", 30), ("incr", "n", 30), ("set", "s", {"x": 1}, 30, "nx")]),
        run([("set", "s", 2, 30, "nx"), ("set", "s", 3, 30, "xx"), ("set", "t", 4, 30, "xx")]),
        run([("push", "l", "a", 2, 30), ("push", "l", "b", 2, 30), ("push", "l", "a", 2, 30)]),
        run([("members", "l"), ("push", "l", "c", 2, 30), ("members", "l")]),
        run([("remove", "l", "a", 30), ("members", "l"), ("delete", "s"), ("members", "x")]),
        run([("count", "n"), ("count", "none"), ("incr", "n", 30), ("count", "n")]),
        run([("swap", "w", "first", 30), ("swap", "w", {"x": 2}, 30), ("swap", "w", 5, 30)]),
    ]


def test_batch_pipeline_answers_as_the_one_by_one_reference(backend):
    from django.core.cache.backends.locmem import LocMemCache

    from barong.cache import batch_each

    reference = LocMemCache(f"batch-{uuid.uuid4().hex}", {})
    expected = run_script(lambda ops: batch_each(reference, ops))
    piped = run_script(backend.batch)

    assert (
        piped
        == expected
        == [
            [1, 2, True],
            [False, True, False],
            [None, None, None],
            [["b", "a"], None, ["a", "c"]],
            [None, ["c"], None, []],
            [2, 0, 3, 3],
            [None, "first", {"x": 2}],
        ]
    )
    assert backend.get("w") == 5
    assert backend.get("s") is None
    assert backend.get("n") == 3
    backend.delete_many(["n", "l", "w"])


@pytest.fixture
def redis_default_cache(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "barong.cache.RedisCache",
            "LOCATION": settings.REDIS_URL,
            "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        }
    }


def test_signed_request_through_the_pipelined_claim(redis_default_cache, api, make_user):
    from http import HTTPStatus

    from accounts.services import user_otp_set
    from apikeys.services import api_key_create
    from tests.authz.conftest import signed_headers

    owner = user_otp_set(user=make_user(), enabled=True)
    key, secret = api_key_create(user=owner)
    headers = signed_headers(key.kid, secret)
    me = "/api/v2/auth/api/v2/barong/resource/users/me"

    first = api.get(me, **headers)
    replay = api.get(me, **headers)
    forged = api.get(me, **{**signed_headers(key.kid, secret), "HTTP_X_AUTH_SIGNATURE": "0" * 64})

    assert first.status_code == HTTPStatus.OK
    assert replay.json() == {"errors": ["authz.signature_blacklisted"]}
    assert forged.json() == {"errors": ["authz.invalid_signature"]}
