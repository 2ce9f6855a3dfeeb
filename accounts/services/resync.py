"""Recompute every user's level and state after a level or label-rule change, in batches.

A level edit returns at once: ``resync_job_start`` records a ``ResyncJob`` and queues
``resync_run`` (Celery, after commit). The task walks users in primary-key order,
``BARONG_RESYNC_BATCH`` ids at a time. Each batch reads its users and their private labels
in two range queries and applies the rules a single label change applies
(accounts/services/level_rules.py); then, in one transaction, it locks only the users that move,
recomputes them from labels read after the lock, rewrites them (one UPDATE per (level,
state) pair), records one ``model.user.updated`` each (built from the locked rows, written
in bulk: events/bulk.py), ends the sessions of those it bans, locks or deletes, and moves
the job's resume point. Re-running a batch changes nothing, a crashed job resumes from
``last_user_id`` (``resync_resume``, beat), a state an operator set by hand
(``state_manual``) is never lifted, and neither is any ban, lock or deletion
(``accounts.services.users.user_state_next``).
Measured at a million users: docs/BENCHMARKS.md."""

import logging
from collections import defaultdict
from datetime import datetime, timedelta

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, Max, OuterRef
from django.utils import timezone

from accounts.events import uid_aggregate, user_event_record
from accounts.models import Label, Level, ResyncJob, User
from accounts.services.level_rules import users_level_state_changes
from accounts.services.users import users_sessions_end
from accounts.sessions import ACTIVE_STATES
from accounts.signals import users_api_access_lost, users_updated_in_bulk
from barong.db.sets import filter_pks
from events.services import event_records_updated

logger = logging.getLogger(__name__)


# What a batch reads of the users that move: the rules' inputs first (id, level, state,
# state_manual: accounts/services/level_rules.py), then what their ``model.user.updated`` shows.
_MOVER_COLUMNS = (
    "pk",
    "level",
    "state",
    "state_manual",
    "uid",
    "email",
    "role",
    "otp",
    "created_at",
    "referral__uid",
)


def _edited_level(from_level: int, levels: list[Level]) -> Level | None:
    """The level whose edit queued a job from ``from_level`` (``level_admin_save`` queues
    the edit of level N from N - 1), or None for a job from 0 (every user)."""
    if from_level <= 0:
        return None
    return next((level for level in levels if level.pk == from_level + 1), None)


def _edit_may_move(low: int, high: int, edited: Level) -> list[tuple]:
    """The users of ``(low, high]`` an edit of level N may move: at level N or above without
    its (key, value) now, or at N - 1 with it. Every other user's level is decided by the
    levels below N or by a label that still matches, as before the edit. Two index reads:
    the users at N and above (``users_level_id``) less those with the label, and the users
    having the label (``labels_key_value_user``) at N - 1. At 10M users an edit of level 3
    re-evaluated the 5.5M users at level 2 and above; these are its 500k."""
    has_label = Label.objects.filter(
        user=OuterRef("pk"), scope=Label.Scope.PRIVATE, key=edited.key, value=edited.value
    )
    users = User.objects.filter(pk__gt=low, pk__lte=high)
    down = users.filter(~Exists(has_label), level__gte=edited.pk)
    labelled = Label.objects.filter(
        scope=Label.Scope.PRIVATE, key=edited.key, value=edited.value, user_id__gt=low
    ).filter(user_id__lte=high)
    up = users.filter(level=edited.pk - 1, pk__in=labelled.values("user_id"))
    columns = _MOVER_COLUMNS[:4]
    rows = [*down.values_list(*columns), *up.values_list(*columns)]
    return sorted(rows)


