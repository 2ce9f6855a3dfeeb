"""Totals and pages that stay cheap on tables of millions of rows.

``queryset_total`` counts at most ``BARONG_EXACT_COUNT_LIMIT`` + 1 rows (``COUNT(*)`` over
a ``LIMIT``ed subquery, so its cost is bounded whatever the planner believes): up to the
limit the total is exact; above it, on PostgreSQL, it is the planner's estimate
(``EXPLAIN``, fed by ``ANALYZE``) — never less than what was counted. SQLite counts all.
``page_rows`` selects a page's primary keys first (an index-only walk, however deep the
page) and then loads just those rows with their joins and prefetches.
docs/compatibility.md ("Lists at scale: totals, pages, searches, manual states") says
where this differs from Barong.
"""

import json
from typing import Any

from django.conf import settings
from django.db import connections
from django.db.models import F, QuerySet


def _keys(queryset: QuerySet) -> QuerySet:
    """Only the primary key selected, unless the queryset already selects its keys."""
    return queryset if queryset.query.values_select else queryset.values("pk")


def planner_rows(queryset: QuerySet) -> int | None:
    """PostgreSQL's estimate of how many rows ``queryset`` returns, or None elsewhere."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    # Only the row count matters: no ordering, no joined columns to plan.
    sql, params = _keys(queryset.order_by()).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan: Any = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def queryset_total(queryset: QuerySet) -> int:
    """Exact up to the limit (SQLite: always), else PostgreSQL's estimate."""
    if connections[queryset.db].vendor != "postgresql":
        return queryset.count()
    limit = settings.BARONG_EXACT_COUNT_LIMIT
    # An append-only table (``COUNT_IN_ORDER`` on its model: the activity log) is counted
    # in the list's own order, so the planner walks the index the page is read from.
    # Without the order it may bet on a table scan meeting the matches early, and lose
    # when they sit at the table's end, where an upgraded database keeps its newest rows
    # (the logins after the sign-ups, the operators' audit rows: 0.7 s at a million users
    # and linear in the table, against 5 ms in order). Other lists count without it: a
    # search's few ids are then joined, not looked for along the primary key.
    ordered = getattr(queryset.model, "COUNT_IN_ORDER", False)
    counted = _keys(queryset if ordered else queryset.order_by())[: limit + 1].count()
    if counted <= limit:
        return counted
    return max(planner_rows(queryset) or 0, counted)


# At most this many rows (PostgreSQL's estimate), a filtered list is sorted rather than
# walked along its order's index: see ``sorted_when_few``.
SORT_ROWS_MAX = 50_000


def sorted_when_few(queryset: QuerySet, column: str = "id") -> QuerySet:
    """``queryset`` ordered by ``column``, sorted after its filter's index read when
    PostgreSQL expects few rows, never walked along ``column``'s index.

    For ``ORDER BY id LIMIT 100`` the planner bets that matches are spread evenly along
    the primary key and walks it; a range of recent ``created_at`` sits at its end, so the
    bet reads every older row (a day 30 days back: 1.2 s at 10M users). Ordering by
    ``column + 0`` leaves it no index for the order: it reads the filter's index and sorts
    the few matches, a cost bounded by ``SORT_ROWS_MAX``. Above that, or elsewhere than
    PostgreSQL, the plain order is kept (a dense filter meets its rows early on the walk).
    """
    rows = planner_rows(queryset)
    if rows is None or rows > SORT_ROWS_MAX:
        return queryset.order_by(column)
    return queryset.order_by((F(column) + 0).asc())


def page_rows(queryset: QuerySet, start: int, size: int, keys: QuerySet | None = None) -> list:
    """Rows ``start…start+size`` of an ordered queryset, primary keys first.

    ``keys``, when given, is a cheaper ordered queryset of the same primary keys (e.g. a
    label index's user ids for the users having that label): the page's keys come from it.
    """
    source = keys if keys is not None else queryset.values_list("pk", flat=True)
    return rows_in_order(queryset, list(source[start : start + size]))


def rows_in_order(queryset: QuerySet, ids: list) -> list:
    """The rows of ``queryset`` with these primary keys, in the order of ``ids``."""
    if not ids:
        return []
    rows = {row.pk: row for row in queryset.order_by().filter(pk__in=ids)}
    return [rows[pk] for pk in ids if pk in rows]
