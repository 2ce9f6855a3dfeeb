"""Filtering on a long list of primary keys without one SQL parameter per key.

``pk__in=[…]`` renders one placeholder per value: with thousands of ids (a resync batch)
building and parsing that statement costs more than running it. On PostgreSQL the list
travels as one array parameter (``= ANY(%s)``); elsewhere it stays ``IN (…)``.
"""

from collections.abc import Iterable

from django.db import connections
from django.db.models import BooleanField, QuerySet
from django.db.models.expressions import RawSQL


def filter_pks(queryset: QuerySet, ids: Iterable[int]) -> QuerySet:
    """``queryset.filter(pk__in=ids)``, with a single array parameter on PostgreSQL."""
    ids = list(ids)
    if connections[queryset.db].vendor != "postgresql":
        return queryset.filter(pk__in=ids)
    meta = queryset.model._meta
    column = f'"{meta.db_table}"."{meta.pk.column}"'
    # Only the model's own table and column names are interpolated; the ids are a parameter.
    condition = RawSQL(f"{column} = ANY(%s)", (ids,), output_field=BooleanField())  # noqa: S611
    return queryset.filter(condition)
