"""barong.redis_wire: the authz reads on a pinned connection (its own redis-server here)."""

import shutil
import uuid

import pytest
from redis import exceptions

from barong.cache import RedisCache
from barong.redis_wire import _Incomplete, pack, parse
from tests.failures.processes import RedisServer, free_port


def test_pack_writes_arrays_of_bulk_strings():
    assert pack("MGET", "a", b"\x00b") == b"*3\r\n$4\r\nMGET\r\n$1\r\na\r\n$2\r\n\x00b\r\n"
    assert pack("SET", "k", 1, "EX", 30) == (
        b"*5\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\n1\r\n$2\r\nEX\r\n$2\r\n30\r\n"
    )


@pytest.mark.parametrize(
    ("reply", "value"),
    [
        (b"*3\r\n$2\r\nab\r\n$-1\r\n_\r\n", [b"ab", None, None]),  # RESP2 and RESP3 nulls
        (b"+OK\r\n", b"OK"),
        (b":-7\r\n", -7),
        (b"#t\r\n", True),
        (b"$4\r\na\r\nb\r\n", b"a\r\nb"),  # a bulk string holds CRLF
        (b"*-1\r\n", None),
    ],
)
def test_parse_reads_the_replies_these_commands_produce(reply, value):
    assert parse(reply, 0) == (value, len(reply))


@pytest.mark.parametrize("reply", [b"", b"*2\r\n$2\r\nab\r\n", b"$4\r\nab", b"+OK"])
def test_a_partial_reply_asks_for_more(reply):
    with pytest.raises(_Incomplete):
        parse(reply, 0)


def test_an_unknown_reply_type_is_refused():
    with pytest.raises(exceptions.InvalidResponse):
        parse(b"!3\r\nbad\r\n", 0)


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
