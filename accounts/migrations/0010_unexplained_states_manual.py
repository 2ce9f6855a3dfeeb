"""States the labels do not explain become manual: a Barong database brought over.

Barong let operators set a state directly (``PUT /admin/users``), so an upgraded
database holds banned, locked or deleted users without the label that would give that
state, and active users without the labels activation asks for. ``state_manual``
(accounts 0004) came in as false for all of them, and the next label change or level
resync recomputed their state from labels: banned users became active. This flags each
state the user's private labels do not give as manual (``accounts.services.level_rules``), in
batches outside one long transaction; run again, it finds nothing new.
"""

from django.db import migrations

from accounts.services.level_rules import unexplained_states_mark


def mark(apps, schema_editor) -> None:
    unexplained_states_mark(
        user_model=apps.get_model("accounts", "User"),
        label_model=apps.get_model("accounts", "Label"),
    )


class Migration(migrations.Migration):
    atomic = False  # batches commit one by one; a rerun resumes (it skips manual states)

    dependencies = [
        ("accounts", "0009_label_statistics"),
    ]

    operations = [
        migrations.RunPython(mark, migrations.RunPython.noop, elidable=True),
    ]
