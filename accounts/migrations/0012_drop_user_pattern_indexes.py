"""Two indexes of ``users`` that no read uses go, on PostgreSQL: the ``varchar_pattern_ops``
copies Django adds beside the uid's unique index and the role's index, for ``LIKE 'x%'``.
Nothing searches a uid or a role by prefix (uids match exactly; the back-office's
substring search reads the e-mail's trigram index), and every user row a level resync
moves wrote an entry into each (docs/BENCHMARKS.md, "Ten million users"). Dropped
online; walking back builds them again the same way."""

from django.db import migrations

from barong.db.operations import PostgresOnly

# Django's names for them (``_create_index_name(table, [column], suffix="_like")``).
PATTERN_INDEXES = (
    ("users_uid_29f50fbe_like", "uid"),
    ("users_role_f0571928_like", "role"),
)


class Migration(migrations.Migration):
    atomic = False  # DROP/CREATE INDEX CONCURRENTLY

    dependencies = [
        ("accounts", "0011_user_security_lock_until"),
    ]

    operations = [
        PostgresOnly(
            f"DROP INDEX CONCURRENTLY IF EXISTS {name}",
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name}"
            f" ON users ({column} varchar_pattern_ops)",
        )
        for name, column in PATTERN_INDEXES
    ]