def _candidates(low: int, high: int, from_level: int, levels: list[Level], lift: bool) -> list[int]:
    """Ids of the users in ``(low, high]`` that move, from one unlocked range read (with the
    batch's labels): most users of most batches do not move, and stay unlocked. When the
    level filter leaves few users of the range, their labels are read by id, not for the
    whole range. A level edit's job reads only the users the edit may move, and takes
    them all."""
    edited = _edited_level(from_level, levels)
    if edited is not None:
        # Each of them moves (its level changes with the edit), so their labels are read
        # once, after the lock (``users_resync_range``), not also here.
        return [row[0] for row in _edit_may_move(low, high, edited)]
    users = User.objects.filter(pk__gt=low, pk__lte=high, level__gte=from_level)
    rows = list(users.order_by("pk").values_list(*_MOVER_COLUMNS[:4]))
    sparse = len(rows) * 4 < high - low
    moves = users_level_state_changes(rows=rows, levels=levels, exact=sparse, lift=lift)
    return [row[0] for row, *_ in moves]


def _batch_high(*, low: int, top: int, from_level: int, size: int) -> int:
    """Where a batch ends: ``size`` ids further, or, for a job from a level above 0, after
    the ``size``-th user at or above that level (one ``(level, id)`` index range per
    level). An edit of a high level re-evaluates few users however many there are in all:
    its batches skip the ids of the users below it (at 10M users, 500k re-evaluated
    walked 10M ids in 2,000 batches; now 100)."""
    if from_level <= 0:
        return min(low + size, top)
    # A level edit's batches count the users at the edited level and above (the users
    # below it that may move are found by their label, ``_edit_may_move``).
    if Level.objects.filter(pk=from_level + 1).exists():
        from_level += 1
    ids: list[int] = []
    for level in Level.objects.filter(pk__gte=from_level).values_list("pk", flat=True):
        users = User.objects.filter(level=level, pk__gt=low, pk__lte=top).order_by("pk")
        ids.extend(users.values_list("pk", flat=True)[:size])
    if len(ids) < size:
        return top
    return sorted(ids)[size - 1]


def _lock(ids: list[int]) -> list[tuple]:
    """Lock these users' rows, in id order, and read them back as they now are (with their
    referral's uid, for the events)."""
    users = filter_pks(User.objects.select_for_update(of=("self",)), ids)
    return list(users.order_by("pk").values_list(*_MOVER_COLUMNS))


def users_resync_range(*, low: int, high: int, from_level: int = 0, lift: bool = False) -> int:
    """Recompute users with ``low < id <= high`` and ``level >= from_level``; returns changed.

    A ban, lock, deletion or any state but active/pending stays, whatever ``state_manual``
    says (a Barong database brought over holds such states without the labels that
    explain them), unless ``lift``: an operator handing a state back to the labels.
    """
    levels = list(Level.objects.order_by("id"))
    candidates = _candidates(low, high, from_level, levels, lift)
    if not candidates:
        return 0
    # Label writers lock the user row first: once locked, no label change is in flight, so
    # the values computed again now, from labels read after the lock, are final. A user who
    # moved meanwhile but was not a candidate was recomputed by that label change itself.
    rows = _lock(candidates)
    moves = users_level_state_changes(rows=rows, levels=levels, exact=True, lift=lift)
    if not moves:
        return 0
    now = timezone.now()
    groups: dict[tuple[int, str, bool], list[int]] = defaultdict(list)
    for row, new_level, new_state, new_manual in moves:
        groups[(new_level, new_state, new_manual)].append(row[0])
    for (new_level, new_state, new_manual), pks in groups.items():
        filter_pks(User.objects.all(), pks).update(
            level=new_level, state=new_state, state_manual=new_manual, updated_at=now
        )
    _events_record(moves, now)
    users_updated_in_bulk.send(
        sender=User, ids=[row[0] for row, *_ in moves], uids=[row[4] for row, *_ in moves]
    )
    lost = [
        row[0] for row, _level, state, _manual in moves if state not in (row[2], User.State.ACTIVE)
    ]
    if lost:
        users_api_access_lost.send(sender=User, ids=lost)
    ended = [
        row[4] for row, _level, state, _manual in moves if state not in (row[2], *ACTIVE_STATES)
    ]
    if ended:
        users_sessions_end(uids=ended)
    return len(moves)


