"""Label and Level leave kyc's state for accounts' (accounts 0003); their tables stay."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("kyc", "0001_initial"),
        ("accounts", "0003_label_level_from_kyc"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name="label",
                    name="user",
                ),
                migrations.DeleteModel(
                    name="Level",
                ),
                migrations.DeleteModel(
                    name="Label",
                ),
            ],
            database_operations=[],
        ),
    ]
