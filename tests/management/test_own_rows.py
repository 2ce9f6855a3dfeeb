"""Users see their own rows only: a management call or an operator's action on them never
shows a signer, an operator, or a service's address and agent (activity, export, labels)."""

import json
from http import HTTPStatus

import pytest
from rest_framework.test import APIClient

from accounts.services import label_set
from activities.models import Activity
from tests.authz.conftest import login as authz_login
from tests.conftest import BROWSER_UA
from tests.resource_account.helpers import login

pytestmark = pytest.mark.django_db

ACTIVITY = "/api/v2/resource/users/activity/all"
EXPORT = "/api/v2/resource/users/me/export"
SERVICE_UA = "peatio-daemon/2.4 (withdrawals)"
SERVICE_IP = "10.20.30.40"
OPERATOR_UA = "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0 operator-desk"
OPERATOR_IP = "198.51.100.77"


@pytest.fixture
def touched(api, mgmt, make_user, make_admin, auth_api):
    """A member who logged in once, then got a label from a service (management API, signer
    ``alex``) and one from an ``admin`` operator (admin API)."""
    member = make_user()
    login(APIClient(HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR="203.0.113.10"), member)
    api.defaults.update(HTTP_USER_AGENT=SERVICE_UA, REMOTE_ADDR=SERVICE_IP)
    pushed = mgmt("labels", {"user_uid": member.uid, "key": "kyc-vendor", "value": "checked"})
    assert pushed.status_code == HTTPStatus.CREATED, pushed.content
    operator = make_admin(role="admin")
    desk = auth_api(operator)
    desk.defaults.update(HTTP_USER_AGENT=OPERATOR_UA, REMOTE_ADDR=OPERATOR_IP)
    labelled = desk.post(
        "/api/v2/admin/users/labels", {"uid": member.uid, "key": "vip", "value": "gold"}
    )
    assert labelled.status_code == HTTPStatus.OK
    assert Activity.objects.filter(category="admin", target_uid=member.uid).count() >= 2
    return member, operator


def _leaks(text: str, operator) -> list[str]:
    secrets = ["alex", "signers", SERVICE_UA, SERVICE_IP, OPERATOR_UA, OPERATOR_IP]
    return [s for s in [*secrets, operator.uid, operator.email] if s in text]


def test_the_activity_log_shows_what_the_user_did_and_nothing_else(touched, auth_api):
    member, operator = touched

    response = auth_api(member).get(ACTIVITY)

    assert response.status_code == HTTPStatus.OK
    rows = response.json()
    assert {(row["category"], row["topic"], row["action"]) for row in rows} == {
        ("user", "session", "login")
    }
    assert _leaks(response.content.decode(), operator) == []


def test_a_user_touched_only_by_a_service_has_no_activity(api, mgmt, make_user, auth_api):
    member = make_user()
    mgmt("labels", {"user_uid": member.uid, "key": "kyc-vendor", "value": "checked"})

    response = auth_api(member).get(ACTIVITY)

    assert (response.status_code, response.json()) == (
        HTTPStatus.UNPROCESSABLE_ENTITY,
        {"errors": ["resource.user.no_activity"]},
    )


def test_the_export_tells_what_was_done_but_not_by_whom_nor_from_where(touched, auth_api):
    member, operator = touched

    response = auth_api(member).get(EXPORT)

    body = response.json()
    assert body["format_version"] == 2
    assert [row["topic"] for row in body["activities"]] == ["session"]
    actions = [
        (row["by"], row["topic"], row["action"], row["result"], row["data"])
        for row in body["operator_actions"]
    ]
    assert actions == [
        (
            "operator",
            "users",
            "create",
            "succeed",
            {"key": "vip", "value": "gold", "scope": "public"},
        ),
        (
            "service",
            "management",
            "label create",
            "succeed",
            {"key": "kyc-vendor", "value": "checked", "scope": "private"},
        ),
    ]
    assert all(
        set(row) == {"created_at", "by", "topic", "action", "result", "data"}
        for row in body["operator_actions"]
    )
    assert _leaks(response.content.decode(), operator) == []


def test_an_operator_still_sees_its_own_operator_actions(touched, auth_api):
    """Barong lists the rows a user acted in: an operator's own admin actions are among them."""
    member, operator = touched

    rows = auth_api(operator).get(ACTIVITY).json()

    assert [(r["category"], r["target_uid"]) for r in rows if r["category"] == "admin"] == [
        ("admin", member.uid)
    ]


def test_a_refused_operator_request_is_not_an_action_on_the_user(make_user, make_admin, auth_api):
    member = make_user()
    support = auth_api(make_admin(role="support"))
    support.put("/api/v2/admin/users", {"uid": member.uid, "state": "banned"})  # 403

    body = auth_api(member).get(EXPORT).json()

    assert body["operator_actions"] == []


def test_users_see_their_labels_as_barong_shows_them_never_an_operators_note(
    make_user, make_admin, auth_api
):
    """Private labels are the user's KYC status (Barong lists them, front ends read them);
    an operator's description (a rejection reason, a ban note) never reaches the user."""
    member = make_user()
    label_set(
        user=member,
        key="document",
        value="rejected",
        scope="private",
        description="operator note: blurry scan, suspected reuse",
    )
    label_set(user=member, key="tier", value="gold", description="internal: vip desk")
    client = auth_api(member)

    answers = [
        client.get("/api/v2/resource/labels"),
        client.get("/api/v2/resource/labels/document"),
        client.get("/api/v2/resource/users/me"),
        client.get(EXPORT),
    ]

    assert [a.status_code for a in answers] == [HTTPStatus.OK] * 4
    labels = {(lb["key"], lb["value"], lb["scope"]) for lb in answers[0].json()}
    assert {("document", "rejected", "private"), ("tier", "gold", "public")} <= labels
    assert set(answers[1].json()) == {"key", "value", "scope", "created_at", "updated_at"}
    for answer in answers:
        text = json.dumps(answer.json())
        assert "operator note" not in text
        assert "vip desk" not in text
        assert "description" not in text


def test_the_gateways_audit_of_a_request_is_not_an_action_on_the_user(
    make_user, make_admin, auth_api
):
    """The authz endpoint audits an operator's write before the upstream serves it: that
    row records a request, not a change, and stays out of the user's export."""
    member = make_user()
    desk = APIClient(HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR=OPERATOR_IP)
    csrf = authz_login(desk, make_admin(role="admin"), ip=OPERATOR_IP)

    response = desk.post(
        "/api/v2/auth/api/v2/barong/admin/users/labels",
        {"uid": member.uid, "key": "vip", "value": "gold"},
        HTTP_X_CSRF_TOKEN=csrf,
    )

    assert response.status_code == HTTPStatus.OK
    audit = Activity.objects.get(category="admin", target_uid=member.uid)
    assert '"path"' in audit.data
    assert auth_api(member).get(EXPORT).json()["operator_actions"] == []
