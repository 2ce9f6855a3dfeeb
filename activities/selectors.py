"""Reads of the activity log for the operators' screens (user log, admin audit log, metrics)."""

from datetime import UTC, date, datetime, timedelta

from django.db.models import Count, QuerySet
from django.db.models.functions import TruncDate

from accounts.services import email_normalize
from activities.models import Activity

# (response key, topic, action, result) of the daily series in /admin/metrics.
METRIC_SERIES = (
    ("signups", "account", "signup", Activity.Result.SUCCEED),
    ("sucessful_logins", "session", "login", Activity.Result.SUCCEED),  # Barong's spelling
    ("failed_logins", "session", "login", Activity.Result.FAILED),
)


def _unix(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def _created_between(
    queryset: QuerySet[Activity], time_from: int | None, time_to: int | None
) -> QuerySet[Activity]:
    """Inclusive unix-second bounds on ``created_at`` (``to`` covers its whole second)."""
    if time_from is not None:
        queryset = queryset.filter(created_at__gte=_unix(time_from))
    if time_to is not None:
        queryset = queryset.filter(created_at__lt=_unix(time_to) + timedelta(seconds=1))
    return queryset


def activities_search(
    *,
    category: str,
    topic: str | None = None,
    action: str | None = None,
    uid: str | None = None,
    email: str | None = None,
    target_uid: str | None = None,
    time_from: int | None = None,
    time_to: int | None = None,
) -> QuerySet[Activity]:
    """One category's rows, newest first; ``uid``/``email`` name the acting user."""
    queryset = Activity.objects.filter(category=category)
    if topic:
        queryset = queryset.filter(topic=topic)
    if action:
        queryset = queryset.filter(action=action)
    if uid:
        queryset = queryset.filter(user__uid=uid.upper())
    if email:
        queryset = queryset.filter(user__email=email_normalize(email))
    if target_uid:
        queryset = queryset.filter(target_uid=target_uid.upper())
    queryset = _created_between(queryset, time_from, time_to)
    return queryset.select_related("user", "user__referral").order_by("-created_at", "-id")


def activity_daily_counts(
    *, topic: str, action: str, result: str, time_from: int | None, time_to: int | None
) -> dict[str, int]:
    """``{"YYYY-MM-DD": count}`` of matching rows per UTC day, oldest day first."""
    rows = (
        _created_between(
            Activity.objects.filter(topic=topic, action=action, result=result),
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
