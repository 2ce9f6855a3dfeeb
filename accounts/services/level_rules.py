"""The level and state rules applied to a whole batch of users (level resyncs, upgrades).

``accounts.services.resync`` walks the users; this reads the batch's private labels in one range
query and applies the rules a single label change applies (``user_level_compute``,
``user_state_compute``, ``user_state_next``), so both paths always agree.
``unexplained_states_mark`` walks every user once (a migration) to flag as manual the
states their labels do not give.
"""

from collections import defaultdict
from collections.abc import Sequence

from accounts.models import Label, Level
from accounts.services.users import user_level_compute, user_state_compute, user_state_next
from barong.db.sets import filter_ids


def users_level_state_changes(
    *, rows: list[Sequence], levels: list[Level], exact: bool = False, lift: bool = False
) -> list[tuple[Sequence, int, str, bool]]:
    """``rows`` starting with (id, level, state, state_manual), sorted by id → the users that
    move, as (row, new level, new state, new state_manual). A manual state is kept, and so
    is any state but active/pending unless ``lift`` (``user_state_next``).

    The labels are read for the id range of ``rows`` (one index range scan), or for their
    ids only when ``exact`` (a sparse set: the movers of a batch, once locked). Read after
    the caller locked the rows, they are final: a label change locks its user first.
    """
    if not rows:
        return []
    private: dict[int, dict[str, str]] = defaultdict(dict)
    labels = Label.objects.filter(scope=Label.Scope.PRIVATE)
    if exact:
        labels = filter_ids(labels, "user", [row[0] for row in rows])
    else:
        labels = labels.filter(user_id__gte=rows[0][0], user_id__lte=rows[-1][0])
    for user_id, key, value in labels.values_list("user_id", "key", "value"):
        private[user_id][key] = value
    changes = []
    states: dict[frozenset, str] = {}  # few distinct label sets: compute each state once
    for row in rows:
        pk, level, state, manual = row[0], row[1], row[2], row[3]
        labels_of = private.get(pk, {})
        new_level = user_level_compute(private=labels_of, levels=levels)
        signature = frozenset(labels_of.items())
        if signature not in states:
            states[signature] = user_state_compute(private=labels_of)
        new_state, new_manual = user_state_next(
            state=state, manual=manual, computed=states[signature], lift=lift
        )
        if (new_level, new_state) != (level, state):
            changes.append((row, new_level, new_state, new_manual))
    return changes


def _private_labels(label_model, low: int, high: int) -> dict[int, dict[str, str]]:
    private: dict[int, dict[str, str]] = defaultdict(dict)
    labels = label_model.objects.filter(scope="private", user_id__gte=low, user_id__lte=high)
    for user_id, key, value in labels.values_list("user_id", "key", "value"):
        private[user_id][key] = value
    return private


def unexplained_states_mark(*, user_model, label_model, batch: int = 10_000) -> int:
    """Flag as manual (``state_manual``) every state the user's private labels do not give;
    returns how many. Barong set states by hand too (an operator's ban is a state, not a
    label), and a state flagged manual is one no label change or level resync lifts.

    The models are passed in so a migration can hand its historical ones. Users are read
    ``batch`` ids at a time with their labels (two range queries); run again, it flags
    nothing new.
    """
    marked, last = 0, 0
    states: dict[frozenset, str] = {}
    while True:
        users = user_model.objects.filter(pk__gt=last, state_manual=False).order_by("pk")
        rows = list(users.values_list("pk", "state")[:batch])
        if not rows:
            return marked
        private = _private_labels(label_model, rows[0][0], rows[-1][0])
        unexplained = []
        for pk, state in rows:
            labels_of = private.get(pk, {})
            signature = frozenset(labels_of.items())
            if signature not in states:
                states[signature] = user_state_compute(private=labels_of)
            if states[signature] != state:
                unexplained.append(pk)
        if unexplained:
            marked += filter_ids(user_model.objects.all(), "pk", unexplained).update(
                state_manual=True
            )
        last = rows[-1][0]
