"""Extended statistics on labels' (key, value, scope), on PostgreSQL.

Key and value are correlated (``document`` goes with ``pending``, ``tier`` with ``gold``),
which the planner does not assume: without these statistics it multiplies the columns'
frequencies and estimates a tenth of the labels a (key, value) pair has. Those estimates
are the ``Total`` of the long label lists (docs/compatibility.md, "Lists at scale")
and steer the plans that read labels. ANALYZE (autovacuum's included) keeps them current.
"""

from django.db import migrations

from barong.db.operations import PostgresOnly

FORWARD = (
    "CREATE STATISTICS IF NOT EXISTS labels_key_value_scope (mcv, dependencies)"
    " ON key, value, scope FROM labels"
)
BACKWARD = "DROP STATISTICS IF EXISTS labels_key_value_scope"


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0008_user_id_blocks"),
    ]

    operations = [
        PostgresOnly(FORWARD, BACKWARD),
    ]
