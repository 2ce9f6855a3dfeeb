"""The level and state rules applied to a whole batch of users (level resyncs).

``accounts.resync`` walks the users; this reads the batch's private labels in one range
query and applies the rules a single label change applies (``user_level_compute``,
``user_state_compute``), so both paths always agree.
"""

from collections import defaultdict

from accounts.models import Label, Level
from accounts.services.users import user_level_compute, user_state_compute


def users_level_state_changes(*, rows: list[tuple]) -> list[tuple]:
    """``rows`` of (id, uid, level, state, state_manual), sorted by id → the users that move,
    as (id, uid, state, new level, new state). A manual state is kept."""
    if not rows:
        return []
    private: dict[int, dict[str, str]] = defaultdict(dict)
    labels = Label.objects.filter(
        scope=Label.Scope.PRIVATE, user_id__gte=rows[0][0], user_id__lte=rows[-1][0]
    )
    for user_id, key, value in labels.values_list("user_id", "key", "value"):
        private[user_id][key] = value
    levels = list(Level.objects.order_by("id"))
    changes = []
    states: dict[frozenset, str] = {}  # few distinct label sets: compute each state once
    for pk, uid, level, state, manual in rows:
        labels_of = private.get(pk, {})
        new_level = user_level_compute(private=labels_of, levels=levels)
        if manual:
            new_state = state
        else:
            signature = frozenset(labels_of.items())
            if signature not in states:
                states[signature] = user_state_compute(private=labels_of)
            new_state = states[signature]
        if (new_level, new_state) != (level, state):
            changes.append((pk, uid, state, new_level, new_state))
    return changes
