"""activities 0005 rolls the metrics up as part of the upgrade: a database brought over
with its activity history answers /admin/metrics from the roll-up at once.

The test walks the test database back to activities 0004, writes activities of earlier
days through the models of that state, and migrates forward again.
"""

from datetime import UTC, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from activities.models import DailyMetric
from activities.rollup import rollup_watermark
from tests.factories import make_user_with

BEFORE = [("activities", "0004_activity_statistics")]


def _migrate(targets: list[tuple[str, str]]):
    MigrationExecutor(connection).migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_the_upgrade_rolls_the_metrics_up():
    leaves = MigrationExecutor(connection).loader.graph.leaf_nodes()
    user = make_user_with()
    old = _migrate(BEFORE)
    activity = old.get_model("activities", "Activity")
    now = timezone.now()
    for days in (1, 3, 10):
        row = activity.objects.create(
            user_id=user.pk, category="user", user_ip="1.2.3.4", user_agent="test",
            topic="session", action="login", result="succeed",
        )  # fmt: skip
        activity.objects.filter(pk=row.pk).update(created_at=now - timedelta(days=days))
    assert rollup_watermark() is None

    _migrate(leaves)

    today = now.astimezone(UTC).date()
    assert rollup_watermark() == today - timedelta(days=1)
    logins = DailyMetric.objects.filter(series="sucessful_logins", count__gt=0)
    assert sorted(logins.values_list("day", flat=True)) == [
        today - timedelta(days=days) for days in (10, 3, 1)
    ]
