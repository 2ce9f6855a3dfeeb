"""Permissions, restrictions and levels edited in the back-office go through their services."""

import json
from http import HTTPStatus

import pytest

from accounts.models import Level
from activities.models import Activity
from permissions import engine
from permissions.models import Permission, Restriction

pytestmark = pytest.mark.django_db

PERMISSIONS = "/admin/permissions/permission/"
RESTRICTIONS = "/admin/permissions/restriction/"


def _audit(topic: str) -> list[tuple[str, str]]:
    rows = Activity.objects.filter(category="admin", topic=topic).order_by("id")
    return [(row.action, row.user.role) for row in rows]


def test_new_permission_is_applied_by_the_next_check(
    operator_client, django_capture_on_commit_callbacks
):
    client, _ = operator_client("superadmin")
    assert engine.check("support", "GET", "api/v2/barong/admin/levels").allowed is False

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"{PERMISSIONS}add/",
            {
                "role": "support",
                "verb": "GET",
                "path": "/api/v2/barong/admin/levels",
                "action": "ACCEPT",
            },
        )

    assert response.status_code == HTTPStatus.FOUND
    row = Permission.objects.get(role="support", path="api/v2/barong/admin/levels")
    assert (row.verb, row.action) == ("GET", "ACCEPT")
    assert engine.check("support", "GET", "api/v2/barong/admin/levels").allowed is True
    assert _audit("permissions") == [("create", "superadmin")]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("role", "pirate"),
        ("role", "x" * 10_000),
        ("verb", "FETCH"),
        ("action", "ALLOW"),
        ("path", "   "),
        ("path", "/"),
    ],
)
def test_invalid_permission_is_a_form_error_and_writes_nothing(operator_client, field, value):
    client, _ = operator_client("superadmin")
    count = Permission.objects.count()
    data = {
        "role": "support",
        "verb": "GET",
        "path": "api/v2/barong/admin/levels",
        "action": "ACCEPT",
    }
    data[field] = value

    response = client.post(f"{PERMISSIONS}add/", data)

    assert response.status_code == HTTPStatus.OK
    assert response.context["adminform"].form.errors
    assert Permission.objects.count() == count
    assert _audit("permissions") == []


def test_duplicate_permission_is_refused(operator_client):
    client, _ = operator_client("superadmin")
    existing = Permission.objects.filter(role="member").first()

    response = client.post(
        f"{PERMISSIONS}add/",
        {
            "role": existing.role,
            "verb": existing.verb,
            "path": existing.path,
            "action": existing.action,
        },
    )

    assert response.status_code == HTTPStatus.OK
    assert (
        Permission.objects.filter(
            role=existing.role, path=existing.path, verb=existing.verb
        ).count()
        == 1
    )


def test_permission_change_and_bulk_delete_go_through_services(
    operator_client, django_capture_on_commit_callbacks
):
    client, _ = operator_client("superadmin")
    rows = list(Permission.objects.filter(role="broker").order_by("id")[:2])

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"{PERMISSIONS}{rows[0].pk}/change/",
            {"role": "broker", "verb": "POST", "path": rows[0].path, "action": "DROP"},
        )
    rows[0].refresh_from_db()
    assert (rows[0].verb, rows[0].action) == ("POST", "DROP")

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            PERMISSIONS,
            {"action": "delete_selected", "_selected_action": [r.pk for r in rows], "post": "yes"},
        )

    assert not Permission.objects.filter(pk__in=[r.pk for r in rows]).exists()
    assert _audit("permissions") == [
        ("update", "superadmin"),
        ("delete", "superadmin"),
        ("delete", "superadmin"),
    ]


@pytest.mark.parametrize(
    ("scope", "value", "stored"),
    [
        ("ip", "203.0.113.7", "203.0.113.7"),
        ("ip", "2001:DB8::1", "2001:db8::1"),
        ("ip_subnet", "203.0.113.9/24", "203.0.113.0/24"),
        ("ip_subnet", "2001:db8::/32", "2001:db8::/32"),
        ("country", "jp", "JP"),
        ("country", "Japan", "JP"),
        ("continent", "EU", "EU"),
    ],
)
def test_restriction_values_are_checked_and_normalised(
    operator_client, django_capture_on_commit_callbacks, scope, value, stored
):
    client, _ = operator_client("admin")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"{RESTRICTIONS}add/",
            {
                "category": "blacklist",
                "scope": scope,
                "value": value,
                "state": "enabled",
                "code": "",
            },
        )

    assert response.status_code == HTTPStatus.FOUND
    assert Restriction.objects.get().value == stored
    assert _audit("restrictions") == [("create", "admin")]


