"""The first metrics roll-up (activities/rollup.py), run by the upgrade itself.

``daily_metrics`` came in empty (activities 0002): until the hourly task first ran, an
upgraded database with millions of activities counted every day live on each
``/admin/metrics`` call (905 ms p95 at a million users). On a new database there is
nothing to count.
"""

from django.db import migrations

from activities.rollup import metrics_rollup


def rollup(apps, schema_editor) -> None:
    metrics_rollup(
        activity=apps.get_model("activities", "Activity"),
        metric=apps.get_model("activities", "DailyMetric"),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("activities", "0004_activity_statistics"),
    ]

    operations = [
        migrations.RunPython(rollup, migrations.RunPython.noop, elidable=True),
    ]
