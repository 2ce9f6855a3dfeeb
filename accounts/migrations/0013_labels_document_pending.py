"""The pending document labels by user, a partial index: ``/admin/metrics`` counts them
(``pending_applications``) from its entries alone, a tenth of what the labels' (key,
value, user, scope) index reads for them (docs/BENCHMARKS.md, "Ten million users").
Built online on PostgreSQL."""

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