@pytest.mark.parametrize(
    ("scope", "value"),
    [
        ("ip", "203.0.113.300"),
        ("ip", "203.0.113.0/24"),
        ("ip_subnet", "203.0.113.7"),
        ("ip_subnet", "203.0.113.0/33"),
        ("country", "Atlantis"),
        ("continent", "XX"),
        ("ip", "x" * 10_000),
        ("country", "名前"),
    ],
)
def test_restriction_value_that_does_not_fit_its_scope_is_refused(operator_client, scope, value):
    client, _ = operator_client("admin")

    response = client.post(
        f"{RESTRICTIONS}add/",
        {"category": "blacklist", "scope": scope, "value": value, "state": "enabled"},
    )

    assert response.status_code == HTTPStatus.OK
    assert "value" in response.context["adminform"].form.errors
    assert not Restriction.objects.exists()


@pytest.mark.parametrize("code", ["99", "600", "-1", "abc"])
def test_restriction_code_must_be_an_http_status(operator_client, code):
    client, _ = operator_client("admin")

    response = client.post(
        f"{RESTRICTIONS}add/",
        {
            "category": "blacklist",
            "scope": "ip",
            "value": "203.0.113.7",
            "state": "enabled",
            "code": code,
        },
    )

    assert response.status_code == HTTPStatus.OK
    assert not Restriction.objects.exists()


def test_restriction_actions_and_delete_go_through_services(operator_client):
    from permissions.services import restriction_create

    client, operator = operator_client("admin")
    rows = [
        restriction_create(admin=operator, category="blacklist", scope="ip", value=f"203.0.113.{n}")
        for n in (1, 2)
    ]

    client.post(
        RESTRICTIONS,
        {"action": "disable_restrictions", "_selected_action": [r.pk for r in rows], "index": 0},
    )
    assert set(Restriction.objects.values_list("state", flat=True)) == {"disabled"}

    client.post(
        RESTRICTIONS,
        {"action": "delete_selected", "_selected_action": [r.pk for r in rows], "post": "yes"},
    )

    assert not Restriction.objects.exists()
    assert [action for action, _ in _audit("restrictions")] == [
        "create",
        "create",
        "update",
        "update",
        "delete",
        "delete",
    ]


def test_accountant_sees_restrictions_but_cannot_change_them(operator_client):
    from permissions.services import restriction_create

    client, _ = operator_client("accountant")
    _, superadmin = operator_client("superadmin")
    row = restriction_create(
        admin=superadmin, category="blacklist", scope="ip", value="203.0.113.1"
    )

    change = client.post(
        f"{RESTRICTIONS}{row.pk}/change/",
        {"category": "blacklist", "scope": "ip", "value": "203.0.113.2", "state": "enabled"},
    )
    delete = client.post(f"{RESTRICTIONS}{row.pk}/delete/", {"post": "yes"})

    assert change.status_code == delete.status_code == HTTPStatus.FORBIDDEN
    row.refresh_from_db()
    assert row.value == "203.0.113.1"


def test_new_level_is_reached_by_users_who_have_its_label(
    operator_client, make_user, django_capture_on_commit_callbacks
):
    client, _ = operator_client("admin")
    ready = make_user(labels={"phone": "verified", "document": "verified", "profile": "verified"})
    waiting = make_user(labels={"phone": "verified", "profile": "verified"})
    assert (ready.level, waiting.level) == (3, 2)

    # The resync job runs after the commit (eager Celery here, a worker in production).
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/accounts/level/add/",
            {"id": "4", "key": " Profile ", "value": "Verified", "description": "Profile checked"},
        )

    assert response.status_code == HTTPStatus.FOUND
    assert Level.objects.values_list("key", "value").get(pk=4) == ("profile", "verified")
    ready.refresh_from_db()
    waiting.refresh_from_db()
    assert (ready.level, waiting.level) == (4, 2)


