"""The relay's wake-up after a commit: one queued wake-up serves every commit until its pass
starts, and nothing is ever left to more than the periodic sweep."""

import pytest
from django.core.cache import cache
from kombu.exceptions import OperationalError

from events import relay, tasks
from events.models import OutboxEvent
from events.relay import RELAY_KICK_KEY, relay_kick
from events.services import event_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(monkeypatch):
    """Wake-ups sent to the broker (not run: the worker is elsewhere)."""
    sent: list[None] = []
    monkeypatch.setattr(tasks.outbox_relay, "delay", lambda: sent.append(None))
    cache.delete(RELAY_KICK_KEY)
    return sent


def test_commits_while_a_wake_up_is_queued_send_none_of_their_own(published):
    relay_kick()
    relay_kick()
    relay_kick()

    assert len(published) == 1


def test_a_starting_pass_lets_the_next_commit_wake_the_relay_again(published):
    relay_kick()

    tasks.outbox_relay()  # the queued pass starts: rows committed after it need a new one
    relay_kick()

    assert len(published) == 2


@pytest.mark.parametrize(("delivered", "again"), [(2, 1), (1, 0)])
def test_a_full_batch_wakes_the_relay_for_the_rest(
    published, settings, monkeypatch, delivered, again
):
    settings.BARONG_OUTBOX_BATCH = 2
    monkeypatch.setattr("events.relay.outbox_relay_pass", lambda: delivered)

    assert tasks.outbox_relay() == delivered

    assert len(published) == again


def test_a_failed_wake_up_leaves_no_mark_so_the_next_commit_tries_again(monkeypatch):
    cache.delete(RELAY_KICK_KEY)

    def broker_down():
        raise OperationalError("broker unreachable")

    monkeypatch.setattr(tasks.outbox_relay, "delay", broker_down)
    with pytest.raises(OperationalError):
        relay_kick()

    assert cache.get(RELAY_KICK_KEY) is None


class CacheDown:
    def add(self, *args, **kwargs):
        raise ConnectionError("cache unreachable")

    delete = add


def test_without_a_cache_every_commit_wakes_the_relay(published, monkeypatch):
    monkeypatch.setattr(relay, "cache", CacheDown())

    relay_kick()
    relay_kick()

    assert len(published) == 2
    monkeypatch.setattr("events.relay.outbox_relay_pass", lambda: 0)
    assert tasks.outbox_relay() == 0  # a pass runs without the cache too


def test_an_event_recorded_while_a_wake_up_is_queued_is_read_by_its_pass(
    published, make_user, mailoutbox, django_capture_on_commit_callbacks
):
    user = make_user()
    relay_kick()  # a wake-up queued by an earlier commit, its pass not started

    with django_capture_on_commit_callbacks(execute=True):
        event_record(
            name="system.user.password.reset.token",
            record={"user": {"uid": user.uid, "email": user.email}, "token": "t"},
            aggregate=f"user:{user.uid}",
        )
    assert len(published) == 1  # no wake-up of its own
    row = OutboxEvent.objects.get(routing_key="user.password.reset.token")
    assert row.delivered_at is None

    with django_capture_on_commit_callbacks(execute=True):  # the queued pass runs
        tasks.outbox_relay()

    row.refresh_from_db()
    assert row.mailed_at is not None
