"""The daily roll-up behind /admin/metrics: whole UTC days are counted once, by a task.

``metrics_rollup`` (Celery beat, hourly) writes one ``DailyMetric`` row per series for
every complete UTC day not rolled up yet, zero counts included, so the newest rolled-up
day is the watermark. Until a first roll-up, every day is counted live (a second or more
at millions of activities), so it also runs when a worker starts (``activities/apps.py``),
in migration ``activities`` 0005 and after ``import_barong_users``: an upgraded database
answers fast within a minute, not after the first hourly run. ``activity_metrics`` reads
whole days up to the watermark from that table and counts the rest live — the days after
the watermark (normally just today) and the partial first and last days of the asked
range, each on its smaller side (the span, or the day's roll-up less the rest of the day)
— through the ``(topic, action, result, created_at)`` index alone (``COUNT(*)``, no heap
read). The answer is the same as counting every row, whatever the range, and costs a
handful of small queries.
"""

from datetime import UTC, date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Count, Max, Min, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from activities.models import Activity, DailyMetric

# (response key, topic, action, result) of the daily series in /admin/metrics.
METRIC_SERIES = (
    ("signups", "account", "signup", Activity.Result.SUCCEED),
    ("sucessful_logins", "session", "login", Activity.Result.SUCCEED),  # Barong's spelling
    ("failed_logins", "session", "login", Activity.Result.FAILED),
)
ONE_DAY = timedelta(days=1)


def _start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _day_key(day: date | str) -> str:
    return day if isinstance(day, str) else day.isoformat()


def _series_rows(topic: str, action: str, result: str, activity=Activity) -> QuerySet:
    return activity.objects.filter(topic=topic, action=action, result=result)


def live_daily_counts(
    *,
    topic: str,
    action: str,
    result: str,
    start: datetime | None,
    end: datetime | None,
    activity=Activity,
) -> dict[str, int]:
    """``{"YYYY-MM-DD": count}`` of matching rows with ``start <= created_at < end``."""
    rows = _series_rows(topic, action, result, activity)
    if start is not None:
        rows = rows.filter(created_at__gte=start)
    if end is not None:
        rows = rows.filter(created_at__lt=end)
    grouped = (
        rows.annotate(day=TruncDate("created_at", tzinfo=UTC))
        .values_list("day")
        .annotate(count=Count("*"))
        .order_by("day")
    )
    return {_day_key(day): count for day, count in grouped}


def rollup_watermark(metric=DailyMetric) -> date | None:
    """The newest rolled-up day (every earlier day since the first activity is rolled up)."""
    return metric.objects.aggregate(last=Max("day"))["last"]


def metrics_rollup(*, today: date | None = None, activity=Activity, metric=DailyMetric) -> int:
    """Count every complete UTC day after the watermark; idempotent. Returns days written.

    ``activity`` and ``metric`` are the models (a migration passes its historical ones).
    """
    today = today or timezone.now().astimezone(UTC).date()
    last = rollup_watermark(metric)
    if last is not None:
        first = last + ONE_DAY
    else:
        oldest = activity.objects.aggregate(oldest=Min("created_at"))["oldest"]
        if oldest is None:
            return 0
        first = oldest.astimezone(UTC).date()
    if first >= today:
        return 0
    days = [first + ONE_DAY * offset for offset in range((today - first).days)]
    rows = []
    for name, topic, action, result in METRIC_SERIES:
        counts = live_daily_counts(
            topic=topic,
            action=action,
            result=result,
            start=_start(first),
            end=_start(today),
            activity=activity,
        )
        rows += [metric(day=day, series=name, count=counts.get(day.isoformat(), 0)) for day in days]
    with transaction.atomic():
        # A concurrent run writes the same counts: its rows are kept, ours skipped.
        metric.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
    return len(days)


def _live_count(topic: str, action: str, result: str, start: datetime, end: datetime) -> int:
    """Matching rows with ``start <= created_at < end`` (an index-only count)."""
    if start >= end:
        return 0
    rows = _series_rows(topic, action, result).filter(created_at__gte=start, created_at__lt=end)
    return rows.count()


def _partial_day_count(
    series: tuple[str, str, str, str], day: date, start: datetime, end: datetime, total: int
) -> int:
    """A rolled-up day's rows within ``[start, end)``: counted live when the span is at most
    half the day, else the day's roll-up less the rest of the day counted live, so a
    range starting or ending mid-day counts at most half a day's rows (a day back at 10M
    users: 90k rows)."""
    _name, topic, action, result = series
    if (end - start) * 2 <= ONE_DAY:
        return _live_count(topic, action, result, start, end)
    outside = _live_count(topic, action, result, _start(day), start)
    outside += _live_count(topic, action, result, end, _start(day + ONE_DAY))
    return max(total - outside, 0)


def activity_metrics(*, time_from: int | None = None, time_to: int | None = None) -> dict:
    """Sign-ups, successful and failed logins per UTC day within inclusive unix bounds."""
    start = datetime.fromtimestamp(time_from, tz=UTC) if time_from is not None else None
    # ``to`` covers its whole second, as Barong's second-precision columns did.
    end = None
    if time_to is not None:
        end = datetime.fromtimestamp(time_to, tz=UTC) + timedelta(seconds=1)
    body: dict[str, dict[str, int]] = {name: {} for name, *_ in METRIC_SERIES}
    watermark = rollup_watermark()
    live_from = start  # where the days not rolled up begin, counted live
    if watermark is not None:
        rolled_end = _start(watermark + ONE_DAY)
        high = rolled_end if end is None else min(end, rolled_end)
        if start is None or start < high:
            _rolled_days_add(body, start, high)
        live_from = rolled_end if start is None else max(start, rolled_end)
    if end is None or live_from is None or live_from < end:
        for name, topic, action, result in METRIC_SERIES:
            body[name].update(
                live_daily_counts(
                    topic=topic, action=action, result=result, start=live_from, end=end
                )
            )
    return {name: dict(sorted(days.items())) for name, days in body.items()}


def _rolled_days_add(
    body: dict[str, dict[str, int]], start: datetime | None, end: datetime
) -> None:
    """The days of ``[start, end)`` up to the watermark: whole days from the roll-up, the
    first and last when partial through ``_partial_day_count``."""
    last_day = (end - timedelta(microseconds=1)).date()
    rolled = DailyMetric.objects.filter(day__lte=last_day)
    if start is not None:
        rolled = rolled.filter(day__gte=start.date())
    totals: dict[tuple[str, date], int] = {}
    for series, day, count in rolled.filter(count__gt=0).values_list("series", "day", "count"):
        totals[(series, day)] = count
    partial: dict[date, tuple[datetime, datetime]] = {}
    if start is not None and start != _start(start.date()):
        partial[start.date()] = (start, min(end, _start(start.date() + ONE_DAY)))
    if end != _start(end.date()):
        partial[end.date()] = (max(start or end, _start(end.date())), end)
    for series in METRIC_SERIES:
        name = series[0]
        for (total_series, day), count in totals.items():
            if total_series == name and day not in partial:
                body[name][day.isoformat()] = count
        for day, (low, high) in partial.items():
            count = _partial_day_count(series, day, low, high, totals.get((name, day), 0))
            if count:
                body[name][day.isoformat()] = count
