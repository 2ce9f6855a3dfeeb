"""Level and state come from private labels only, recomputed on every change."""

import pytest

from accounts.models import Label, Level
from accounts.services import (
    label_delete,
    label_set,
    user_level_compute,
    user_level_sync,
    user_state_compute,
)

LEVELS = [
    Level(id=1, key="email", value="verified"),
    Level(id=2, key="phone", value="verified"),
    Level(id=3, key="document", value="verified"),
]


@pytest.mark.parametrize(
    ("private", "level"),
    [
        ({}, 0),
        ({"email": "verified"}, 1),
        ({"email": "verified", "phone": "verified"}, 2),
        ({"email": "verified", "phone": "verified", "document": "verified"}, 3),
        ({"phone": "verified", "document": "verified"}, 0),
        ({"email": "verified", "document": "verified"}, 1),
        ({"email": "verified", "phone": "pending"}, 1),
        ({"email": "pending", "phone": "verified", "document": "verified"}, 0),
        ({"email": "verified", "phone": "verified", "document": "pending"}, 2),
        ({"email": "verified", "phone": "verified", "document": "replaced"}, 2),
    ],
)
def test_level_is_the_unbroken_walk_of_levels(private, level):
    assert user_level_compute(private=private, levels=LEVELS) == level


@pytest.mark.parametrize(
    ("private", "state"),
    [
        ({}, "pending"),
        ({"email": "verified"}, "active"),
        ({"email": "pending"}, "pending"),
        ({"email": "verified", "ban": "by_admin"}, "banned"),
        ({"email": "verified", "banned_for_spam": "yes"}, "banned"),
        ({"fraud": "confirmed"}, "banned"),
        ({"email": "verified", "delete": "by_user"}, "deleted"),
        ({"email": "verified", "lock": "by_admin"}, "locked"),
        ({"email": "verified", "suspicious": "activity"}, "locked"),
        # later triggers win: locked beats deleted beats banned
        ({"ban": "x", "delete": "by_user"}, "deleted"),
        ({"ban": "x", "lock": "x"}, "locked"),
        ({"delete": "by_user", "suspicious": "x"}, "locked"),
        ({"ban": "x", "delete": "x", "lock": "x", "email": "verified"}, "locked"),
    ],
)
def test_state_from_activation_labels_and_triggers(settings, private, state):
    assert user_state_compute(private=private) == state


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("labels", "level", "state"),
    [
        ([("email", "verified")], 1, "active"),
        ([("email", "verified"), ("phone", "verified")], 2, "active"),
        ([("email", "verified"), ("phone", "verified"), ("document", "verified")], 3, "active"),
        ([("phone", "verified"), ("document", "verified")], 0, "pending"),
        ([("email", "verified"), ("ban", "by_admin")], 1, "banned"),
        ([("email", "verified"), ("fraud", "confirmed")], 1, "banned"),
        ([("email", "verified"), ("delete", "by_user")], 1, "deleted"),
        ([("email", "verified"), ("lock", "by_admin"), ("ban", "by_admin")], 1, "locked"),
    ],
)
def test_sync_stores_level_and_state(make_user, labels, level, state):
    user = make_user(verified=False)
    for key, value in labels:
        label_set(user=user, key=key, value=value, scope="private")

    user.refresh_from_db()
    assert (user.level, user.state) == (level, state)
    assert user_level_sync(user=user).level == level


@pytest.mark.django_db
@pytest.mark.parametrize("trigger", ["ban", "fraud", "delete", "lock", "suspicious"])
def test_removing_a_trigger_restores_the_computed_state(make_user, trigger):
    user = make_user(labels={"phone": "verified"})
    label_set(user=user, key=trigger, value="by_admin", scope="private")
    user.refresh_from_db()
    assert user.state != "active"

    label_delete(label=Label.objects.get(user=user, key=trigger))

    user.refresh_from_db()
    assert (user.state, user.level) == ("active", 2)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("key", "value"),
    [("email", "verified"), ("phone", "verified"), ("ban", "by_admin"), ("lock", "by_admin")],
)
def test_public_labels_never_count(make_user, key, value):
    user = make_user(verified=False)

    label_set(user=user, key=key, value=value, scope="public")
    user_level_sync(user=user)

    user.refresh_from_db()
    assert (user.level, user.state) == (0, "pending")
