"""Bulk actions and deletes in the back-office run the services, all or nothing."""

import json
import time
from http import HTTPStatus

import pytest

from accounts.models import Label
from accounts.services import label_set
from activities.models import Activity
from barong.admin_site import SEEN_KEY
from kyc.models import DataStorage
from kyc.services import data_storage_create
from permissions import restrictions

pytestmark = pytest.mark.django_db


def _admin_rows(target) -> list[Activity]:
    return list(Activity.objects.filter(category="admin", target_uid=target.uid).order_by("id"))


def test_label_admin_add_normalises_and_moves_the_level(operator_client, make_user):
    client, _ = operator_client("compliance")
    member = make_user()

    response = client.post(
        "/admin/accounts/label/add/",
        {"user": member.pk, "key": " PHONE ", "value": "Verified", "scope": "private"},
    )

    assert response.status_code == HTTPStatus.FOUND
    member.refresh_from_db()
    assert member.level == 2
    [row] = _admin_rows(member)
    assert (row.topic, row.action, json.loads(row.data)["key"]) == ("users", "create", "phone")


@pytest.mark.parametrize(
    ("key", "value"),
    [("ab", "verified"), ("bad key!", "verified"), ("phone", "x" * 300), ("名前", "verified")],
)
def test_label_admin_add_refuses_invalid_labels(operator_client, make_user, key, value):
    client, _ = operator_client("compliance")
    member = make_user()
    before = set(Label.objects.values_list("pk", flat=True))

    response = client.post(
        "/admin/accounts/label/add/",
        {"user": member.pk, "key": key, "value": value, "scope": "private"},
    )

    assert response.status_code == HTTPStatus.OK
    assert set(Label.objects.values_list("pk", flat=True)) == before


def test_label_value_change_goes_through_the_service(operator_client, make_user):
    client, _ = operator_client("admin")
    member = make_user(labels={"phone": "verified"})
    label = Label.objects.get(user=member, key="phone")

    client.post(
        f"/admin/accounts/label/{label.pk}/change/", {"value": "unverified", "description": ""}
    )

    member.refresh_from_db()
    assert member.level == 1
    assert [r.action for r in _admin_rows(member)] == ["update"]


def test_bulk_label_delete_is_all_or_nothing(operator_client, make_user, make_admin):
    client, _ = operator_client("admin")
    member = make_user(labels={"phone": "verified"})
    superadmin = make_admin(role="superadmin")
    mine = Label.objects.get(user=member, key="phone")
    theirs = label_set(user=superadmin, key="team", value="ops", scope="public")

    response = client.post(
        "/admin/accounts/label/",
        {"action": "delete_selected", "_selected_action": [mine.pk, theirs.pk], "post": "yes"},
        follow=True,
    )

    assert "admin.user.superadmin_change" in response.content.decode()
    assert Label.objects.filter(pk__in=[mine.pk, theirs.pk]).count() == 2
    member.refresh_from_db()
    assert member.level == 2
    assert _admin_rows(member) == []


def test_bulk_label_delete_recomputes_each_user(operator_client, make_user):
    client, _ = operator_client("admin")
    users = [make_user(labels={"phone": "verified"}) for _ in range(2)]
    labels = Label.objects.filter(user__in=users, key="phone")

    client.post(
        "/admin/accounts/label/",
        {"action": "delete_selected", "_selected_action": [lb.pk for lb in labels], "post": "yes"},
    )

    for user in users:
        user.refresh_from_db()
        assert user.level == 1
        assert [r.action for r in _admin_rows(user)] == ["delete"]


def test_data_storage_delete_removes_its_label_and_is_audited(operator_client, make_user):
    client, operator = operator_client("compliance")
    member = make_user()
    storage = data_storage_create(user=member, title="personal", data='{"a": 1}')
    assert Label.objects.filter(user=member, key="personal").exists()

    response = client.post(f"/admin/kyc/datastorage/{storage.pk}/delete/", {"post": "yes"})

    assert response.status_code == HTTPStatus.FOUND
    assert not DataStorage.objects.filter(pk=storage.pk).exists()
    assert not Label.objects.filter(user=member, key="personal").exists()
    [row] = _admin_rows(member)
    assert (row.user, row.action) == (operator, "delete")


def test_support_cannot_delete_data_storage(operator_client, make_user):
    client, _ = operator_client("support")
    storage = data_storage_create(user=make_user(), title="personal", data="{}")

    response = client.post(f"/admin/kyc/datastorage/{storage.pk}/delete/", {"post": "yes"})

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert DataStorage.objects.filter(pk=storage.pk).exists()


def test_new_restriction_is_enforced_by_the_next_evaluation(
    operator_client, django_capture_on_commit_callbacks
):
    client, _ = operator_client("superadmin")
    assert restrictions.evaluate("198.51.100.23") is None

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/admin/permissions/restriction/add/",
            {
                "category": "blacklist",
                "scope": "ip_subnet",
                "value": "198.51.100.0/24",
                "state": "enabled",
                "code": "451",
            },
        )

    match = restrictions.evaluate("198.51.100.23")
    assert (match.status, match.key) == (451, "authz.restrict.blacklist")


def test_idle_back_office_session_ends(operator_client, settings):
    client, _ = operator_client("admin")
    assert client.get("/admin/").status_code == HTTPStatus.OK
    session = client.session
    session[SEEN_KEY] = int(time.time()) - settings.BARONG_SESSION_EXPIRE_TIME - 5
    session.save()

    response = client.get("/admin/")

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/admin/login/")
    assert client.get("/admin/").status_code == HTTPStatus.FOUND


def test_active_back_office_session_stays(operator_client, settings):
    client, _ = operator_client("admin")
    client.get("/admin/")
    session = client.session
    session[SEEN_KEY] = int(time.time()) - settings.BARONG_SESSION_EXPIRE_TIME + 60
    session.save()

    assert client.get("/admin/").status_code == HTTPStatus.OK
