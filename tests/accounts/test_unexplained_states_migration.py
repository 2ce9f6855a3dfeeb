"""accounts 0010 on a database as an upgraded Barong 2.4 holds it: states no label gives
become manual, so the next level edit lifts no ban.

The test walks the test database back to accounts 0009, writes users the way Barong left
them (a ban set by an operator without a ``ban`` label, ``state_manual`` false as 0004
added it) through the models of that state, migrates forward, then edits a level. It runs
on whichever database the suite uses (SQLite locally, PostgreSQL in CI).
"""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accounts.models import ResyncJob, User
from accounts.services import level_admin_save
from tests.accounts.conftest import migrate_to
from tests.factories import make_admin_user

BEFORE = [("accounts", "0009_label_statistics")]
# (state Barong stored, its private labels, flagged manual after the migration)
ROWS = {
    "ID00UPGRADE1": ("banned", {"email": "verified", "phone": "verified"}, True),
    "ID00UPGRADE2": ("locked", {}, True),
    "ID00UPGRADE3": ("deleted", {"email": "verified"}, True),
    "ID00UPGRADE4": ("active", {}, True),  # activated by hand, no e-mail label
    "ID00UPGRADE5": ("pending", {"email": "verified"}, True),
    "ID00UPGRADE6": ("active", {"email": "verified", "phone": "verified"}, False),
    "ID00UPGRADE7": ("banned", {"email": "verified", "ban": "spam"}, False),
    "ID00UPGRADE8": ("pending", {}, False),
}


@pytest.mark.django_db(transaction=True)
def test_upgraded_barong_states_become_manual_and_survive_a_level_edit():
    leaves = MigrationExecutor(connection).loader.graph.leaf_nodes()
    old = migrate_to(BEFORE)
    old_user, old_label = old.get_model("accounts", "User"), old.get_model("accounts", "Label")
    for uid, (state, labels, _) in ROWS.items():
        user = old_user.objects.create(
            uid=uid, email=f"{uid.lower()}@example.com", password="x", state=state, level=1
        )
        for key, value in labels.items():
            old_label.objects.create(user_id=user.pk, key=key, value=value, scope="private")
    assert not old_user.objects.filter(uid__in=ROWS, state_manual=True).exists()

    migrate_to(leaves)

    manual = dict(User.objects.filter(uid__in=ROWS).values_list("uid", "state_manual"))
    assert manual == {uid: flag for uid, (_, _, flag) in ROWS.items()}
    migrate_to(BEFORE)  # run again: nothing new is flagged, nothing unflagged
    migrate_to(leaves)
    assert dict(User.objects.filter(uid__in=ROWS).values_list("uid", "state_manual")) == manual

    # A level rule change re-evaluates every user at level 1 or above.
    level_admin_save(
        admin=make_admin_user(), id=2, key="phone", value="checked", description="renamed"
    )

    assert ResyncJob.objects.get().state == "done"
    states = dict(User.objects.filter(uid__in=ROWS).values_list("uid", "state"))
    assert states == {uid: state for uid, (state, _, _) in ROWS.items()}
