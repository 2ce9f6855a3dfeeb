"""The transactional outbox: every event, written in the transaction of the change it reports.

See docs/operations.md ("Outbox, relay and Event API") for how rows are delivered and pruned.
"""

import uuid

from django.db import models


class OutboxEvent(models.Model):
    """One event (``system.*`` or ``model.*``) waiting for, or done with, its delivery.

    A row is delivered when both of its sinks are done: the Event API publish (when
    ``BARONG_EVENT_API_URL`` is set) and the e-mail the mailer mapping gives it (if any).
    """

    jti = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    category = models.CharField(max_length=16)  # "system" or "model": the exchange
    routing_key = models.CharField(max_length=255)  # the name without its category
    aggregate = models.CharField(max_length=64)  # "user:<uid>": delivery order is kept per value
    payload = models.JSONField()  # {"record": …, ["changes": …,] "name": …}
    # Delivery hints that are not part of the event (e.g. the language a client asked for).
    context = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    publish = models.BooleanField(default=False)  # the Event API was on when it was recorded
    published_at = models.DateTimeField(null=True, blank=True)
    mail = models.BooleanField(default=False)  # the mailer mapping has an e-mail for it
    mailed_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(auto_now_add=True)
    last_error = models.TextField(blank=True, default="")

    class Meta:
        db_table = "outbox_events"
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at", "id"],
                condition=models.Q(delivered_at__isnull=True),
                name="outbox_pending_idx",
            ),
            models.Index(
                fields=["aggregate", "id"],
                condition=models.Q(delivered_at__isnull=True),
                name="outbox_pending_aggregate_idx",
            ),
            models.Index(fields=["delivered_at"], name="outbox_delivered_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} #{self.pk} ({'delivered' if self.delivered_at else 'pending'})"

    @property
    def name(self) -> str:
        return f"{self.category}.{self.routing_key}"

    @property
    def publish_done(self) -> bool:
        return not self.publish or self.published_at is not None

    @property
    def mail_done(self) -> bool:
        return not self.mail or self.mailed_at is not None

    def settle(self, when) -> None:
        """Mark delivered and forget the record's token: kept history holds no live secret."""
        self.delivered_at = when
        record = self.payload.get("record")
        if isinstance(record, dict) and record.get("token"):
            record["token"] = None
