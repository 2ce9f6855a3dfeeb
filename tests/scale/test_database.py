"""E-mail storage (lower-case, one unique index), totals and id-first pages, rows inserted
with a statement built once, and the login's own user query."""

import datetime

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models.signals import post_save

from accounts.models import Label, User
from accounts.services.login import login_user_find
from activities.models import Activity
from barong.db.counting import page_rows, planner_rows, queryset_total
from barong.db.rows import _covered, row_insert
from events.models import OutboxEvent
from tests.admin_api.conftest import ADMIN
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db
POSTGRES = connection.vendor == "postgresql"


def test_emails_are_stored_lower_case_and_unique(make_user):
    user = make_user(email="Ada.Lovelace@Example.COM")
    assert user.email == "ada.lovelace@example.com"

    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=user.pk).update(email="Ada@example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(email="ada.lovelace@example.com", uid="ID00000000AA")


def test_login_finds_a_mixed_case_email(api, make_user):
    make_user(email="grace@example.com")

    response = api.post(
        "/api/v2/identity/sessions", {"email": " GRACE@Example.com ", "password": DEFAULT_PASSWORD}
    )

    assert response.status_code == 200
    assert response.json()["email"] == "grace@example.com"


def test_pages_come_id_first_in_the_asked_order(make_user):
    users = [make_user() for _ in range(5)]
    newest_first = User.objects.filter(pk__in=[u.pk for u in users]).order_by("-id")

    assert [u.pk for u in page_rows(newest_first, 1, 2)] == [users[3].pk, users[2].pk]
    assert page_rows(newest_first, 10, 2) == []
    assert queryset_total(newest_first) == 5


@pytest.mark.skipif(POSTGRES, reason="SQLite has no planner estimate")
def test_totals_are_exact_without_an_estimate(make_user, settings):
    settings.BARONG_EXACT_COUNT_LIMIT = 0
    make_user()
    assert planner_rows(User.objects.all()) is None
    assert queryset_total(User.objects.all()) == User.objects.count()


@pytest.mark.skipif(not POSTGRES, reason="PostgreSQL's planner estimate")
def test_totals_above_the_limit_are_the_planner_estimate(sa_api, make_user, settings):
    for _ in range(3):
        make_user()
    settings.BARONG_EXACT_COUNT_LIMIT = 0
    # A filtered list (the unfiltered one has exact counts: tests/scale/test_user_pages.py).
    estimate = planner_rows(User.objects.order_by("id").filter(role="member"))

    response = sa_api.get(f"{ADMIN}/users", {"role": "member"})

    assert response.status_code == 200
    assert response["Total"] == str(estimate)
    settings.BARONG_EXACT_COUNT_LIMIT = 10**6
    members = User.objects.filter(role="member").count()
    assert sa_api.get(f"{ADMIN}/users", {"role": "member"})["Total"] == str(members)


def _analyze(table: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {table}")


@pytest.mark.skipif(not POSTGRES, reason="PostgreSQL's planner estimate")
def test_estimated_totals_know_which_label_keys_go_with_which_values(sa_api, settings):
    """Without statistics on (key, value, scope) the planner multiplies the columns'
    frequencies: a quarter of the labels are documents, 2.5 % are pending, so it would
    estimate 10 pending documents where there are 40."""
    users = User.objects.bulk_create(
        User(email=f"stat{i}@example.com", uid=f"ID9{i:09d}") for i in range(400)
    )
    Label.objects.bulk_create(
        Label(user=user, key=key, value=value, scope="private")
        for i, user in enumerate(users)
        for key, value in (
            ("email", "verified"),
            ("phone", "verified"),
            ("profile", "verified"),
            ("document", "pending" if i % 10 == 0 else "verified"),
        )
    )
    _analyze("labels")
    settings.BARONG_EXACT_COUNT_LIMIT = 0

    labelled = sa_api.get(f"{ADMIN}/users/labels", {"key": "document", "value": "pending"})
    queue = sa_api.get(f"{ADMIN}/users/documents/pending")

    assert 32 <= int(labelled["Total"]) <= 50
    assert 32 <= int(queue["Total"]) <= 50


@pytest.mark.skipif(not POSTGRES, reason="PostgreSQL's planner estimate")
def test_estimated_totals_know_which_actions_go_with_which_topics(sa_api, make_user, settings):
    """Every login is a session activity: filtering on both must not multiply the two
    frequencies (40 % of 50 %, 200 rows estimated where there are 400)."""
    user = make_user()
    Activity.objects.bulk_create(
        Activity(
            user=user,
            category="user",
            topic=topic,
            action=action,
            result="succeed",
            user_ip="203.0.113.9",
            user_agent="test",
        )
        for topic, action, count in (
            ("session", "login", 400),
            ("session", "logout", 100),
            ("password", "reset", 250),
            ("otp", "enable", 250),
        )
        for _ in range(count)
    )
    _analyze("activities")
    settings.BARONG_EXACT_COUNT_LIMIT = 0

    response = sa_api.get(f"{ADMIN}/activities", {"topic": "session", "action": "login"})

    assert response.status_code == 200
    assert 320 <= int(response["Total"]) <= 500


def _outbox_row(**changes) -> OutboxEvent:
    fields = {
        "category": "system",
        "routing_key": "session.create",
        "aggregate": "user:ID00000000AA",
        "payload": {"record": {"note": "naïve ☃", "n": [1, 2]}, "name": "system.session.create"},
        "context": {"ip": "203.0.113.9"},
        "publish": True,
        "mail": True,
    }
    return OutboxEvent(**{**fields, **changes})


def test_row_insert_stores_what_save_stores():
    saved = _outbox_row()
    saved.save(force_insert=True)
    inserted = row_insert(_outbox_row())

    assert inserted.pk is not None
    assert inserted.pk != saved.pk
    assert inserted._state.adding is False
    assert inserted._state.db == "default"
    first, second = (
        OutboxEvent.objects.filter(pk=pk).values().get() for pk in (saved.pk, inserted.pk)
    )
    assert second["jti"] != first["jti"]
    assert second["created_at"] >= first["created_at"]
    # auto_now_add, set by the fields as save() sets them
    assert second["next_attempt_at"] - second["created_at"] < datetime.timedelta(seconds=1)
    moving = {"id", "jti", "created_at", "next_attempt_at"}
    assert {k: v for k, v in second.items() if k not in moving} == {
        k: v for k, v in first.items() if k not in moving
    }


def test_row_insert_goes_through_save_when_a_receiver_listens(make_user):
    user = make_user()
    heard = []

    def receiver(sender, instance, created, **kwargs):
        heard.append((instance.pk, created))

    post_save.connect(receiver, sender=Activity)
    try:
        row = row_insert(
            Activity(
                user=user,
                category="user",
                user_ip="::1",
                user_agent="t",
                topic="t",
                action="a",
                result="succeed",
            )
        )
    finally:
        post_save.disconnect(receiver, sender=Activity)

    assert heard == [(row.pk, True)]


def test_row_insert_leaves_to_save_what_its_statement_does_not_cover():
    assert _covered(Activity)
    assert _covered(OutboxEvent)
    assert not _covered(User)  # ``state_manual`` has a database default


def test_the_login_reads_the_user_the_orm_reads(make_user, rf):
    user = make_user(email="reader@example.com")
    user.data = '{"city": "Zürich"}'
    user.save()
    request = rf.post("/api/v2/identity/sessions", REMOTE_ADDR="203.0.113.5")

    read = login_user_find(" Reader@Example.com", request)

    expected = User.objects.get(pk=user.pk)
    fields = User._meta.concrete_fields
    assert [getattr(read, f.attname) for f in fields] == [
        getattr(expected, f.attname) for f in fields
    ]
    assert read._state.adding is False
    assert read.has_passkey in (False, 0)
    assert read.device_seen in (False, 0)
    assert login_user_find("nobody@example.com", request) is None