@pytest.mark.parametrize(
    ("level_id", "key"),
    [
        ("6", "profile"),
        ("0", "profile"),
        ("2", "profile"),
        ("4", "bad key!"),
        ("4", "ab"),
        ("4", "x" * 300),
    ],
)
def test_levels_are_consecutive_and_valid(operator_client, level_id, key):
    client, _ = operator_client("superadmin")

    response = client.post(
        "/admin/accounts/level/add/",
        {"id": level_id, "key": key, "value": "verified", "description": "d"},
    )

    assert response.status_code == HTTPStatus.OK
    assert Level.objects.count() == 3


def test_changing_a_level_recomputes_the_users_it_concerns(
    operator_client, make_user, django_capture_on_commit_callbacks
):
    client, _ = operator_client("superadmin")
    user = make_user(labels={"phone": "verified"})
    assert user.level == 2

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/admin/accounts/level/2/change/",
            {"key": "phone", "value": "checked", "description": "d"},
        )

    user.refresh_from_db()
    assert user.level == 1


def test_levels_are_never_deleted(operator_client):
    client, _ = operator_client("superadmin")

    response = client.post("/admin/accounts/level/3/delete/", {"post": "yes"})

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert Level.objects.count() == 3


def test_audit_rows_carry_the_operator_and_the_data(operator_client):
    client, _ = operator_client("superadmin")

    client.post(
        f"{PERMISSIONS}add/",
        {"role": "member", "verb": "GET", "path": "api/v2/barong/admin/levels", "action": "ACCEPT"},
    )

    row = Activity.objects.get(category="admin", topic="permissions")
    assert json.loads(row.data)["path"] == "api/v2/barong/admin/levels"
    assert row.user_ip == "203.0.113.20"


def test_level_changes_leave_admin_audit_rows(operator_client):
    client, operator = operator_client("admin")

    client.post(
        "/admin/accounts/level/add/",
        {"id": "4", "key": "profile", "value": "verified", "description": "Profile checked"},
    )
    client.post(
        "/admin/accounts/level/4/change/",
        {"key": "profile", "value": "checked", "description": "d"},
    )

    rows = list(Activity.objects.filter(category="admin", topic="levels").order_by("id"))
    assert [(row.user, row.action) for row in rows] == [(operator, "create"), (operator, "update")]
    created, updated = (json.loads(row.data) for row in rows)
    assert (created["id"], created["value"], created["previous"]) == (4, "verified", None)
    assert updated["previous"] == {
        "key": "profile",
        "value": "verified",
        "description": "Profile checked",
    }
    assert updated["value"] == "checked"


def test_back_office_cannot_delete_the_last_superadmin_rule(operator_client):
    master_rule = Permission.objects.get(
        role="superadmin", verb="ALL", path="api/v2", action="ACCEPT"
    )
    client, _ = operator_client("superadmin")

    single = client.post(f"/admin/permissions/permission/{master_rule.pk}/delete/", {"post": "yes"})
    bulk = client.post(
        "/admin/permissions/permission/",
        {"action": "delete_selected", "_selected_action": [master_rule.pk], "post": "yes"},
    )

    assert single.status_code == bulk.status_code == HTTPStatus.FOUND
    assert Permission.objects.filter(pk=master_rule.pk).exists()
    assert not Activity.objects.filter(topic="permissions", action="delete").exists()


def test_a_permission_is_marked_for_the_security_lock_in_the_back_office(
    operator_client, django_capture_on_commit_callbacks
):
    client, _ = operator_client("superadmin")
    path = "api/v2/peatio/account/withdraws"

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"{PERMISSIONS}add/",
            {
                "role": "member",
                "verb": "ALL",
                "path": path,
                "action": "ACCEPT",
                "security_lock": "on",
            },
        )

    assert response.status_code == HTTPStatus.FOUND
    assert Permission.objects.get(role="member", path=path).security_lock is True
    assert engine.check("member", "POST", path).security_lock is True
    assert engine.check("member", "POST", "api/v2/peatio/market/orders").security_lock is False
    assert '"security_lock": true' in Activity.objects.filter(topic="permissions").last().data
