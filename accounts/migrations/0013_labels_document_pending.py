"""The pending document labels by user, a partial index: ``/admin/metrics`` counts them
(``pending_applications``) from its narrow entries alone: at 10M users 45-55 ms on one
core, against 72-83 ms on three through the labels' (key, value, user, scope) index
(docs/BENCHMARKS.md, "Round 8"). Built online on PostgreSQL."""

from django.db import migrations, models

from barong.db.operations import AddIndexOnline


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY on PostgreSQL

    dependencies = [
        ("accounts", "0012_drop_user_pattern_indexes"),
    ]

    operations = [
        AddIndexOnline(
            model_name="label",
            index=models.Index(
                condition=models.Q(("key", "document"), ("scope", "private"), ("value", "pending")),
                fields=["user"],
                name="labels_document_pending",
            ),
        ),
    ]
