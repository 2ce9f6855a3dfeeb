"""The user with full info (login, sign-up, ``users/me``, phone verify), rendered by plain
functions.

``UserWithFullInfoSerializer`` is the one declaration of the answer: its fields, their order
and each list's serializer; ``shape()`` reads them once and this module answers the same
JSON (tests/accounts/test_full_info.py compares the two) at a fraction of the CPU: DRF
builds every nested serializer's fields again on each call, and the ORM compiles each
collection's query again. Here each collection is one fixed statement, built once from
its model. A login reads them all with the user on PostgreSQL (``list_<name>``, JSON
arrays: ``json_sql``); elsewhere its user query tells which are empty (``has_<name>``),
and those cost no statement (accounts/services/login.py; docs/BENCHMARKS.md, "Logins, sign-ups
and authz").

The collections of apps above accounts (kyc's phones, profiles and data storage) are
added to the serializer by those apps from their ``AppConfig.ready`` with
``UserWithFullInfoSerializer.collection_add``.
"""

import functools
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import Model
from django.utils.dateparse import parse_date, parse_datetime
from rest_framework import serializers

from accounts.models import User
from accounts.serializers import UserWithFullInfoSerializer
from barong.api.fields import EntityTime, RawTime, SometimesField

ENTITY_TIME = "%Y-%m-%dT%H:%M:%SZ"


