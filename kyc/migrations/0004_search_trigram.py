"""Substring search over profile names (back-office) through pg_trgm, PostgreSQL only.

The expression matches what ``icontains`` compiles to: ``UPPER(name::text) LIKE UPPER(%s)``.
"""

from django.db import migrations

from barong.db.operations import PostgresOnly


def trigram(column: str) -> PostgresOnly:
    name = f"profiles_{column}_trgm"
    return PostgresOnly(
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} "
        f"ON profiles USING gin (UPPER({column}::text) gin_trgm_ops)",
        f"DROP INDEX CONCURRENTLY IF EXISTS {name}",
    )


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY

    dependencies = [
        ("accounts", "0005_search_trigram"),  # creates the pg_trgm extension
        ("kyc", "0003_scale"),
    ]

    operations = [trigram("first_name"), trigram("last_name")]
