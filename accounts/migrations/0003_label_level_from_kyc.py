"""Label and Level move from kyc to accounts: the same tables (``labels``, ``levels``), rows kept.

Only Django's state moves (kyc 0002 drops them from kyc's state); no table is touched, so
this runs alike on SQLite and PostgreSQL, on an empty or a populated database. The content
types follow, so the operators' permission rows and admin log entries stay attached.
"""

import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def content_types_move(apps, schema_editor, source="kyc", target="accounts"):
    content_type = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for model in ("label", "level"):
        if not content_type.objects.using(db).filter(app_label=target, model=model).exists():
            content_type.objects.using(db).filter(app_label=source, model=model).update(
                app_label=target
            )


def content_types_move_back(apps, schema_editor):
    content_types_move(apps, schema_editor, source="accounts", target="kyc")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_drop_user_version"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("kyc", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Level",
                    fields=[
                        ("id", models.PositiveIntegerField(primary_key=True, serialize=False)),
                        ("key", models.CharField(max_length=255)),
                        ("value", models.CharField(max_length=255)),
                        ("description", models.CharField(max_length=255)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                    ],
                    options={
                        "db_table": "levels",
                        "ordering": ["id"],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("key", "value"), name="levels_key_value_unique"
                            )
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="Label",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "key",
                            models.CharField(
                                max_length=255,
                                validators=[
                                    django.core.validators.MinLengthValidator(3),
                                    django.core.validators.RegexValidator(
                                        "\\A[a-z0-9_-]+\\Z", code="invalid"
                                    ),
                                ],
                            ),
                        ),
                        (
                            "value",
                            models.CharField(
                                max_length=255,
                                validators=[
                                    django.core.validators.MinLengthValidator(3),
                                    django.core.validators.RegexValidator(
                                        "\\A[a-z0-9_-]+\\Z", code="invalid"
                                    ),
                                ],
                            ),
                        ),
                        (
                            "scope",
                            models.CharField(
                                choices=[("public", "Public"), ("private", "Private")],
                                default="public",
                                max_length=16,
                            ),
                        ),
                        ("description", models.CharField(blank=True, max_length=255, null=True)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="labels",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "labels",
                        "ordering": ["id"],
                        "indexes": [
                            models.Index(
                                fields=["key", "value", "scope"], name="labels_key_89c481_idx"
                            )
                        ],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("user", "key", "scope"),
                                name="labels_user_key_scope_unique",
                                violation_error_code="taken",
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_move, content_types_move_back),
    ]
