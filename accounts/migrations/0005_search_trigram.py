"""Substring search over e-mails (back-office) through a pg_trgm GIN index, PostgreSQL only.

Elsewhere (SQLite) the search scans, which is what a development database can afford.
"""

from django.db import migrations

from barong.db.operations import PostgresOnly


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY

    dependencies = [
        ("accounts", "0004_scale"),
    ]

    operations = [
        # Not Django's TrigramExtension: walking it back queries pg_extension on any engine.
        PostgresOnly("CREATE EXTENSION IF NOT EXISTS pg_trgm", "DROP EXTENSION IF EXISTS pg_trgm"),
        PostgresOnly(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS users_email_trgm "
            "ON users USING gin (email gin_trgm_ops)",
            "DROP INDEX CONCURRENTLY IF EXISTS users_email_trgm",
        ),
    ]
