"""Extended statistics on activities' (category, topic, action), on PostgreSQL.

The three columns are correlated (``session`` is a user topic, ``login`` a session action);
without these statistics the planner multiplies their frequencies and underestimates a
topic-and-action filter (1.2M estimated for 1.9M rows at 3M activities). Those estimates
are the ``Total`` of the long activity lists (docs/compatibility.md, "Lists at scale").
ANALYZE (autovacuum's included) keeps them current.
"""

from django.db import migrations

from barong.db.operations import PostgresOnly

FORWARD = (
    "CREATE STATISTICS IF NOT EXISTS activities_category_topic_action (mcv, dependencies)"
    " ON category, topic, action FROM activities"
)
BACKWARD = "DROP STATISTICS IF EXISTS activities_category_topic_action"


class Migration(migrations.Migration):
    dependencies = [
        ("activities", "0003_activity_request_id"),
    ]

    operations = [
        PostgresOnly(FORWARD, BACKWARD),
    ]
