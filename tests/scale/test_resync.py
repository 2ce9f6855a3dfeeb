"""Level resyncs: set-based, batched, idempotent, resumable, and never undo a manual state."""

import pytest

from accounts.models import Label, Level, ResyncJob, User
from accounts.services import (
    label_set,
    level_admin_save,
    user_level_compute,
    user_state_compute,
)
from accounts.services.resync import resync_batch, resync_run, users_resync_range
from tests.admin_api.conftest import ADMIN

pytestmark = pytest.mark.django_db

LABEL_SETS = [
    {},
    {"phone": "verified"},
    {"phone": "verified", "document": "verified"},
    {"document": "verified"},  # a gap: level 1 only
    {"phone": "verified", "ban": "by_admin"},
    {"phone": "verified", "fraud_2024": "confirmed"},
    {"phone": "verified", "delete": "myself"},
    {"phone": "verified", "suspicious": "login", "ban": "spam"},
]


def python_rule(user: User) -> tuple[int, str]:
    private = dict(user.labels.filter(scope="private").values_list("key", "value"))
    levels = list(Level.objects.order_by("id"))
    return user_level_compute(private=private, levels=levels), user_state_compute(private=private)


def scramble(users: list[User]) -> None:
    """Forget every stored level and state, as a level-table change would make them stale."""
    User.objects.filter(pk__in=[u.pk for u in users]).update(level=7, state="pending")


def test_the_sql_rule_matches_the_python_rule(make_user):
    users = [make_user(labels=labels) for labels in LABEL_SETS]
    users.append(make_user(verified=False, labels={"phone": "verified"}))
    expected = {user.pk: python_rule(user) for user in users}
    scramble(users)

    changed = users_resync_range(low=0, high=max(expected))

    assert changed == len(users)
    stored = {pk: (lv, st) for pk, lv, st in User.objects.values_list("pk", "level", "state")}
    assert {pk: stored[pk] for pk in expected} == expected


def test_a_resync_is_idempotent(make_user):
    users = [make_user(labels=labels) for labels in LABEL_SETS]
    scramble(users)
    top = max(u.pk for u in users)

    assert users_resync_range(low=0, high=top) == len(users)
    assert users_resync_range(low=0, high=top) == 0


def test_an_operator_ban_survives_a_level_resync(
    make_user, sa_api, superadmin, django_capture_on_commit_callbacks
):
    member = make_user(labels={"phone": "verified", "document": "verified"})
    response = sa_api.post(f"{ADMIN}/users/update", {"uid": member.uid, "state": "banned"})
    assert response.status_code == 200
    member.refresh_from_db()
    assert (member.state, member.state_manual) == ("banned", True)

    with django_capture_on_commit_callbacks(execute=True):
        level_admin_save(admin=superadmin, id=2, key="phone", value="checked", description="d")

    member.refresh_from_db()
    assert (member.level, member.state, member.state_manual) == (1, "banned", True)
    job = ResyncJob.objects.get()
    assert (job.state, job.from_level, job.progress_percent) == ("done", 1, 100)


def _as_upgraded_barong_holds_them(user: User, state: str) -> None:
    """A Barong operator set the state directly: no label gives it, and ``state_manual``
    is false (accounts 0004 added it so)."""
    User.objects.filter(pk=user.pk).update(state=state, state_manual=False)


@pytest.mark.parametrize("state", ["banned", "locked", "deleted", "frozen"])
def test_a_level_edit_never_lifts_a_block_whatever_the_flag(
    make_user, superadmin, django_capture_on_commit_callbacks, state
):
    """Level 2 renamed: the resync re-evaluates every user at level 1 or above; it moves
    their levels and leaves any state but active/pending as it is."""
    blocked = make_user(labels={"phone": "verified"})
    _as_upgraded_barong_holds_them(blocked, state)
    active = make_user(labels={"phone": "verified"})

    with django_capture_on_commit_callbacks(execute=True):
        level_admin_save(admin=superadmin, id=2, key="phone", value="checked", description="d")

    blocked.refresh_from_db()
    assert (blocked.level, blocked.state, blocked.state_manual) == (1, state, False)
    active.refresh_from_db()
    assert (active.level, active.state) == (1, "active")
    assert ResyncJob.objects.get().state == "done"


