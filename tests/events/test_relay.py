"""The relay without a broker: e-mails still go, publishing waits with backoff, in order."""

import json
import socket
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.services import user_password_reset_request
from events.models import OutboxEvent
from events.relay import outbox_relay_pass, retry_delay
from events.services import event_record

pytestmark = pytest.mark.django_db


def closed_port_url() -> str:
    """An AMQP URL nobody listens on (the port was free a moment ago)."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return f"amqp://guest:guest@127.0.0.1:{port}//"


def test_without_the_event_api_only_mapped_events_wait_for_delivery(
    make_user, mailoutbox, django_capture_on_commit_callbacks
):
    user = make_user()

    user_password_reset_request(email=user.email)

    token_event = OutboxEvent.objects.get(routing_key="user.password.reset.token")
    assert (token_event.publish, token_event.mail) == (False, True)
    assert token_event.delivered_at is None
    history = OutboxEvent.objects.exclude(pk=token_event.pk)
    assert history.exists()
    assert all(row.delivered_at is not None for row in history)  # nothing to deliver

    with django_capture_on_commit_callbacks(execute=True):  # the e-mail task follows the commit
        outbox_relay_pass()

    token_event.refresh_from_db()
    assert len(mailoutbox) == 1
    assert token_event.mailed_at is not None
    assert token_event.delivered_at is not None


def test_broker_down_publishing_waits_with_backoff_but_mail_goes(
    make_user, mailoutbox, settings, django_capture_on_commit_callbacks
):
    settings.BARONG_EVENT_API_URL = closed_port_url()
    settings.BARONG_EVENT_API_CONNECT_TIMEOUT = 1
    user = make_user()
    user_password_reset_request(email=user.email)
    pending = OutboxEvent.objects.filter(delivered_at__isnull=True).order_by("id")
    first = pending.first()
    before = timezone.now()

    with django_capture_on_commit_callbacks(execute=True):
        outbox_relay_pass()

    assert len(mailoutbox) == 1  # e-mails do not wait for RabbitMQ
    rows = list(pending)
    assert rows
    assert all(row.published_at is None for row in rows)
    first.refresh_from_db()
    assert first.attempts == 1
    assert "publish failed" in first.last_error
    assert first.next_attempt_at >= before + retry_delay(1)
    later = [row for row in rows if row.pk != first.pk]
    assert all(row.last_error for row in later)


def test_a_waiting_event_holds_back_later_events_of_its_user_only(make_user, settings):
    settings.BARONG_EVENT_API_URL = closed_port_url()
    settings.BARONG_EVENT_API_CONNECT_TIMEOUT = 1
    one = event_record(name="model.user.created", record={"n": 1}, aggregate="user:A")
    OutboxEvent.objects.filter(pk=one.pk).update(
        next_attempt_at=timezone.now() + timedelta(hours=1)
    )
    two = event_record(name="model.user.updated", record={"n": 2}, aggregate="user:A")
    other = event_record(name="model.user.created", record={"n": 3}, aggregate="user:B")

    outbox_relay_pass()

    two.refresh_from_db()
    other.refresh_from_db()
    assert two.last_error == f"waiting for event #{one.pk} of user:A"
    assert "publish failed" in other.last_error  # tried: nothing earlier of user:B waits


def test_retry_delay_doubles_up_to_the_maximum(settings):
    settings.BARONG_OUTBOX_RETRY_BASE = 5
    settings.BARONG_OUTBOX_RETRY_MAX = 300

    assert [retry_delay(n).total_seconds() for n in (1, 2, 3, 4, 7, 50)] == [
        5,
        10,
        20,
        40,
        300,
        300,
    ]


def test_a_relay_pass_with_nothing_due_does_nothing(db):
    assert outbox_relay_pass() == 0


def test_prune_keeps_pending_and_recent_rows(db, settings):
    settings.BARONG_OUTBOX_RETENTION_DAYS = 7
    old = event_record(name="model.user.created", record={}, aggregate="user:A")
    recent = event_record(name="model.user.created", record={}, aggregate="user:A")
    pending = event_record(
        name="system.user.password.reset.token", record={"user": {}}, aggregate="user:A"
    )
    OutboxEvent.objects.filter(pk=old.pk).update(delivered_at=timezone.now() - timedelta(days=8))
    OutboxEvent.objects.filter(pk=pending.pk).update(created_at=timezone.now() - timedelta(days=30))
    output = StringIO()

    call_command("outbox_prune", stdout=output)

    assert output.getvalue().strip() == "1 delivered outbox rows deleted"
    assert set(OutboxEvent.objects.values_list("pk", flat=True)) == {recent.pk, pending.pk}


def test_prune_refuses_negative_days(db):
    with pytest.raises(CommandError):
        call_command("outbox_prune", "--days", "-1")


def test_status_reports_the_backlog(make_user):
    user = make_user()
    user_password_reset_request(email=user.email)
    output = StringIO()

    call_command("outbox_status", stdout=output)

    status = json.loads(output.getvalue())
    assert status["pending"] == 1
    assert status["unmailed"] == 1
    assert status["unpublished"] == 0
    assert status["oldest_age_seconds"] >= 0


def test_events_recorded_for_an_api_since_switched_off_are_not_published(db, settings):
    settings.BARONG_EVENT_API_URL = "amqp://guest:guest@127.0.0.1:1//"
    row = event_record(name="model.user.created", record={"n": 1}, aggregate="user:A")
    settings.BARONG_EVENT_API_URL = ""

    assert outbox_relay_pass() == 1

    row.refresh_from_db()
    assert (row.publish, row.published_at) == (False, None)
    assert row.delivered_at is not None
    assert "not set" in row.last_error
