"""Reads of the activity log for the operators' screens."""

from datetime import UTC, date

from django.db.models import Count
from django.db.models.functions import TruncDate

from activities.models import Activity
from barong.api.timebounds import time_bounded

# (response key, topic, action, result) of the daily series in /admin/metrics.
METRIC_SERIES = (
    ("signups", "account", "signup", Activity.Result.SUCCEED),
    ("sucessful_logins", "session", "login", Activity.Result.SUCCEED),  # Barong's spelling
    ("failed_logins", "session", "login", Activity.Result.FAILED),
)


def activity_daily_counts(
    *, topic: str, action: str, result: str, time_from: int | None, time_to: int | None
) -> dict[str, int]:
    """``{"YYYY-MM-DD": count}`` of matching rows per UTC day, oldest day first."""
    rows = (
        time_bounded(
            Activity.objects.filter(topic=topic, action=action, result=result),
            "created_at",
            time_from,
            time_to,
        )
        .annotate(day=TruncDate("created_at", tzinfo=UTC))
        .values_list("day")
        .annotate(count=Count("id"))
        .order_by("day")
    )
    return {_day(day): count for day, count in rows}


def _day(day: date | str) -> str:
    return day if isinstance(day, str) else day.isoformat()


def activity_metrics(*, time_from: int | None = None, time_to: int | None = None) -> dict:
    """Sign-ups, successful and failed logins per UTC day within the bounds."""
    return {
        name: activity_daily_counts(
            topic=topic, action=action, result=result, time_from=time_from, time_to=time_to
        )
        for name, topic, action, result in METRIC_SERIES
    }
