"""The daily roll-up behind /admin/metrics: whole UTC days are counted once, by a task.

``metrics_rollup`` (Celery beat, hourly) writes one ``DailyMetric`` row per series for
every complete UTC day not rolled up yet, zero counts included, so the newest rolled-up
day is the watermark. Until a first roll-up, every day is counted live (a second or more
at millions of activities), so it also runs when a worker starts (``activities/apps.py``),
in migration ``activities`` 0005 and after ``import_barong_users``: an upgraded database
answers fast within a minute, not after the first hourly run. ``activity_metrics`` reads
whole days up to the watermark from that table and counts the rest live — the partial
first and last days of the asked range and the days after the watermark (normally just
today) — through the ``(topic, action, result, created_at)`` index. The answer is the
same as counting every row, whatever the range, and costs a handful of small queries.
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
        .annotate(count=Count("id"))
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


def activity_metrics(*, time_from: int | None = None, time_to: int | None = None) -> dict:
    """Sign-ups, successful and failed logins per UTC day within inclusive unix bounds."""
    start = datetime.fromtimestamp(time_from, tz=UTC) if time_from is not None else None
    # ``to`` covers its whole second, as Barong's second-precision columns did.
    end = None
    if time_to is not None:
        end = datetime.fromtimestamp(time_to, tz=UTC) + timedelta(seconds=1)
    body: dict[str, dict[str, int]] = {name: {} for name, *_ in METRIC_SERIES}
    watermark = rollup_watermark()
    # Whole days inside [start, end) and at or before the watermark come from the roll-up.
    first_full = None
    if start is not None:
        first_full = start.date() if start == _start(start.date()) else start.date() + ONE_DAY
    last_full = watermark
    if end is not None and watermark is not None:
        last_full = min(watermark, end.date() - ONE_DAY)
    spans: list[tuple[datetime | None, datetime | None]]
    if last_full is None or (first_full is not None and first_full > last_full):
        spans = [(start, end)]  # nothing rolled up in range: count it all live
    else:
        rolled = DailyMetric.objects.filter(day__lte=last_full, count__gt=0)
        if first_full is not None:
            rolled = rolled.filter(day__gte=first_full)
        for series, day, count in rolled.order_by("day").values_list("series", "day", "count"):
            if series in body:
                body[series][day.isoformat()] = count
        head = (start, _start(first_full)) if first_full is not None else None
        spans = [span for span in (head, (_start(last_full + ONE_DAY), end)) if span]
        spans = [(a, b) for a, b in spans if a is None or b is None or a < b]
    for name, topic, action, result in METRIC_SERIES:
        for span_start, span_end in spans:
            body[name].update(
                live_daily_counts(
                    topic=topic, action=action, result=result, start=span_start, end=span_end
                )
            )
        body[name] = dict(sorted(body[name].items()))
    return body
