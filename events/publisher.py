"""Publishing to the Event API's RabbitMQ exchanges with kombu (publisher confirms on).

Exchanges are declared as Barong's consumers declare them (direct, not durable), or the
broker would refuse the second declaration; messages are persistent.
"""

import contextlib
import json
from typing import Any

from django.conf import settings
from kombu import Connection, Exchange, Producer


class EventPublisher:
    """One broker connection for a relay pass; ``publish`` returns once the broker confirmed."""

    def __init__(self, url: str | None = None) -> None:
        self.url = url or settings.BARONG_EVENT_API_URL
        self._connection: Connection | None = None
        self._producer: Producer | None = None
        self._exchanges: dict[str, Exchange] = {}

    def _producer_get(self) -> Producer:
        if self._producer is None:
            self._connection = Connection(
                self.url,
                connect_timeout=settings.BARONG_EVENT_API_CONNECT_TIMEOUT,
                transport_options={"confirm_publish": True},
            )
            self._connection.ensure_connection(max_retries=1)
            self._producer = Producer(self._connection.channel())
        return self._producer

    def publish(self, *, category: str, routing_key: str, body: dict[str, Any]) -> None:
        """Send one signed event; raises on any broker failure (the relay retries)."""
        name = f"barong.events.{category}"
        exchange = self._exchanges.get(name)
        if exchange is None:
            exchange = self._exchanges[name] = Exchange(name, type="direct", durable=False)
        self._producer_get().publish(
            json.dumps(body, separators=(",", ":")),
            exchange=exchange,
            routing_key=routing_key,
            declare=[exchange],
            delivery_mode=2,  # persistent
            content_type="application/json",
            content_encoding="utf-8",
            retry=False,
        )

    def close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):  # a broken connection is closing anyway
                self._connection.release()
        self._connection = self._producer = None
