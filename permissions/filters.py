"""The admin API's restriction list: its parameters declared once, validated and applied."""

from typing import Any

from django.db.models import QuerySet

from barong.api.filters import BarongFilterSet, param_filter
from barong.api.params import Int
from barong.api.timebounds import time_bounded
from permissions.models import Restriction
from permissions.serializers import CATEGORIES, RANGES, SCOPES, OneOf


class RestrictionFilter(BarongFilterSet):
    """Oldest first; ``from``/``to`` are inclusive unix seconds on created or updated.

    A blank value is refused like any other (``admin.restriction.invalid_scope``…).
    """

    scope = param_filter(
        OneOf(
            choices=SCOPES,
            key="admin.restriction.invalid_scope",
            required=False,
            help_text="all, ip, ip_subnet, continent or country",
        ),
        method="filter_field",
        blank_ok=False,
    )
    category = param_filter(
        OneOf(
            choices=CATEGORIES,
            key="admin.restriction.invalid_category",
            required=False,
            help_text="whitelist, maintenance or blacklist",
        ),
        method="filter_field",
        blank_ok=False,
    )
    range = param_filter(
        OneOf(
            choices=RANGES,
            key="admin.restriction.invalid_range",
            required=False,
            help_text="Which time `from`/`to` apply to: created (default) or updated",
        ),
        method="filter_nothing",
        blank_ok=False,
    )
    to = param_filter(
        Int(required=False, help_text="Until this unix time (seconds, inclusive)"),
        method="filter_to",
        blank_ok=False,
    )

    class Meta:
        model = Restriction
        fields: list[str] = []

    @classmethod
    def get_filters(cls):
        filters = super().get_filters()
        # ``from`` is a Python keyword: declared under its request name here.
        filters["from"] = param_filter(
            Int(required=False, help_text="Since this unix time (seconds, inclusive)"),
            method="filter_from",
            blank_ok=False,
        )
        for name, filter_ in filters.items():
            filter_.field_name = name
        return filters

    def filter_nothing(self, queryset: QuerySet, name: str, value: Any) -> QuerySet:
        return queryset

    def filter_field(self, queryset: QuerySet, name: str, value: Any) -> QuerySet:
        return queryset.filter(**{name: value})

    def _column(self) -> str:
        return f"{self.form.cleaned_data.get('range') or 'created'}_at"

    def filter_from(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        return time_bounded(
            queryset, self._column(), time_from=value, from_key="admin.restriction.invalid_from"
        )

    def filter_to(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        return time_bounded(
            queryset, self._column(), time_to=value, to_key="admin.restriction.invalid_to"
        )
