"""The admin API's restriction list: its parameters declared once, validated and applied."""

from typing import Any

from django.db.models import QuerySet
from rest_framework.fields import Field

from barong.api.filters import BarongFilterSet, ParamFilter, param_filter
from barong.api.params import Int
from barong.api.timebounds import time_bounded
from permissions.models import Restriction
from permissions.serializers import CATEGORIES, RANGES, SCOPES, OneOf


def _strict(param: Field, method: str) -> ParamFilter:
    """A restriction filter: a blank value is refused like any other."""
    return param_filter(param, method=method, blank_ok=False)


def _one_of(name: str, choices: Any, help_text: str, method: str = "filter_field") -> ParamFilter:
    """A choice, refused with ``admin.restriction.invalid_<name>``."""
    key = f"admin.restriction.invalid_{name}"
    return _strict(OneOf(choices=choices, key=key, required=False, help_text=help_text), method)


class RestrictionFilter(BarongFilterSet):
    """Oldest first; ``from``/``to`` are inclusive unix seconds on created or updated.

    A blank value is refused like any other (``admin.restriction.invalid_scope``…).
    """

    scope = _one_of("scope", SCOPES, "all, ip, ip_subnet, continent or country")
    category = _one_of("category", CATEGORIES, "whitelist, maintenance or blacklist")
    range = _one_of(
        "range",
        RANGES,
        "Which time `from`/`to` apply to: created (default) or updated",
        method="filter_nothing",
    )
    to = _strict(
        Int(required=False, help_text="Until this unix time (seconds, inclusive)"), "filter_to"
    )

    class Meta:
        model = Restriction
        fields: list[str] = []

    @classmethod
    def get_filters(cls):
        filters = super().get_filters()
        # ``from`` is a Python keyword: declared under its request name here.
        filters["from"] = _strict(
            Int(required=False, help_text="Since this unix time (seconds, inclusive)"),
            "filter_from",
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
