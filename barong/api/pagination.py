"""Barong's paginated collections: a bare JSON array plus Total/Page/Per-Page headers."""

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from rest_framework.pagination import BasePagination
from rest_framework.response import Response

from barong.api.errors import ApiError
from barong.db.counting import page_rows, queryset_total, rows_in_order

# (start, size) -> (exact total, the page's primary keys), or None to count and walk as usual.
Positions = Callable[..., tuple[int, list] | None]  # (start=, size=)


def _positive(raw: Any, default: int, non_integer: str) -> int:
    if raw is None or raw == "":
        return default
    if isinstance(raw, bool):
        raise ApiError(non_integer)
    text = str(raw).strip()
    if not text.lstrip("-").isdigit() or len(text) > 12:
        raise ApiError(non_integer)
    return int(text)


class BarongPagination(BasePagination):
    """``page`` ≥ 1 and ``limit`` 1…100, bad values are 422 with Barong's bare keys.

    ``Total`` and the page's rows come from ``barong.db.counting``: exact totals where
    counting is cheap, PostgreSQL's estimate above ``BARONG_EXACT_COUNT_LIMIT`` rows.
    """

    max_limit = 100

    def parse(self, params: dict[str, Any]) -> tuple[int, int]:
        errors: list[str] = []
        page = limit = 0
        try:
            page = _positive(params.get("page"), 1, "non_integer_page")
            if page <= 0:
                errors.append("non_positive_page")
        except ApiError as exc:
            errors += exc.keys
        try:
            limit = _positive(params.get("limit"), self.max_limit, "non_integer_limit")
            if not 1 <= limit <= self.max_limit:
                errors.append("invalid_limit")
        except ApiError as exc:
            errors += exc.keys
        if errors:
            raise ApiError(errors)
        return page, limit

    def paginate_queryset(
        self,
        queryset,
        request,
        view=None,
        keys: QuerySet | None = None,
        positions: Positions | None = None,
    ):
        """``keys``: an optional cheaper ordered queryset of the rows' primary keys;
        ``positions(start=, size=)``: the exact total and the page's keys, when it knows them."""
        from barong.api.params import request_params

        page, limit = self.parse(request_params(request))
        return self.page_of(queryset, page, limit, keys=keys, positions=positions)

    def page_of(
        self,
        queryset,
        page: int,
        limit: int,
        keys: QuerySet | None = None,
        positions: Positions | None = None,
    ) -> list:
        """Page ``page`` of ``limit`` rows, with ``total`` counted as the project counts
        (``barong.db.counting``); page and limit already checked (the management API checks
        its own)."""
        self.page, self.limit = page, limit
        start = (self.page - 1) * self.limit
        found = positions(start=start, size=self.limit) if positions is not None else None
        if found is not None:
            self.total, ids = found
            return rows_in_order(queryset, ids)
        if isinstance(queryset, QuerySet):
            self.total = queryset_total(keys if keys is not None else queryset)
            if start >= self.total and self.total <= settings.BARONG_EXACT_COUNT_LIMIT:
                return []  # the count was exact and ends before this page: nothing to read
            return page_rows(queryset, start, self.limit, keys)
        self.total = len(queryset)
        return list(queryset[start : start + self.limit])

    def get_paginated_response(self, data):
        response = Response(data)
        response["Total"] = str(self.total)
        response["Page"] = str(self.page)
        response["Per-Page"] = str(self.limit)
        return response

    def get_paginated_response_schema(self, schema):
        return schema

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": "page",
                "in": "query",
                "required": False,
                "description": "Page number (defaults to 1).",
                "schema": {"type": "integer", "minimum": 1, "default": 1},
            },
            {
                "name": "limit",
                "in": "query",
                "required": False,
                "description": "Number of items per page (defaults to 100, maximum is 100).",
                "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 100},
            },
        ]
