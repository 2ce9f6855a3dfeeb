"""A Redis outage at the wrong moment no longer ends a Celery worker (barong/broker.py).

The worker's side of the outage, step by step on a real Redis that is really stopped: a
channel with a task received and not yet acknowledged, the remote-control fanout queue
and a pending BRPOP; Redis goes away; the consumer collects and then closes its
connection, as Celery's does on a connection error. kombu's own transport raises
``AttributeError`` there, which ended the worker; ours raises nothing, and the message
is still in Redis afterwards.
"""

import shutil

import pytest
from kombu import Connection, Exchange, Queue
from kombu.common import ignore_errors

from barong import broker
from tests.events.processes import RedisServer

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")

STOCK = "kombu.transport.redis:Transport"
TASKS = Queue("tasks", Exchange("tasks"), "tasks")
CONTROL = Queue("control", Exchange("control", type="fanout"), auto_delete=True)


@pytest.fixture
def redis_server(tmp_path):
    with RedisServer(tmp_path / "redis") as server:
        yield server


def outage_while_holding_a_task(url: str, redis_server, transport: str | None = None):
    """What the consumer sees; answers the exception its connection's close raised."""
    with Connection(url) as producer:
        producer.Producer().publish({"task": 1}, exchange=TASKS.exchange, routing_key="tasks",
                                    declare=[TASKS])  # fmt: skip
    connection = Connection(url, transport=transport)
    channel = connection.default_channel
    assert TASKS(channel).get(no_ack=False) is not None  # received, not acknowledged
    CONTROL(channel).declare()
    channel.basic_consume("tasks", False, lambda *args: None, "tasks")
    channel.basic_consume("control", True, lambda *args: None, "control")
    connection.transport.cycle.add(channel)
    connection.transport.cycle._register_BRPOP(channel)  # the event loop's pending BRPOP

    redis_server.stop()
    connection.collect(socket_timeout=5)  # Celery's consumer on a connection error ...
    try:
        ignore_errors(connection, connection.close)  # ... and then this
    except Exception as exc:
        return exc
    finally:
        # kombu tries once more at the interpreter's exit, after pytest closed its output.
        channel.qos._on_collect.cancel()
    return None


def test_kombus_own_transport_ends_the_worker_here(redis_server):
    raised = outage_while_holding_a_task(redis_server.url, redis_server, transport=STOCK)

    assert isinstance(raised, AttributeError)  # not a connection error: "Unrecoverable error"


def test_ours_survives_and_the_task_waits_in_redis(redis_server):
    assert type(Connection(redis_server.url).transport) is broker.Transport

    raised = outage_while_holding_a_task(redis_server.url, redis_server)

    assert raised is None
    redis_server.start()
    with Connection(redis_server.url) as connection:
        client = connection.default_channel.client
        assert client.hlen("unacked") == 1  # put back after the visibility timeout


def test_every_redis_scheme_is_ours():
    for scheme, transport in (("redis", broker.Transport), ("rediss", broker.Transport),
                              ("sentinel", broker.SentinelTransport)):  # fmt: skip
        assert Connection(f"{scheme}://127.0.0.1:1/0").transport_cls is not None
        from kombu.transport import get_transport_cls

        assert get_transport_cls(scheme) is transport
