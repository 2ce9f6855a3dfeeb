"""Millions of activity rows: every list reads an index ending in (created_at, id), and the
daily roll-up table behind /admin/metrics."""

from django.db import migrations, models

from barong.db.operations import AddIndexOnline, RemoveIndexOnline


def online(name: str, *fields: str) -> AddIndexOnline:
    return AddIndexOnline(model_name="activity", index=models.Index(fields=list(fields), name=name))


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY on PostgreSQL

    dependencies = [
        ("activities", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="DailyMetric",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField()),
                ("series", models.CharField(max_length=64)),
                ("count", models.BigIntegerField(default=0)),
            ],
            options={
                "db_table": "daily_metrics",
                "indexes": [models.Index(fields=["day"], name="daily_metrics_day")],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("series", "day"), name="daily_metrics_series_day"
                    )
                ],
            },
        ),
        online("activities_time", "created_at", "id"),
        online("activities_category_time", "category", "created_at", "id"),
        online("activities_topic_time", "category", "topic", "created_at", "id"),
        online("activities_user_time", "user", "created_at", "id"),
        online("activities_target_time", "target_uid", "created_at", "id"),
        RemoveIndexOnline(model_name="activity", name="activities_categor_55d4c4_idx"),
        migrations.AlterField(
            model_name="activity",
            name="target_uid",
            field=models.CharField(blank=True, max_length=32, null=True),
        ),
    ]
