"""Activity retention: old rows go in small batches, /admin/metrics keeps its counts."""

import re
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from activities.models import Activity, DailyMetric
from activities.retention import activities_prune, retention_cutoff
from activities.tasks import activities_prune_task
from tests.scale.test_metrics import history, metrics  # noqa: F401

pytestmark = pytest.mark.django_db


def _ages(now: datetime) -> list[float]:
    return sorted((now - created).total_seconds() / 86400 for created in _created())


def _created() -> list[datetime]:
    return list(Activity.objects.values_list("created_at", flat=True))


def test_retention_is_off_by_default(history, settings):  # noqa: F811
    assert settings.BARONG_ACTIVITY_RETENTION_DAYS == 0
    rows = Activity.objects.count()

    assert activities_prune() == 0
    out = StringIO()
    call_command("activities_prune", stdout=out)

    assert out.getvalue().strip() == "0 activity rows deleted"
    assert Activity.objects.count() == rows


def test_old_rows_go_and_the_metrics_stay(sa_api, history):  # noqa: F811
    now, moments = history
    before = metrics(sa_api, None, None)
    old = sum(1 for moment in moments if moment < now - timedelta(days=3))

    deleted = activities_prune(days=3, batch=4, pause=0)

    assert deleted == old * 5  # five rows per moment (tests/scale/test_metrics.py)
    assert max(_ages(now)) < 3
    assert Activity.objects.count() == (len(moments) - old) * 5
    assert metrics(sa_api, None, None) == before
    assert activities_prune(days=3, batch=4, pause=0) == 0


def test_each_batch_is_its_own_small_delete(history):  # noqa: F811
    with CaptureQueriesContext(connection) as captured:
        deleted = activities_prune(days=2, batch=3, pause=0)

    deletes = [q["sql"] for q in captured if q["sql"].startswith("DELETE FROM")]
    assert deleted > 3
    assert len(deletes) == -(-deleted // 3)  # one statement per batch, rounded up
    for sql in deletes:
        ids = re.search(r"IN \(([^)]*)\)", sql).group(1).split(",")
        assert len(ids) <= 3, sql


def test_a_day_not_rolled_up_keeps_its_rows(history):  # noqa: F811
    now = timezone.now()
    assert retention_cutoff(days=1, now=now) is None  # nothing rolled up: nothing may go

    five_days_ago = now.astimezone(UTC).date() - timedelta(days=5)
    DailyMetric.objects.create(day=five_days_ago, series="signups", count=1)

    cutoff = retention_cutoff(days=1, now=now)
    assert cutoff == datetime.combine(five_days_ago + timedelta(days=1), datetime.min.time(), UTC)


def test_the_hourly_task_applies_the_setting(history, settings):  # noqa: F811
    now, _ = history
    settings.BARONG_ACTIVITY_RETENTION_DAYS = 4
    settings.BARONG_ACTIVITY_RETENTION_PAUSE_MS = 0
    entry = settings.CELERY_BEAT_SCHEDULE["activities-prune"]
    assert entry["task"] == activities_prune_task.name

    assert activities_prune_task.apply().get() > 0
    assert max(_ages(now)) < 4


@pytest.mark.parametrize(
    ("argv", "message"),
    [(["--days", "-1"], "--days must be 0 or more"), (["--batch", "0"], "--batch must be 1")],
)
def test_the_command_refuses_bad_numbers(argv, message, history):  # noqa: F811
    rows = Activity.objects.count()
    with pytest.raises(CommandError, match=message):
        call_command("activities_prune", *argv)
    assert Activity.objects.count() == rows


def test_the_command_deletes_and_says_how_many(history):  # noqa: F811
    out = StringIO()
    call_command("activities_prune", "--days", "5", stdout=out)
    deleted = int(out.getvalue().split()[0])
    assert deleted > 0
    assert not Activity.objects.filter(
        created_at__lt=timezone.now() - timedelta(days=5, minutes=1)
    ).exists()


def test_a_batch_goes_on_from_where_the_last_ended_even_within_one_moment(history):  # noqa: F811
    now, _ = history
    old = Activity.objects.filter(created_at__lt=now - timedelta(days=3)).order_by("id")
    moment = old.first().created_at
    tied = list(old.values_list("id", flat=True)[:7])
    Activity.objects.filter(id__in=tied).update(created_at=moment)  # one moment, 3 batches
    expected = old.count()

    assert activities_prune(days=3, batch=3, pause=0, now=now) == expected
    assert not Activity.objects.filter(id__in=tied).exists()
