"""/admin/metrics from the daily roll-up gives the answer a full count gives, any range."""

import re
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from activities.models import Activity, DailyMetric
from activities.rollup import METRIC_SERIES, metrics_rollup, rollup_watermark
from tests.admin_api.conftest import ADMIN

pytestmark = pytest.mark.django_db

ROWS = [  # (topic, action, result), one of each per timestamp below
    ("account", "signup", "succeed"),
    ("session", "login", "succeed"),
    ("session", "login", "failed"),
    ("session", "login", "denied"),  # counted by no series
    ("otp", "enable", "succeed"),
]


def unix(moment: datetime) -> int:
    return int(moment.timestamp())


@pytest.fixture
def history(make_user):
    """Rows every 7 hours for 161 hours back from now: today and, whatever the time of day,
    at least the six days before it (140 hours, as before, left only five after 20:00 UTC)."""
    user = make_user()
    now = timezone.now().replace(microsecond=0)
    moments = [now - timedelta(hours=7 * step) for step in range(24)]
    for moment in moments:
        for topic, action, result in ROWS:
            row = Activity.objects.create(
                user=user,
                category="user",
                user_ip="1.2.3.4",
                user_agent="test",
                topic=topic,
                action=action,
                result=result,
            )
            Activity.objects.filter(pk=row.pk).update(created_at=moment)
    return now, moments


def reference(time_from: int | None, time_to: int | None) -> dict:
    """Every row counted in Python: what /admin/metrics answered before the roll-up."""
    body = {}
    for name, topic, action, result in METRIC_SERIES:
        days = Counter()
        for created in Activity.objects.filter(
            topic=topic, action=action, result=result
        ).values_list("created_at", flat=True):
            seconds = created.timestamp()
            if time_from is not None and seconds < time_from:
                continue
            if time_to is not None and seconds >= time_to + 1:
                continue
            days[created.astimezone(UTC).date().isoformat()] += 1
        body[name] = dict(sorted(days.items()))
    return body


def ranges(now: datetime) -> list[tuple[int | None, int | None]]:
    midnight = now.replace(hour=0, minute=0, second=0)
    return [
        (None, None),
        (unix(now - timedelta(days=3, hours=5)), None),
        (None, unix(now - timedelta(days=2, hours=3))),
        (unix(now - timedelta(days=4, hours=1)), unix(now - timedelta(days=1, hours=2))),
        (unix(midnight - timedelta(days=2)), unix(midnight - timedelta(days=1)) - 1),
        (unix(midnight - timedelta(days=2)), unix(midnight - timedelta(days=2))),
        (unix(now - timedelta(hours=3)), unix(now)),
        (unix(now), unix(now - timedelta(days=1))),  # empty
    ]


def metrics(client, time_from: int | None, time_to: int | None) -> dict:
    params = {}
    if time_from is not None:
        params["created_from"] = time_from
    if time_to is not None:
        params["created_to"] = time_to
    response = client.get(f"{ADMIN}/metrics", params)
    assert response.status_code == 200
    body = response.json()
    body.pop("pending_applications")
    return body


def test_answers_match_a_full_count_before_and_after_the_rollup(sa_api, history):
    now, _ = history
    before = {bounds: metrics(sa_api, *bounds) for bounds in ranges(now)}
    assert before == {bounds: reference(*bounds) for bounds in ranges(now)}

    assert metrics_rollup() >= 6
    assert DailyMetric.objects.filter(count__gt=0).exists()

    after = {bounds: metrics(sa_api, *bounds) for bounds in ranges(now)}
    assert after == before
    assert any(after[bounds]["signups"] for bounds in after)


def test_the_rollup_reads_rolled_days_from_the_table(sa_api, history):
    metrics_rollup()
    # Rolled-up days answer from daily_metrics: rewriting one shows in the answer.
    day = DailyMetric.objects.filter(series="signups", count__gt=0).order_by("day").first()
    DailyMetric.objects.filter(pk=day.pk).update(count=999)

    assert metrics(sa_api, None, None)["signups"][day.day.isoformat()] == 999


def test_the_rollup_is_idempotent_and_leaves_today_live(history):
    now, _ = history
    written = metrics_rollup()
    rows = DailyMetric.objects.count()

    assert metrics_rollup() == 0
    assert DailyMetric.objects.count() == rows == written * len(METRIC_SERIES)
    assert not DailyMetric.objects.filter(day__gte=now.astimezone(UTC).date()).exists()


def test_metrics_cost_a_few_queries_whatever_the_range(sa_api, history):
    metrics(sa_api, None, None)  # warm the permission table
    metrics_rollup()
    with CaptureQueriesContext(connection) as captured:
        metrics(sa_api, None, None)
    assert len(captured) <= 10


def test_a_starting_worker_rolls_up_at_once(history):
    """After an upgrade or a bulk load the first roll-up must not wait for the hourly beat:
    a worker queues one as it starts (eager here: it runs at once)."""
    from celery.signals import worker_ready

    now, _ = history
    assert rollup_watermark() is None

    worker_ready.send(sender=None)

    assert rollup_watermark() == now.astimezone(UTC).date() - timedelta(days=1)


def test_a_range_starting_or_ending_mid_day_counts_at_most_half_a_day_live(sa_api, history):
    """A partial day already rolled up is counted live on its smaller side: the span itself
    when it is at most half the day, else the rest of the day, taken from the day's total."""
    now, _ = history
    metrics_rollup()
    midnight = now.replace(hour=0, minute=0, second=0)
    bounds = []
    for days in (2, 3, 4):
        day = midnight - timedelta(days=days)
        for hour in (1, 5, 11, 13, 20):
            bounds.append((unix(day + timedelta(hours=hour)), None))
            bounds.append((unix(day - timedelta(days=1)), unix(day + timedelta(hours=hour))))
            bounds.append((unix(day + timedelta(hours=hour)), unix(day + timedelta(hours=23))))
    for time_from, time_to in bounds:
        with CaptureQueriesContext(connection) as captured:
            answered = metrics(sa_api, time_from, time_to)
        assert answered == reference(time_from, time_to), (time_from, time_to)
        # The live counts of rolled-up days: none spans more than half a day.
        for query in captured.captured_queries:
            sql = query["sql"]
            if 'FROM "activities"' not in sql or 'created_at" <' not in sql:
                continue
            found = re.findall(r"'(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)", sql)
            low, high = (datetime.fromisoformat(text) for text in found[:2])
            assert high - low <= timedelta(hours=12), sql