def _events_record(moves: list[tuple[tuple, int, str, bool]], now: datetime) -> None:
    """``model.user.updated`` for each moved user, built from the locked rows: the record and
    changes ``user_event_updated`` records for the same move (level and state in one event)."""
    items = []
    for row, new_level, new_state, _new_manual in moves:
        _pk, level, state, _manual, uid, email, role, otp, created_at, referral_uid = row
        after = user_event_record(
            uid=uid,
            email=email,
            role=role,
            level=new_level,
            otp=otp,
            state=new_state,
            referral_uid=referral_uid,
            created_at=created_at,
            updated_at=now,
        )
        # Only level and state differ (``updated_at`` is never part of ``changes``).
        before = {**after, "level": level, "state": state}
        items.append((before, after, uid_aggregate(uid)))
    event_records_updated(name="model.user.updated", items=items)


def resync_job_start(*, reason: str, from_level: int = 0) -> ResyncJob:
    """Record a resync of every user at or above ``from_level`` and queue it after commit."""
    job = ResyncJob.objects.create(
        reason=reason[:255],
        from_level=max(from_level, 0),
        max_user_id=User.objects.aggregate(top=Max("pk"))["top"] or 0,
    )
    transaction.on_commit(lambda: resync_job_run.delay(job.pk), robust=True)
    return job


def resync_batch(*, job_id: int) -> bool:
    """Advance the job by one batch; False once there is nothing left (or it is not ours)."""
    with transaction.atomic():
        job = ResyncJob.objects.select_for_update(skip_locked=True).filter(pk=job_id).first()
        if job is None or job.state == ResyncJob.State.DONE:
            return False
        if job.last_user_id >= job.max_user_id:
            job.state, job.finished_at = ResyncJob.State.DONE, timezone.now()
            job.save(update_fields=["state", "finished_at", "updated_at"])
            return False
        high = _batch_high(
            low=job.last_user_id,
            top=job.max_user_id,
            from_level=job.from_level,
            size=settings.BARONG_RESYNC_BATCH,
        )
        job.changed += users_resync_range(
            low=job.last_user_id, high=high, from_level=job.from_level
        )
        job.processed += high - job.last_user_id
        job.last_user_id = high
        job.state = ResyncJob.State.RUNNING
        job.save(update_fields=["changed", "processed", "last_user_id", "state", "updated_at"])
        return True


def resync_run(*, job_id: int) -> ResyncJob | None:
    """Run a job's batches to the end; a failure is recorded on the job and re-raised."""
    try:
        while resync_batch(job_id=job_id):
            pass
    except Exception as exc:
        logger.exception("resync job %s failed", job_id)
        ResyncJob.objects.filter(pk=job_id).update(
            state=ResyncJob.State.FAILED, error=repr(exc)[:2000], updated_at=timezone.now()
        )
        raise
    return ResyncJob.objects.filter(pk=job_id).first()


# The task keeps the name it had when it lived in accounts/tasks.py: jobs already queued in
# a broker across an upgrade still find it.
@shared_task(name="accounts.resync_run", acks_late=True)
def resync_job_run(job_id: int) -> int:
    """Run a level resync job to its end (``resync_run``); resumes where it stopped."""
    job = resync_run(job_id=job_id)
    return job.changed if job is not None else 0


def resync_stalled() -> list[int]:
    """Unfinished jobs nobody advanced for ``BARONG_RESYNC_STALL_SECONDS`` (a worker died,
    or a batch failed): the beat task queues them again and they resume."""
    stale = timezone.now() - timedelta(seconds=settings.BARONG_RESYNC_STALL_SECONDS)
    unfinished = (ResyncJob.State.QUEUED, ResyncJob.State.RUNNING, ResyncJob.State.FAILED)
    return list(
        ResyncJob.objects.filter(state__in=unfinished, updated_at__lt=stale).values_list(
            "pk", flat=True
        )
    )
