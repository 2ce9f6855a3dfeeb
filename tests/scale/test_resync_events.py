"""What a level resync records and triggers for the users it moves: the events, caches and
API keys a single label change would, written in bulk (COPY on PostgreSQL)."""

import uuid

import pytest

from accounts.models import Label, ResyncJob, User
from accounts.services import label_delete, label_set, user_otp_set
from accounts.services.resync import resync_batch, resync_run, users_resync_range
from accounts.signals import users_updated_in_bulk
from apikeys.models import APIKey
from apikeys.services import api_key_create
from events.models import OutboxEvent
from tests.events.test_relay import closed_port_url

pytestmark = pytest.mark.django_db

ROW_FIELDS = ("category", "routing_key", "aggregate", "context", "publish", "mail", "attempts")


def user_updates(after: int) -> list[OutboxEvent]:
    return list(OutboxEvent.objects.filter(pk__gt=after, routing_key="user.updated").order_by("id"))


def last_event_id() -> int:
    return OutboxEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def comparable(event: OutboxEvent) -> dict:
    """The row as a consumer sees it; ``updated_at`` is the moment of each change."""
    payload = {**event.payload, "record": dict(event.payload["record"])}
    assert payload["record"].pop("updated_at")
    row = {field: getattr(event, field) for field in ROW_FIELDS}
    return {**row, "payload": payload, "pending": event.delivered_at is None}


def phone_removed(member: User, *, service: bool) -> None:
    """Level 2 → 1: the private phone label goes."""
    if service:
        label_delete(label=Label.objects.get(user=member, key="phone"))
    else:
        Label.objects.filter(user=member, key="phone").delete()


def phone_restored(member: User) -> None:
    Label.objects.create(user=member, key="phone", value="verified", scope="private")
    User.objects.filter(pk=member.pk).update(level=2)


def ban_added(member: User, *, service: bool) -> None:
    """active → banned: a private ban label arrives (the level stays)."""
    if service:
        label_set(user=member, key="ban", value="spam", scope="private")
    else:
        Label.objects.create(user=member, key="ban", value="spam", scope="private")


def ban_removed(member: User) -> None:
    Label.objects.filter(user=member, key="ban").delete()
    User.objects.filter(pk=member.pk).update(state="active")


@pytest.mark.parametrize(
    ("change", "undo", "changes"),
    [
        (phone_removed, phone_restored, {"level": 2}),
        (ban_added, ban_removed, {"state": "active"}),
    ],
    ids=["level", "state"],
)
def test_a_resync_records_the_event_a_label_change_records(
    make_user, settings, change, undo, changes
):
    settings.BARONG_EVENT_API_URL = closed_port_url()  # published: the rows wait for the relay
    referrer = make_user()
    member = make_user(labels={"phone": "verified"})
    User.objects.filter(pk=member.pk).update(referral=referrer)
    start = last_event_id()

    change(member, service=False)  # behind the services' back, as a level edit makes it
    assert users_resync_range(low=member.pk - 1, high=member.pk) == 1
    (by_resync,) = user_updates(start)
    undo(member)
    middle = last_event_id()
    change(member, service=True)
    (by_label,) = user_updates(middle)

    assert by_resync.payload["changes"] == changes
    assert by_resync.payload["record"]["referral_uid"] == referrer.uid
    assert comparable(by_resync) == comparable(by_label)
    assert isinstance(by_resync.jti, uuid.UUID)
    assert by_resync.jti != by_label.jti


def test_a_batch_records_one_event_per_moved_user_in_id_order(make_user):
    movers = [make_user(labels={"phone": "verified"}) for _ in range(3)]
    stays = make_user(labels={"phone": "verified"})
    banned = movers[1]
    Label.objects.filter(user__in=movers, key="phone").delete()
    Label.objects.create(user=banned, key="ban", value="spam", scope="private")
    start = last_event_id()

    low, high = min(u.pk for u in movers) - 1, stays.pk
    assert users_resync_range(low=low, high=high) == 3

    events = user_updates(start)
    assert [event.aggregate for event in events] == [f"user:{u.uid}" for u in movers]
    # Level and state moved together: one event with both previous values.
    assert events[1].payload["changes"] == {"level": 2, "state": "active"}
    assert events[1].payload["record"]["state"] == "banned"
    assert users_resync_range(low=low, high=high) == 0
    assert user_updates(start) == events


def test_the_relay_is_kicked_once_the_batch_commits(
    make_user, settings, django_capture_on_commit_callbacks
):
    member = make_user(labels={"phone": "verified"})
    Label.objects.filter(user=member, key="phone").delete()
    settings.BARONG_EVENT_API_URL = closed_port_url()  # only the resync's event waits
    settings.BARONG_EVENT_API_CONNECT_TIMEOUT = 1
    start = last_event_id()

    with django_capture_on_commit_callbacks() as callbacks:
        users_resync_range(low=member.pk - 1, high=member.pk)
    (event,) = user_updates(start)
    assert (event.delivered_at, event.attempts) == (None, 0)  # nothing left before the commit

    for callback in callbacks:
        callback()

    event.refresh_from_db()
    assert event.attempts == 1  # the relay tried to publish it (nobody listens)
    assert "publish failed" in event.last_error


def test_a_resync_that_bans_switches_the_users_api_keys_off(make_user):
    banned, other = make_user(labels={"phone": "verified"}), make_user()
    keys = {}
    for user in (banned, other):
        user_otp_set(user=user, enabled=True)
        keys[user.pk], _ = api_key_create(user=user)
    Label.objects.create(user=banned, key="fraud_2026", value="confirmed", scope="private")
    Label.objects.filter(user=other, key="email").delete()  # active → pending

    users_resync_range(low=min(keys) - 1, high=max(keys))

    states = dict(
        APIKey.objects.filter(pk__in=[k.pk for k in keys.values()]).values_list("user", "state")
    )
    assert states == {banned.pk: "inactive", other.pk: "inactive"}
    assert User.objects.get(pk=banned.pk).state == "banned"


def test_a_resync_leaves_keys_of_users_still_active(make_user):
    member = make_user(labels={"phone": "verified"})
    user_otp_set(user=member, enabled=True)
    api_key, _ = api_key_create(user=member)
    Label.objects.filter(user=member, key="phone").delete()  # level 2 → 1, still active

    assert users_resync_range(low=member.pk - 1, high=member.pk) == 1

    api_key.refresh_from_db()
    assert api_key.state == "active"


def test_a_failed_batch_leaves_no_event_no_move_and_no_progress(make_user):
    member = make_user(labels={"phone": "verified"})
    Label.objects.filter(user=member, key="phone").delete()
    job = ResyncJob.objects.create(reason="test", max_user_id=member.pk)
    start = last_event_id()

    def cache_owner_fails(sender, **kwargs):
        raise RuntimeError("a receiver failed after the events were written")

    users_updated_in_bulk.connect(cache_owner_fails, dispatch_uid="test.fails")
    try:
        with pytest.raises(RuntimeError):
            resync_run(job_id=job.pk)
    finally:
        users_updated_in_bulk.disconnect(dispatch_uid="test.fails")

    job.refresh_from_db()
    assert (job.state, job.last_user_id, job.changed) == ("failed", 0, 0)
    assert User.objects.get(pk=member.pk).level == 2
    assert user_updates(start) == []
    assert resync_batch(job_id=job.pk)  # resumed: the same batch, now whole
    assert User.objects.get(pk=member.pk).level == 1
    assert len(user_updates(start)) == 1
