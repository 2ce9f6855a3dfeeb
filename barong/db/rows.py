"""``row_insert``: one new row of an append-only log, with a statement built once.

``Model.save()`` compiles its ``INSERT`` anew on every call (the insert query, its
compiler, the placeholders of every field): for the activity log and the outbox, which
a login, a sign-up and most state changes each write, that cost more CPU than the
database spent storing the row (docs/BENCHMARKS.md). Here the statement of a model is
built once per process and database from its metadata, and each call only prepares the
values, with the fields' own ``pre_save`` and ``get_db_prep_save`` (defaults,
``auto_now_add``, JSON) as ``save()`` would. A model with ``pre_save``/``post_save``
receivers goes through ``save()``, so no receiver is ever skipped, and so does one this
statement does not cover (an inherited model, a field with a database default).
"""

import functools

from django.db import connections, router
from django.db.models import NOT_PROVIDED, Field, Model
from django.db.models.signals import post_save, pre_save


@functools.cache
def _covered(model: type[Model]) -> bool:
    """One table and values from Python only: what ``row_statement`` writes in full."""
    meta = model._meta
    return not meta.parents and all(
        field.db_default is NOT_PROVIDED for field in meta.local_concrete_fields
    )


@functools.cache
def row_statement(model: type[Model], alias: str) -> tuple[str, tuple[Field, ...], bool]:
    """(the ``INSERT``, the fields it writes in order, whether it returns the key)."""
    connection = connections[alias]
    meta = model._meta
    fields = tuple(
        field
        for field in meta.local_concrete_fields
        if field is not meta.auto_field and not getattr(field, "generated", False)
    )
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({marks})"  # noqa: S608
    returning = meta.auto_field is not None and connection.features.can_return_columns_from_insert
    if returning:
        sql += f" RETURNING {quote(meta.auto_field.column)}"
    return sql, fields, returning


def row_values(obj: Model, fields: tuple[Field, ...], connection) -> list:
    """The values ``save()`` would insert for ``fields`` of ``obj`` (defaults,
    ``auto_now_add`` and JSON by the fields' own ``pre_save`` and ``get_db_prep_save``)."""
    return [field.get_db_prep_save(field.pre_save(obj, True), connection) for field in fields]


def row_insert(obj: Model, *, using: str | None = None) -> Model:
    """Insert ``obj`` as a new row (``save(force_insert=True)``'s effect); returns it with
    its primary key set and its state saved."""
    model = type(obj)
    if not _covered(model) or pre_save.has_listeners(model) or post_save.has_listeners(model):
        obj.save(force_insert=True, using=using)
        return obj
    alias = using or router.db_for_write(model, instance=obj)
    connection = connections[alias]
    sql, fields, returning = row_statement(model, alias)
    params = row_values(obj, fields, connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        auto_field = model._meta.auto_field
        if auto_field is not None:
            if returning:
                key = cursor.fetchone()[0]
            else:
                key = connection.ops.last_insert_id(cursor, model._meta.db_table, auto_field.column)
            setattr(obj, auto_field.attname, key)
    obj._state.adding = False
    obj._state.db = alias
    return obj