def test_a_resync_still_blocks_but_never_lifts(make_user):
    labelled = make_user(labels={"phone": "verified"})
    Label.objects.create(user=labelled, key="ban", value="spam", scope="private")  # not synced
    unlabelled = make_user(labels={"phone": "verified"})
    _as_upgraded_barong_holds_them(unlabelled, "banned")
    top = max(labelled.pk, unlabelled.pk)

    users_resync_range(low=0, high=top)

    assert User.objects.get(pk=labelled.pk).state == "banned"
    assert User.objects.get(pk=unlabelled.pk).state == "banned"


def test_a_manual_active_state_still_yields_to_a_blocking_label(make_user, superadmin):
    """A state set by hand stays against label changes, except that a ban, lock or deletion
    label still blocks; the state then follows the labels again, so removing it lifts."""
    from accounts.services import label_delete, user_state_admin_set

    member = make_user(verified=False)
    user_state_admin_set(admin=superadmin, user=member, state="active")  # no e-mail label
    label_set(user=member, key="phone", value="verified", scope="private")
    member.refresh_from_db()
    assert (member.state, member.state_manual) == ("active", True)

    ban = label_set(user=member, key="ban", value="fraud", scope="private")

    member.refresh_from_db()
    assert (member.state, member.state_manual) == ("banned", False)
    label_delete(label=ban)
    member.refresh_from_db()
    assert (member.state, member.state_manual) == ("pending", False)


def test_a_manual_state_survives_label_changes_until_released(make_user, superadmin):
    from accounts.services import user_state_admin_set
    from accounts.services.operators import user_state_admin_release

    member = make_user(labels={"phone": "verified"})
    user_state_admin_set(admin=superadmin, user=member, state="locked")

    label_set(user=member, key="document", value="verified", scope="private")
    member.refresh_from_db()
    assert (member.level, member.state) == (3, "locked")

    user_state_admin_release(admin=superadmin, user=member)
    member.refresh_from_db()
    assert (member.state, member.state_manual) == ("active", False)


def test_a_level_edit_returns_before_any_user_moves(make_user, superadmin):
    member = make_user(labels={"phone": "verified"})

    level_admin_save(admin=superadmin, id=2, key="phone", value="checked", description="d")

    member.refresh_from_db()
    assert member.level == 2  # the job runs after the commit, on a worker
    assert ResyncJob.objects.get().state == "queued"


def test_a_stopped_job_resumes_where_it_stopped(make_user, settings):
    settings.BARONG_RESYNC_BATCH = 2
    users = [make_user(labels={"phone": "verified"}) for _ in range(5)]
    scramble(users)
    top = max(u.pk for u in users)
    job = ResyncJob.objects.create(reason="test", max_user_id=top)

    assert resync_batch(job_id=job.pk)  # one batch, then the worker "dies"
    job.refresh_from_db()
    assert (job.state, job.last_user_id) == ("running", 2)
    resync_run(job_id=job.pk)

    job.refresh_from_db()
    assert (job.state, job.last_user_id, job.processed) == ("done", top, top)
    assert set(User.objects.filter(pk__in=[u.pk for u in users]).values_list("level")) == {(2,)}
    assert job.changed == len(users)


def test_the_resume_task_requeues_only_stalled_jobs(settings):
    from accounts.services.resync import resync_stalled

    settings.BARONG_RESYNC_STALL_SECONDS = 0
    fresh = ResyncJob.objects.create(reason="fresh")
    done = ResyncJob.objects.create(reason="done", state="done")

    assert fresh.pk in resync_stalled()
    assert done.pk not in resync_stalled()


def test_a_resync_drops_the_authz_snapshot_of_moved_users(make_user):
    from django.core.cache import cache

    from permissions.snapshots import user_key, user_snapshot

    member = make_user(labels={"phone": "verified"})
    assert user_snapshot(member.uid)["level"] == 2
    Label.objects.filter(user=member, key="phone").delete()  # bypassing the services

    users_resync_range(low=member.pk - 1, high=member.pk)

    assert cache.get(user_key(member.uid)) is None
    assert user_snapshot(member.uid)["level"] == 1


