"""barong.redis_local: the authz reads on a pinned redis-py connection (own redis-server)."""

import shutil
import uuid

import pytest
from redis import exceptions

from barong.cache import RedisCache
from tests.failures.processes import RedisServer, free_port


@pytest.fixture
def server(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.skip("needs redis-server")
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def backend(server):
    options = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
    return RedisCache(server.url, {"KEY_PREFIX": f"wire-{uuid.uuid4().hex}", "OPTIONS": options})


def test_reads_what_djangos_backend_wrote(backend):
    values = {"int": 7, "neg": -3, "dict": {"uid": "ID1"}, "str": "12", "big": "x" * 70000}
    backend.set_many(values, 30)

    assert backend.get_many([*values, "missing"]) == values
    assert backend.get_many([]) == {}


def test_an_error_reply_raises_and_the_connection_stays_in_step(backend):
    backend.set("a", {"x": 1}, 30)

    with pytest.raises(exceptions.ResponseError):
        backend.get_many_and_add(["a"], "claim", 1, 0)  # EX 0: Redis refuses the SET

    assert backend.get_many_and_add(["a"], "claim", 1, 30) == ({"a": {"x": 1}}, True)
    assert backend.get_many_and_add(["a"], "claim", 1, 30) == ({"a": {"x": 1}}, False)


def test_a_stopped_server_is_a_connection_error_until_it_is_back(backend, server):
    backend.set("a", 1, 300)
    assert backend.get_many(["a"]) == {"a": 1}

    server.stop()
    with pytest.raises(exceptions.ConnectionError):
        backend.get_many(["a"])
    server.start()  # SIGTERM saved the data set

    assert backend.get_many(["a"]) == {"a": 1}


def test_a_demoted_server_drops_the_pinned_connection(backend, server):
    """After a failover the old master refuses writes: a Redis outage for this request
    (503), and the next one opens a new connection, which Sentinel points at the new master."""
    import redis

    admin = redis.Redis(port=server.port)
    assert backend.get_many_and_add(["a"], "claim-1", 1, 30) == ({}, True)
    first = backend._wire._local.pinned
    admin.replicaof("127.0.0.1", free_port())  # a master that is not there: read-only now

    with pytest.raises(exceptions.ConnectionError):
        backend.get_many_and_add(["a"], "claim-2", 1, 30)
    admin.replicaof("NO", "ONE")  # what Sentinel's new master is to the new connection

    assert backend.get_many_and_add(["a"], "claim-2", 1, 30) == ({}, True)
    assert backend._wire._local.pinned is not first
