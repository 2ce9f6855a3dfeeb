"""A million users: case-insensitive profile names, profiles by country and the
submitted-profile queue (the label indexes are accounts 0004, Label being an accounts model)."""

import django.db.models.functions.text
from django.db import migrations, models

from barong.db.operations import AddIndexOnline

class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY on PostgreSQL

    dependencies = [
        ("kyc", "0002_label_level_to_accounts"),
    ]

    operations = [
        AddIndexOnline(
            model_name="profile",
            index=models.Index(
                django.db.models.functions.text.Upper("first_name"),
                name="profiles_first_name_upper",
            ),
        ),
        AddIndexOnline(
            model_name="profile",
            index=models.Index(
                django.db.models.functions.text.Upper("last_name"),
                name="profiles_last_name_upper",
            ),
        ),
        AddIndexOnline(
            model_name="profile",
            index=models.Index(
                django.db.models.functions.text.Upper("country"),
                "user",
                name="profiles_country_user",
            ),
        ),
        AddIndexOnline(
            model_name="profile",
            index=models.Index(fields=["updated_at", "id"], name="profiles_updated_id"),
        ),
        AddIndexOnline(
            model_name="profile",
            index=models.Index(
                condition=models.Q(("state", "submitted")),
                fields=["updated_at", "id"],
                name="profiles_submitted",
            ),
        ),
    ]
