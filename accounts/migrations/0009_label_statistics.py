"""Extended statistics on labels' (key, value, scope), on PostgreSQL.

Key and value are correlated (``document`` goes with ``pending``, ``tier`` with ``gold``),
which the planner does not assume: without these statistics it multiplies the columns'
frequencies and estimates a tenth of the labels a (key, value) pair has. Those estimates
are the ``Total`` of the long label lists (docs/compatibility.md, "Lists at scale")
and steer the plans that read labels. ANALYZE (autovacuum's included) keeps them current.
"""

from django.db import migrations

FORWARD = (
    "CREATE STATISTICS IF NOT EXISTS labels_key_value_scope (mcv, dependencies)"
    " ON key, value, scope FROM labels"
)
BACKWARD = "DROP STATISTICS IF EXISTS labels_key_value_scope"


def _on_postgresql(sql: str):
    def run(apps, schema_editor) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0008_user_id_blocks"),
    ]

    operations = [
        migrations.RunPython(_on_postgresql(FORWARD), _on_postgresql(BACKWARD), elidable=False),
    ]
