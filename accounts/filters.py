"""The admin API's activity lists: their parameters declared once, validated and applied."""

from typing import Any

from django.db.models import QuerySet
from rest_framework import serializers

from accounts.services import email_normalize
from activities.models import Activity
from barong.api.filters import BarongFilterSet, param_filter
from barong.api.params import BareInvalidInt, Str
from barong.api.timebounds import UNIX_MAX, time_bounded

FROM_HELP = "Unix seconds. If set, only records FROM the time will be retrieved."
TO_HELP = "Unix seconds. If set, only records up to the time (inclusive) will be retrieved."


def unix_seconds(help_text: str) -> BareInvalidInt:
    return BareInvalidInt(required=False, min_value=0, max_value=UNIX_MAX, help_text=help_text)


class ActivityFilter(BarongFilterSet):
    """Exact matches; ``uid``/``email`` name the acting user; a blank value is no filter."""

    topic = param_filter(Str(required=False), method="filter_field")
    action = param_filter(Str(required=False), method="filter_field")
    uid = param_filter(
        Str(required=False, help_text="uid of the user who acted"), method="filter_uid"
    )
    email = param_filter(
        Str(required=False, help_text="e-mail of the user who acted"), method="filter_email"
    )
    target_uid = param_filter(
        Str(required=False, help_text="uid of the user acted on"), method="filter_target"
    )

    class Meta:
        model = Activity
        fields: list[str] = []

    @classmethod
    def get_filters(cls):
        filters = super().get_filters()
        # ``from`` is a Python keyword, so these two cannot be class attributes.
        filters["from"] = param_filter(unix_seconds(FROM_HELP), method="filter_from")
        filters["to"] = param_filter(unix_seconds(TO_HELP), method="filter_to")
        for name, filter_ in filters.items():
            filter_.field_name = name
        return filters

    def filter_field(self, queryset: QuerySet, name: str, value: Any) -> QuerySet:
        return queryset.filter(**{name: value})

    def filter_uid(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(user__uid=value.upper())

    def filter_email(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(user__email=email_normalize(value))

    def filter_target(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(target_uid=value.upper())

    def filter_from(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        return time_bounded(queryset, "created_at", time_from=value)

    def filter_to(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        return time_bounded(queryset, "created_at", time_to=value)


class AdminActivityFilter(ActivityFilter):
    """The audit log's filters: the user list's and ``range`` (only ``created`` exists)."""

    range = param_filter(
        serializers.ChoiceField(
            choices=["created"],
            required=False,
            error_messages={"invalid_choice": "admin.activity.invalid_range"},
            help_text="Only `created` is supported",
        ),
        method="filter_nothing",
    )

    def filter_nothing(self, queryset: QuerySet, name: str, value: Any) -> QuerySet:
        return queryset
