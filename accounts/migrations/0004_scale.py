"""A million users: one plain unique index on the lower-case e-mail, level/state indexes,
labels by (key, value) in user order, the KYC queue's partial label index, the
manual-state flag and the resync job table (docs/operations.md, "Migrating")."""

import django.db.models.functions.text
from django.db import migrations, models

from barong.db.operations import AddIndexOnline, RemoveIndexOnline

WAITING = models.Q(
    ("key", "document"), ("scope", "private"), ("value__in", ("pending", "replaced"))
)
LOWER_EMAILS = "UPDATE users SET email = LOWER(email) WHERE email <> LOWER(email)"


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [
        ("accounts", "0003_label_level_from_kyc"),
    ]

    operations = [
        migrations.CreateModel(
            name="ResyncJob",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("reason", models.CharField(max_length=255)),
                ("from_level", models.PositiveIntegerField(default=0)),
                (
                    "state",
                    models.CharField(
                        choices=[
                            ("queued", "Queued"),
                            ("running", "Running"),
                            ("done", "Done"),
                            ("failed", "Failed"),
                        ],
                        default="queued",
                        max_length=16,
                    ),
                ),
                ("last_user_id", models.BigIntegerField(default=0)),
                ("max_user_id", models.BigIntegerField(default=0)),
                ("processed", models.BigIntegerField(default=0)),
                ("changed", models.BigIntegerField(default=0)),
                ("error", models.TextField(blank=True, default="")),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                ("finished_at", models.DateTimeField(blank=True, null=True)),
            ],
            options={"db_table": "resync_jobs", "ordering": ["-id"]},
        ),
        migrations.AddField(
            model_name="user",
            name="state_manual",
            field=models.BooleanField(db_default=False, default=False),
        ),
        # Every writer lower-cases already; older rows are made to match before the check.
        migrations.RunSQL(LOWER_EMAILS, migrations.RunSQL.noop),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.UniqueConstraint(fields=("email",), name="users_email_unique"),
        ),
        migrations.RemoveConstraint(model_name="user", name="users_email_ci_unique"),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.CheckConstraint(
                condition=models.Q(("email", django.db.models.functions.text.Lower("email"))),
                name="users_email_lower",
            ),
        ),
        AddIndexOnline(
            model_name="user",
            index=models.Index(fields=["level", "id"], name="users_level_id"),
        ),
        AddIndexOnline(
            model_name="user",
            index=models.Index(fields=["state", "id"], name="users_state_id"),
        ),
        AddIndexOnline(
            model_name="label",
            index=models.Index(
                fields=["key", "value", "user", "scope"], name="labels_key_value_user"
            ),
        ),
        RemoveIndexOnline(model_name="label", name="labels_key_89c481_idx"),
        AddIndexOnline(
            model_name="label",
            index=models.Index(
                condition=WAITING, fields=["updated_at", "user"], name="labels_document_waiting"
            ),
        ),
        migrations.AlterField(
            model_name="user",
            name="state",
            field=models.CharField(default="pending", max_length=255),
        ),
    ]
