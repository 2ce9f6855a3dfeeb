"""Profiles by country as a covering index: the KYC queue's ``country=`` filter reads the
users of a country from the index alone (docs/BENCHMARKS.md, "a million users"). The new
index is built before the old one goes, both online on PostgreSQL."""

import django.db.models.functions.text
from django.db import migrations, models

from barong.db.operations import AddIndexOnline, RemoveIndexOnline


class Migration(migrations.Migration):
    atomic = False  # CREATE/DROP INDEX CONCURRENTLY on PostgreSQL

    dependencies = [
        ("kyc", "0004_search_trigram"),
    ]

    operations = [
        AddIndexOnline(
            model_name="profile",
            index=models.Index(
                django.db.models.functions.text.Upper("country"),
                models.F("user"),
                include=("country",),
                name="profiles_country_cover",
            ),
        ),
        RemoveIndexOnline(model_name="profile", name="profiles_country_user"),
    ]
