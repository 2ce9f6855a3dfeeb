"""The activity log in the back-office: read-only, filterable, admin rows for superadmins only."""

from http import HTTPStatus

import pytest

from activities.models import Activity
from activities.services import activity_record, admin_activity_record

pytestmark = pytest.mark.django_db

LOG = "/admin/activities/activity/"


def _rows(response) -> set[str]:
    return {row.action for row in response.context["cl"].result_list}


@pytest.fixture
def log(make_user, make_admin):
    member = make_user(email="member@example.com")
    operator = make_admin(role="admin", email="operator@example.com")
    activity_record(user=member, topic="session", action="login")
    activity_record(user=member, topic="session", action="login-failed", result="failed")
    activity_record(user=member, topic="password", action="password change")
    admin_activity_record(admin=operator, topic="users", action="update", target=member)
    return member, operator


def test_superadmin_sees_both_categories(operator_client, log):
    client, _ = operator_client("superadmin")

    response = client.get(LOG)

    assert _rows(response) == {"login", "login-failed", "password change", "update"}


@pytest.mark.parametrize("role", ["admin", "compliance", "accountant", "technical", "support"])
def test_other_roles_never_see_the_admin_audit_log(operator_client, log, role):
    client, _ = operator_client(role)
    row = Activity.objects.get(category="admin")

    listing = client.get(LOG)
    filtered = client.get(LOG, {"category": "admin"})
    detail = client.get(f"{LOG}{row.pk}/change/")

    assert _rows(listing) == {"login", "login-failed", "password change"}
    assert "update" not in _rows(filtered)
    assert detail.status_code == HTTPStatus.FOUND  # "doesn't exist" → back to the list


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"result": "failed"}, {"login-failed"}),
        ({"topic": "password"}, {"password change"}),
        ({"q": "member@example.com"}, {"login", "login-failed", "password change"}),
    ],
)
def test_filters_and_search(operator_client, log, query, expected):
    client, _ = operator_client("support")

    assert _rows(client.get(LOG, query)) == expected


def test_search_by_uid_and_target_uid(operator_client, log):
    member, _ = log
    client, _ = operator_client("superadmin")

    by_target = client.get(LOG, {"target_uid": member.uid})
    by_uid = client.get(LOG, {"q": member.uid})

    assert _rows(by_target) == {"update"}
    assert _rows(by_uid) == {"login", "login-failed", "password change", "update"}


def test_activities_are_read_only_even_for_a_superadmin(operator_client, log):
    client, _ = operator_client("superadmin")
    row = Activity.objects.filter(category="user").first()
    count = Activity.objects.count()

    add = client.post(f"{LOG}add/", {"topic": "x", "action": "y"})
    change = client.post(f"{LOG}{row.pk}/change/", {"topic": "forged", "action": "forged"})
    delete = client.post(f"{LOG}{row.pk}/delete/", {"post": "yes"})
    bulk = client.post(
        LOG, {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"}
    )

    assert add.status_code == HTTPStatus.FORBIDDEN
    assert change.status_code == HTTPStatus.FORBIDDEN
    assert delete.status_code == HTTPStatus.FORBIDDEN
    assert bulk.status_code == HTTPStatus.OK
    row.refresh_from_db()
    assert row.topic != "forged"
    assert Activity.objects.count() == count


@pytest.mark.parametrize(("role", "shown"), [("superadmin", True), ("admin", False)])
def test_user_page_shows_admin_rows_only_to_roles_that_read_the_audit_log(
    operator_client, log, role, shown
):
    _, operator = log
    client, _ = operator_client(role)

    response = client.get(f"/admin/accounts/user/{operator.pk}/change/")

    inline = next(f for f in response.context["inline_admin_formsets"] if f.opts.model is Activity)
    assert (len(list(inline)) == 1) is shown
