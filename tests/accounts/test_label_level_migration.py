"""Label and Level moved from kyc to accounts: a database migrated before the move keeps its rows.

The test walks the test database back to the last state before the move (accounts 0002,
kyc 0001), writes rows through the models of that state, and migrates forward again: the
same rows are read through accounts' models, and the content types (which the operators'
permission rows and the admin log point at) keep their ids. It runs on whichever database
the suite uses (SQLite locally, PostgreSQL in CI).
"""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accounts.models import Label, Level
from tests.accounts.conftest import migrate_to

BEFORE = [("accounts", "0002_drop_user_version"), ("kyc", "0001_initial")]


@pytest.mark.django_db(transaction=True)
def test_rows_survive_the_move_from_kyc_to_accounts():
    label_type = ContentType.objects.get_for_model(Label).pk
    leaves = MigrationExecutor(connection).loader.graph.leaf_nodes()

    old = migrate_to(BEFORE)
    assert ContentType.objects.filter(app_label="kyc", model="label", pk=label_type).exists()
    user = old.get_model("accounts", "User").objects.create(
        uid="ID00MIGRATE1", email="moved@example.com", password="x"
    )
    old.get_model("kyc", "Level").objects.create(id=77, key="moved", value="kept", description="d")
    old_label = old.get_model("kyc", "Label").objects.create(
        user_id=user.pk, key="document", value="verified", scope="private", description="kept"
    )

    migrate_to(leaves)

    label = Label.objects.get(pk=old_label.pk)
    assert (label.user_id, label.key, label.value, label.scope, label.description) == (
        user.pk,
        "document",
        "verified",
        "private",
        "kept",
    )
    assert Level.objects.filter(pk=77, key="moved", value="kept").exists()
    assert ContentType.objects.get(app_label="accounts", model="label").pk == label_type
    assert not ContentType.objects.filter(app_label="kyc", model__in=["label", "level"]).exists()
    # The moved model writes to the same table: a new row lands next to the old one.
    Label.objects.create(user_id=user.pk, key="email", value="verified", scope="private")
    assert Label.objects.filter(user_id=user.pk).count() == 2
