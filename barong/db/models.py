"""The columns most tables share."""

from django.db import models


class Stamped(models.Model):
    """A row stamped when it is created and when it last changed, read oldest first.

    Its models declare ``class Meta(Stamped.Meta)`` to keep the order.
    """

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
        ordering = ["id"]
