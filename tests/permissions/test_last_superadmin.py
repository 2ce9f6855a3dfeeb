"""Operators cannot lock every operator out: the last superadmin rule and the last
active superadmin are kept, through the admin API and the back-office alike."""

from http import HTTPStatus

import pytest

from accounts.models import User
from accounts.services import label_set, user_state_set
from barong.api.errors import ApiError
from permissions.models import Permission
from tests.conftest import bearer_for

pytestmark = pytest.mark.django_db

URL = "/api/v2/admin/permissions"
RULE_KEY = "admin.permission.last_superadmin_rule"
USER_KEY = "admin.user.last_superadmin"


@pytest.fixture
def sa_api(superadmin, auth_api):
    return auth_api(superadmin)


@pytest.fixture
def master_rule(superadmin):
    return Permission.objects.get(role="superadmin", verb="ALL", path="api/v2", action="ACCEPT")


def _errors(response) -> list[str]:
    return response.json()["errors"]


def _add_superadmin_rule(sa_api, verb: str, path: str, action: str):
    """POST a superadmin rule through the admin API; its response."""
    body = {"role": "superadmin", "verb": verb, "path": path, "action": action}
    return sa_api.post(URL, body, format="json")


def test_deleting_the_rule_that_opens_the_admin_api_is_refused(sa_api, master_rule):
    response = sa_api.delete(URL, {"id": master_rule.pk}, format="json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert _errors(response) == [RULE_KEY]
    assert Permission.objects.filter(pk=master_rule.pk).exists()
    assert sa_api.get(URL).status_code == HTTPStatus.OK


@pytest.mark.parametrize(
    "change",
    [
        {"action": "drop"},
        {"action": "audit"},
        {"role": "member"},
        {"path": "api/v2/peatio"},
        {"verb": "get"},
    ],
)
def test_weakening_the_rule_is_refused(sa_api, master_rule, change):
    response = sa_api.put(URL, {"id": master_rule.pk, **change}, format="json")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert _errors(response) == [RULE_KEY]
    master_rule.refresh_from_db()
    assert (master_rule.role, master_rule.verb, master_rule.path, master_rule.action) == (
        "superadmin",
        "ALL",
        "api/v2",
        "ACCEPT",
    )


@pytest.mark.parametrize("path", ["api/v2/barong/admin", "api/v2", "api/v2/barong/admin/perm"])
def test_a_superadmin_drop_rule_over_the_admin_api_is_refused(sa_api, superadmin, path):
    before = Permission.objects.count()

    response = _add_superadmin_rule(sa_api, "delete", path, "drop")

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert _errors(response) == [RULE_KEY]
    assert Permission.objects.count() == before


def test_the_rule_may_go_when_another_one_opens_the_admin_api(sa_api, master_rule):
    created = _add_superadmin_rule(sa_api, "all", "api/v2/barong/admin", "accept")

    response = sa_api.delete(URL, {"id": master_rule.pk}, format="json")

    assert created.status_code == HTTPStatus.OK
    assert response.status_code == HTTPStatus.OK
    assert sa_api.get(URL).status_code == HTTPStatus.OK


def test_other_superadmin_rules_change_freely(sa_api, superadmin):
    rule = Permission.objects.get(role="superadmin", verb="GET", path="assets")
    drop = _add_superadmin_rule(sa_api, "get", "api/v2/peatio/x", "drop")

    response = sa_api.delete(URL, {"id": rule.pk}, format="json")

    assert drop.status_code == HTTPStatus.OK
    assert response.status_code == HTTPStatus.OK


# ---------------------------------------------------------------- the last active superadmin


@pytest.fixture
def pending_superadmin(make_admin, auth_api):
    """A second superadmin who may call the admin API but is not active."""
    user = make_admin(role="superadmin", verified=False)
    assert user.state == "pending"
    return user, auth_api(user)


@pytest.mark.parametrize(
    ("method", "path", "change", "field", "kept"),
    [
        ("put", "/api/v2/admin/users", {"state": "banned"}, "state", "active"),
        ("post", "/api/v2/admin/users/role", {"role": "admin"}, "role", "superadmin"),
    ],
    ids=["banned", "demoted"],
)
def test_last_active_superadmin_cannot_be_banned_or_demoted(
    superadmin, pending_superadmin, method, path, change, field, kept
):
    _, client = pending_superadmin

    response = getattr(client, method)(path, {"uid": superadmin.uid, **change})

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert _errors(response) == [USER_KEY]
    superadmin.refresh_from_db()
    assert getattr(superadmin, field) == kept


def test_a_superadmin_may_go_while_another_active_one_remains(superadmin, make_admin, auth_api):
    other = make_admin(role="superadmin")
    client = auth_api(other)

    demoted = client.post("/api/v2/admin/users/role", {"uid": superadmin.uid, "role": "admin"})

    assert demoted.status_code in (HTTPStatus.OK, HTTPStatus.CREATED)
    superadmin.refresh_from_db()
    assert superadmin.role == "admin"
    assert User.objects.filter(role="superadmin", state="active").count() == 1


def test_ban_label_on_the_last_superadmin_is_refused(superadmin):
    with pytest.raises(ApiError) as refused:
        label_set(user=superadmin, key="ban", value="true", scope="private")

    assert refused.value.keys == [USER_KEY]
    superadmin.refresh_from_db()
    assert superadmin.state == "active"


def test_any_state_change_of_the_last_superadmin_is_refused(superadmin):
    for state in ("banned", "deleted", "locked", "pending"):
        with pytest.raises(ApiError):
            user_state_set(user=superadmin, state=state)

    assert bearer_for(superadmin)
