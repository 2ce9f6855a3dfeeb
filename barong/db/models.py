"""``TimestampedModel``: what Barong's tables share (``created_at``, ``updated_at``, id order)."""

from django.db import models


class TimestampedModel(models.Model):
    """A row that records when it was created and last saved, listed in id order as Barong's
    tables are. A subclass's ``Meta`` extends ``TimestampedModel.Meta`` to keep the order."""

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
        ordering = ["id"]
