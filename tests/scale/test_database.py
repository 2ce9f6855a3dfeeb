"""E-mail storage (lower-case, one unique index), totals and id-first pages."""

import pytest
from django.db import IntegrityError, connection, transaction

from accounts.models import User
from barong.db.counting import page_rows, planner_rows, queryset_total
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