def _utc(value: datetime | str | None) -> datetime | None:
    """A timestamp as the database driver gave it (SQLite: naive UTC) → aware UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        value = parse_datetime(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def entity_time(value: datetime | str | None) -> str | None:
    """Entity timestamps: UTC, whole seconds (as ``barong.api.fields.EntityTime``)."""
    moment = _utc(value)
    return None if moment is None else moment.strftime(ENTITY_TIME)


def raw_time(value: datetime | str | None) -> str | None:
    """Raw-record timestamps: UTC with milliseconds (as ``barong.api.fields.RawTime``)."""
    moment = _utc(value)
    if moment is None:
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def day(value: date | str | None) -> str | None:
    """A date as ``YYYY-MM-DD`` (DRF's ``DateField(format="%Y-%m-%d")``)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = parse_date(value)
    return value.strftime("%Y-%m-%d")


def text(value: Any) -> str | None:
    """A character column as DRF's ``CharField`` renders it: ``str``, null kept."""
    return None if value is None else str(value)


@dataclass(frozen=True)
class Collection:
    """One list of the answer: ``columns`` of ``model``'s rows of the user, in id order,
    each rendered to its JSON key by the function next to it."""

    name: str
    model: type[Model]
    columns: tuple[tuple[str, Callable[[Any], Any]], ...]
    probe: bool = True  # elsewhere than PostgreSQL, the login asks whether there are any
    sql: str = field(init=False, compare=False)

    def __post_init__(self) -> None:
        meta = self.model._meta
        quote = connection.ops.quote_name
        owner = quote(meta.get_field("user").column)
        # Quoted names from the model's own metadata; the user id is a parameter.
        statement = (
            f"SELECT {self._selected()} FROM {quote(meta.db_table)}"  # noqa: S608
            f" WHERE {owner} = %s ORDER BY {quote(meta.pk.column)}"
        )
        object.__setattr__(self, "sql", statement)

    def _selected(self) -> str:
        quote = connection.ops.quote_name
        meta = self.model._meta
        return ", ".join(quote(meta.get_field(name).column) for name, _ in self.columns)

    def json_sql(self, outer: str) -> str:
        """PostgreSQL: the user's rows as one JSON array of arrays (null when none), for a
        query whose user id is ``outer``; ``from_json`` renders it."""
        meta = self.model._meta
        quote = connection.ops.quote_name
        table = quote(meta.db_table)
        owner = quote(meta.get_field("user").column)
        return (
            f"(SELECT json_agg(json_build_array({self._selected()})"  # noqa: S608
            f" ORDER BY {quote(meta.pk.column)}) FROM {table} WHERE {table}.{owner} = {outer})"
        )

    def render(self, rows: Iterable[Iterable[Any]]) -> list[dict[str, Any]]:
        return [
            {name: render(value) for (name, render), value in zip(self.columns, row, strict=True)}
            for row in rows
        ]

    def rows(self, user_id: int) -> list[dict[str, Any]]:
        with connection.cursor() as cursor:
            cursor.execute(self.sql, [user_id])
            return self.render(cursor.fetchall())

    def from_json(self, value: str | list | None) -> list[dict[str, Any]]:
        """The rows ``json_sql`` read (timestamps and dates as ISO text)."""
        if value is None:
            return []
        return self.render(json.loads(value) if isinstance(value, str) else value)


# Lists the login does not probe elsewhere than PostgreSQL: every confirmed account has its
# e-mail label, so asking costs more than reading.
UNPROBED = frozenset({"labels"})


def _flag(value: Any) -> bool | None:
    return None if value is None else bool(value)


def _number(value: Any) -> int | None:
    return None if value is None else int(value)


def _renderer(serializer_field: serializers.Field) -> Callable[[Any], Any]:
    """The plain function that renders a column as ``serializer_field`` does. The serializer
    declares the shape; an output field this does not know is refused when the shape is
    first read, rather than rendered differently."""
    kinds: tuple[tuple[type, Callable[[Any], Any]], ...] = (
        (EntityTime, entity_time),
        (RawTime, raw_time),
        (serializers.DateField, day),
        (serializers.BooleanField, _flag),
        (serializers.IntegerField, _number),
        (serializers.CharField, text),
        (serializers.ChoiceField, text),
    )
    for kind, render in kinds:
        if isinstance(serializer_field, kind):
            if kind is serializers.DateField and serializer_field.format != "%Y-%m-%d":
                break
            return render
    raise ImproperlyConfigured(
        f"accounts.full_info cannot render {type(serializer_field).__name__}"
        f" ({serializer_field.field_name!r}): give it a renderer there"
    )


def _collection(name: str, child: serializers.ModelSerializer) -> Collection:
    """A list of the answer from the serializer of its rows: its model, its fields in order."""
    columns = tuple((key, _renderer(column)) for key, column in child.fields.items())
    model = child.Meta.model
    return Collection(name=name, model=model, columns=columns, probe=name not in UNPROBED)


@dataclass(frozen=True)
class Shape:
    """The answer's keys in order, read once from ``UserWithFullInfoSerializer``: the user's
    own (``(key, attribute, renderer)``), where ``csrf_token`` goes, and the lists."""

    own: tuple[tuple[str, Callable[[User], Any] | None], ...]
    context: tuple[str, ...]
    collections: tuple[Collection, ...]


@functools.cache
def shape() -> Shape:
    """The answer's shape, from the serializer's fields (after every app's ``ready`` added
    its lists); ``shape.cache_clear()`` reads it again."""
    serializer = UserWithFullInfoSerializer(context={})
    own: list[tuple[str, Callable[[User], Any] | None]] = []
    context: list[str] = []
    collections: list[Collection] = []
    for key, column in serializer.fields.items():
        if isinstance(column, serializers.ListSerializer):
            collections.append(_collection(key, column.child))
        elif isinstance(column, SometimesField):
            own.append((key, None))
            context.append(key)
        elif isinstance(column, serializers.SerializerMethodField):
            own.append((key, getattr(serializer, column.method_name)))
        else:
            render = _renderer(column)
            own.append(
                (
                    key,
                    lambda user, source=column.source, render=render: render(getattr(user, source)),
                )
            )
    return Shape(own=tuple(own), context=tuple(context), collections=tuple(collections))


def collections() -> tuple[Collection, ...]:
    """The lists of the answer, in order (the login reads them with the user)."""
    return shape().collections


def user_full_info(user: User, *, csrf_token: str | None = None) -> dict[str, Any]:
    """The user entity with its labels and registered collections; ``csrf_token`` only when a
    session was opened (login, sign-up)."""
    answer = shape()
    given = {"csrf_token": csrf_token}
    body: dict[str, Any] = {}
    for key, render in answer.own:
        if render is None:
            if given.get(key):
                body[key] = given[key]
        else:
            body[key] = render(user)
    body.update(_lists(user, answer.collections))
    return body


def _lists(user: User, known: tuple[Collection, ...]) -> dict[str, list[dict[str, Any]]]:
    """Each list: read with the user (``list_<name>``), known empty (``has_<name>``), or
    read now; on PostgreSQL all those left in one statement."""
    lists: dict[str, list[dict[str, Any]]] = {}
    pending = []
    for item in known:
        if hasattr(user, f"list_{item.name}"):
            lists[item.name] = item.from_json(getattr(user, f"list_{item.name}"))
        elif item.probe and getattr(user, f"has_{item.name}", None) in (False, 0):
            lists[item.name] = []
        else:
            pending.append(item)
    if len(pending) > 1 and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT " + ", ".join(item.json_sql("%s") for item in pending),
                [user.pk] * len(pending),
            )
            found = cursor.fetchone()
        lists.update(
            (item.name, item.from_json(value)) for item, value in zip(pending, found, strict=True)
        )
    else:
        lists.update((item.name, item.rows(user.pk)) for item in pending)
    return {item.name: lists[item.name] for item in known}
