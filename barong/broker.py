"""kombu's Redis transports with one fix: a broker outage no longer ends a Celery worker.

What happened (kombu 5.7, seen as a worker dying in one of three 16-second Redis outages):
a worker's channel holds a task it has not acknowledged yet (``acks_late``: the task is
running, or its acknowledgement just failed) and Celery's remote-control queue, a fanout
queue deleted when the channel closes. Redis goes away. Celery's consumer then

1. calls the connection's ``collect()``: closing the channel fails part-way (deleting the
   fanout queue, reading a pending ``BRPOP``: Redis is down), so the channel stays open,
   and the transport is detached from its connection (``transport.client = None``);
2. calls its ``close()``, ignoring connection errors: the channel closes for real,
   cancels its consumers (unsubscribing from the fanout queue) and puts its
   unacknowledged messages back. Each needs a new Redis client, built from
   ``transport.client`` — now ``None`` — so it raises ``AttributeError``. That is no
   connection error: it passes every handler, and the worker stops with "Unrecoverable
   error" (exit code 1). Nothing restarts it.

The fix: a channel whose transport is already detached opens no new Redis connection; it
raises a connection error, which both steps expect and ignore. Nothing is lost: the
unacknowledged messages are still in Redis's ``unacked`` index, and a worker puts them
back after the visibility timeout (``CELERY_VISIBILITY_TIMEOUT``); the outbox queues a lost
e-mail task again even sooner (docs/operations.md, "Workers that die").

``install()`` registers these classes under kombu's own transport names (``redis``,
``rediss``, ``sentinel``), so the broker URLs stay as they are. tests/events/test_broker.py
shows the stock transport dying on the sequence above and this one surviving it.
"""

from kombu import transport as kombu_transport
from kombu.transport import redis as kombu_redis


def _detached(channel) -> bool:
    return channel.connection is None or channel.connection.client is None


class QoS(kombu_redis.QoS):
    def restore_unacked(self, client=None):
        """Nothing to do once the connection is torn down: the messages wait in Redis."""
        if client is None and _detached(self.channel):
            return None
        return super().restore_unacked(client)


class _Detached:
    """A channel of a torn-down connection opens no new Redis connection."""

    QoS = QoS

    def _connparams(self, asynchronous=False):
        if _detached(self):
            raise kombu_redis.get_redis_ConnectionError()("broker connection closed")
        return super()._connparams(asynchronous=asynchronous)


class Channel(_Detached, kombu_redis.Channel):
    pass


class Transport(kombu_redis.Transport):
    Channel = Channel


class SentinelChannel(_Detached, kombu_redis.SentinelChannel):
    pass


class SentinelTransport(kombu_redis.SentinelTransport):
    Channel = SentinelChannel


ALIASES = {
    "redis": f"{__name__}:Transport",
    "rediss": f"{__name__}:Transport",  # the same class; kombu turns TLS on by the name
    "sentinel": f"{__name__}:SentinelTransport",
}


def install() -> None:
    """Every kombu connection of this process to Redis uses the classes above."""
    kombu_transport.TRANSPORT_ALIASES.update(ALIASES)
    cache = getattr(kombu_transport, "_transport_cache", {})
    for name in ALIASES:
        cache.pop(name, None)  # a class resolved before install() is not reused
