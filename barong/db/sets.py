"""Filtering on a long list of integer ids without one SQL parameter per id.

``pk__in=[…]`` renders one placeholder per value: with thousands of ids (a resync batch)
building and parsing that statement costs more than running it. On PostgreSQL the list
travels as one parameter, the text of an array (``= ANY(%s::bigint[])``): psycopg's
client-side quoting of a Python list runs a regular expression per element, which cost a
resync batch more than its queries. Elsewhere it stays ``IN (…)``.
"""

from collections.abc import Iterable

from django.db import connections
from django.db.models import BooleanField, QuerySet
from django.db.models.expressions import RawSQL


def filter_pks(queryset: QuerySet, ids: Iterable[int]) -> QuerySet:
    """``queryset.filter(pk__in=ids)``, with a single array parameter on PostgreSQL."""
    return filter_ids(queryset, "pk", ids)


def filter_ids(queryset: QuerySet, field: str, ids: Iterable[int]) -> QuerySet:
    """``queryset.filter(<field>__in=ids)`` for an integer column of the model's own table
    (its primary key or a foreign key), with a single array parameter on PostgreSQL."""
    ids = [int(pk) for pk in ids]
    if connections[queryset.db].vendor != "postgresql":
        return queryset.filter(**{f"{field}__in": ids})
    meta = queryset.model._meta
    name = meta.pk.column if field == "pk" else meta.get_field(field).column
    column = f'"{meta.db_table}"."{name}"'
    # Only the model's own table and column names are interpolated; the ids are a parameter
    # (integers, so their text needs no quoting).
    array = "{" + ",".join(map(str, ids)) + "}"
    sql = f"{column} = ANY(%s::bigint[])"
    condition = RawSQL(sql, (array,), output_field=BooleanField())  # noqa: S611
    return queryset.filter(condition)