def test_a_resync_records_the_user_update_events_a_label_change_would(make_user):
    from events.models import OutboxEvent

    member = make_user(labels={"phone": "verified"})
    Label.objects.filter(user=member, key="phone").delete()  # bypassing the services
    before = OutboxEvent.objects.count()

    users_resync_range(low=member.pk - 1, high=member.pk)

    event = OutboxEvent.objects.order_by("-id").first()
    assert OutboxEvent.objects.count() == before + 1
    assert (event.category, event.routing_key, event.aggregate) == (
        "model",
        "user.updated",
        f"user:{member.uid}",
    )
    assert event.payload["record"]["level"] == 1
    assert event.payload["changes"]["level"] == 2


def test_a_high_level_edit_walks_only_the_users_at_that_level(make_user, settings):
    settings.BARONG_RESYNC_BATCH = 2
    below = [make_user(labels={"phone": "verified"}) for _ in range(8)]
    above = [make_user(labels={"phone": "verified", "document": "verified"}) for _ in range(3)]
    banned = make_user(labels={"phone": "verified", "document": "verified"})
    User.objects.filter(pk=banned.pk).update(state="banned")  # as Barong's operators set it
    Level.objects.filter(pk=3).update(value="checked")
    top = max(u.pk for u in [*below, *above, banned])
    job = ResyncJob.objects.create(reason="test", from_level=3, max_user_id=top)

    batches = 0
    while resync_batch(job_id=job.pk):
        batches += 1

    job.refresh_from_db()
    assert batches == 2  # four users at level 3, two a batch; the eight below are skipped
    assert (job.state, job.last_user_id, job.changed) == ("done", top, 4)
    assert set(User.objects.filter(pk__in=[u.pk for u in above]).values_list("level")) == {(2,)}
    banned.refresh_from_db()
    assert (banned.level, banned.state) == (2, "banned")
    assert {u.level for u in User.objects.filter(pk__in=[u.pk for u in below])} == {2}


def test_a_level_edit_evaluates_only_the_users_it_may_move(
    make_user, superadmin, monkeypatch, django_capture_on_commit_callbacks
):
    """An edit of level 3 moves down the users at 3 without its new label and up those at 2
    with it; the users at 2 without it are not read (at 10M users: 500k evaluated, not
    5.5M). Bans stay, and the answer is the one a full evaluation gives."""
    import accounts.services.resync as resync

    unaffected = [make_user(labels={"phone": "verified"}) for _ in range(6)]
    verified = [make_user(labels={"phone": "verified", "document": "verified"}) for _ in range(3)]
    checked = make_user(labels={"phone": "verified", "document": "checked"})  # at level 2 now
    kept = make_user(labels={"phone": "verified", "document": "verified"})
    label_set(user=kept, key="document", value="checked", scope="private")  # level 3, stays
    banned = make_user(labels={"phone": "verified", "document": "verified"})
    User.objects.filter(pk=banned.pk).update(state="banned")  # as Barong's operators set it
    evaluated: list[int] = []
    rule = resync.users_level_state_changes

    def counting(*, rows, **kwargs):
        evaluated.extend(row[0] for row in rows)
        return rule(rows=rows, **kwargs)

    monkeypatch.setattr(resync, "users_level_state_changes", counting)
    with django_capture_on_commit_callbacks(execute=True):  # the job runs after the commit
        level_admin_save(admin=superadmin, id=3, key="document", value="checked", description="d")
    assert ResyncJob.objects.get().state == "done"

    levels = dict(User.objects.values_list("pk", "level"))
    assert [levels[u.pk] for u in verified] == [2, 2, 2]
    assert (levels[checked.pk], levels[kept.pk], levels[banned.pk]) == (3, 3, 2)
    assert User.objects.get(pk=banned.pk).state == "banned"
    assert all(levels[u.pk] == 2 for u in unaffected)
    assert not {u.pk for u in unaffected} & set(evaluated)
    everyone = [*unaffected, *verified, checked, kept]
    for user in User.objects.filter(pk__in=[u.pk for u in everyone]):
        assert (user.level, user.state) == python_rule(user)
