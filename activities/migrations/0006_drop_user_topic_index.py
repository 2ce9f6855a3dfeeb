"""Drop the ``(user, topic, id)`` index: no read needs it, and every login paid for it.

It served a user's own activity by topic (``/resource/users/activity/{topic}``), which
``activities_user_time`` (user, created_at, id) serves as well: a user's rows are found
there and the few of them sorted. The device check at login reads that index too. With
seven indexes each activity row was eight index insertions, the login's largest write
(docs/BENCHMARKS.md, "Writes into big tables").
"""

from django.db import migrations

from barong.db.operations import RemoveIndexOnline


class Migration(migrations.Migration):
    atomic = False  # DROP INDEX CONCURRENTLY on PostgreSQL

    dependencies = [
        ("activities", "0005_metrics_first_rollup"),
    ]

    operations = [
        RemoveIndexOnline(model_name="activity", name="activities_user_id_a09889_idx"),
    ]
