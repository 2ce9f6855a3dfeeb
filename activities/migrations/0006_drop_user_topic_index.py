"""Drop two activities indexes no read needs; every login paid for both.

``(user, topic, id)`` served a user's own activity by topic
(``/resource/users/activity/{topic}``), and the foreign key's own ``user_id`` index the
lookups by user: ``activities_user_time`` (user, created_at, id) starts with the user and
serves both (the own activity is listed in its order). With eight secondary indexes each
activity row was nine index insertions, the login's largest write (docs/BENCHMARKS.md,
"Writes into big tables").
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from barong.db.operations import RemoveIndexOnline


class Migration(migrations.Migration):
    atomic = False  # DROP INDEX CONCURRENTLY on PostgreSQL

    dependencies = [
        ("activities", "0005_metrics_first_rollup"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        RemoveIndexOnline(model_name="activity", name="activities_user_id_a09889_idx"),
        migrations.AlterField(
            model_name="activity",
            name="user",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="activities",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
    ]
