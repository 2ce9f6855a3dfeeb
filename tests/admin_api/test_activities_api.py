"""Admin API: user activity, admin audit log and metrics."""

import json
from datetime import UTC, datetime, timedelta
from http import HTTPStatus

import pytest

from accounts.services import label_set
from activities.models import Activity
from activities.services import activity_record, admin_activity_record
from tests.admin_api.conftest import ADMIN
from tests.entities import ACTIVITY_WITH_USER, ADMIN_ACTIVITY

pytestmark = pytest.mark.django_db

ACTIVITIES = f"{ADMIN}/activities"
AUDIT = f"{ADMIN}/activities/admin"
METRICS = f"{ADMIN}/metrics"
UA = "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"


def errors(response) -> list[str]:
    return response.json()["errors"]


def record(user, topic="session", action="login", result="succeed", at=None, **kwargs):
    row = activity_record(
        user=user,
        topic=topic,
        action=action,
        result=result,
        user_ip="198.51.100.7",
        user_agent_text=UA,
        **kwargs,
    )
    if at is not None:
        Activity.objects.filter(pk=row.pk).update(created_at=at)
    return row


def day(text: str, hour: int = 12) -> datetime:
    return datetime.fromisoformat(text).replace(hour=hour, tzinfo=UTC)


# ---------------------------------------------------------------- GET /admin/activities


def test_user_activity_newest_first_with_the_user(sa_api, make_user):
    member = make_user()
    old = record(member, at=day("2024-01-01"))
    new = record(member, topic="password", action="password change", at=day("2024-01-02"))
    admin_activity_record(admin=member, topic="users", action="update", target=None)

    response = sa_api.get(ACTIVITIES)

    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert [row["topic"] for row in body] == [new.topic, old.topic]
    assert list(body[0]) == ACTIVITY_WITH_USER
    assert body[0]["user"]["uid"] == member.uid
    assert body[0]["user_ip"] == "198.51.100.7"
    assert body[1]["created_at"] == "2024-01-01T12:00:00Z"
    assert response["Total"] == "2"


def test_user_activity_filters(sa_api, make_user):
    ada, bob = make_user(email="ada@example.com"), make_user()
    record(ada, at=day("2024-01-01"))
    record(ada, result="failed", at=day("2024-01-02"))
    record(bob, topic="account", action="signup", at=day("2024-01-03"))
    second = int(day("2024-01-02").timestamp())

    def topics(**params):
        response = sa_api.get(ACTIVITIES, params)
        assert response.status_code == HTTPStatus.OK
        return [(row["topic"], row["user"]["uid"], row["result"]) for row in response.json()]

    assert topics(uid=ada.uid.lower()) == [
        ("session", ada.uid, "failed"),
        ("session", ada.uid, "succeed"),
    ]
    assert topics(email="ADA@example.com", action="login") == topics(uid=ada.uid)
    assert topics(topic="account") == [("account", bob.uid, "succeed")]
    assert topics(**{"from": second, "to": second}) == [("session", ada.uid, "failed")]
    assert topics(**{"to": second - 1}) == [("session", ada.uid, "succeed")]
    assert topics(topic="x" * 10_240, action="ログイン") == []


@pytest.mark.parametrize(
    ("params", "key"),
    [
        ({"from": "monday"}, "invalid"),
        ({"to": "1e9"}, "invalid"),
        ({"from": "9" * 40}, "invalid"),
        ({"topic": {"a": 1}}, "admin.activity.invalid_topic"),
        ({"limit": 1000}, "invalid_limit"),
    ],
)
def test_user_activity_bad_params(sa_api, params, key):
    response = sa_api.generic(
        "GET", ACTIVITIES, json.dumps(params), content_type="application/json"
    )

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert errors(response) == [key]


# ---------------------------------------------------------------- GET /admin/activities/admin


def test_admin_audit_log_names_operator_and_target(sa_api, superadmin, make_user):
    member = make_user()

    sa_api.put(f"{ADMIN}/users", {"uid": member.uid, "state": "banned"})
    sa_api.post(f"{ADMIN}/users/labels", {"uid": member.uid, "key": "tier", "value": "gold"})
    record(member)  # user category: not in the audit log

    response = sa_api.get(AUDIT)

    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert [row["action"] for row in body] == ["create", "update"]
    assert list(body[0]) == ADMIN_ACTIVITY
    assert body[0]["admin"]["uid"] == superadmin.uid
    assert body[0]["target"]["uid"] == member.uid
    assert json.loads(body[1]["data"])["state"] == "banned"


def test_admin_audit_log_filters_by_target_and_tolerates_unknown_targets(sa_api, make_user):
    ada, bob = make_user(), make_user()
    admin_activity_record(admin=ada, topic="users", action="update", target=bob)
    admin_activity_record(admin=ada, topic="general", action="read", target="ID0000000000")
    admin_activity_record(admin=ada, topic="general", action="read")

    by_target = sa_api.get(AUDIT, {"target_uid": bob.uid.lower()})
    everything = sa_api.get(AUDIT, {"uid": ada.uid, "range": "created"})

    assert [row["target"]["uid"] for row in by_target.json()] == [bob.uid]
    assert [row["target"] for row in everything.json()][:2] == [None, None]


@pytest.mark.parametrize(
    ("params", "key"),
    [
        ({"range": "updated"}, "admin.activity.invalid_range"),
        ({"range": ""}, None),
        ({"from": "x"}, "invalid"),
        ({"target_uid": ["a"]}, "admin.activity.invalid_target_uid"),
    ],
)
def test_admin_audit_log_params(sa_api, params, key):
    response = sa_api.generic("GET", AUDIT, json.dumps(params), content_type="application/json")

    if key is None:
        assert response.status_code == HTTPStatus.OK
    else:
        assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        assert errors(response) == [key]


def test_admin_audit_log_pages_cost_the_same_queries(
    sa_api, make_user, django_assert_max_num_queries
):
    admin = make_user()
    targets = [make_user() for _ in range(30)]
    for target in targets:
        admin_activity_record(admin=admin, topic="users", action="update", target=target)

    with django_assert_max_num_queries(12):
        response = sa_api.get(AUDIT, {"limit": 30})

    assert len(response.json()) == 30
    assert {row["target"]["uid"] for row in response.json()} == {t.uid for t in targets}


# ---------------------------------------------------------------- GET /admin/metrics


def test_metrics_of_an_empty_log(sa_api):
    Activity.objects.all().delete()

    response = sa_api.get(METRICS)

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {
        "signups": {},
        "sucessful_logins": {},
        "failed_logins": {},
        "pending_applications": 0,
    }


def test_metrics_count_per_utc_day_within_the_bounds(sa_api, make_user):
    Activity.objects.all().delete()
    ada, bob = make_user(), make_user()
    record(ada, topic="account", action="signup", at=day("2024-03-01", 0))
    record(bob, topic="account", action="signup", at=day("2024-03-01", 23))
    record(ada, at=day("2024-03-02"))
    record(ada, action="login::2fa", at=day("2024-03-02"))  # not counted, as in Barong
    record(bob, result="failed", at=day("2024-03-03"))
    record(bob, result="failed", at=day("2024-03-03"))
    label_set(user=ada, key="document", value="pending", scope="private")
    label_set(user=bob, key="document", value="pending", scope="public")

    everything = sa_api.get(METRICS)
    bounded = sa_api.get(
        METRICS,
        {
            "created_from": int(day("2024-03-02", 0).timestamp()),
            "created_to": int(day("2024-03-02", 12).timestamp()),
        },
    )

    assert everything.status_code == HTTPStatus.OK
    assert everything.json() == {
        "signups": {"2024-03-01": 2},
        "sucessful_logins": {"2024-03-02": 1},
        "failed_logins": {"2024-03-03": 2},
        "pending_applications": 1,
    }
    assert bounded.json() == {
        "signups": {},
        "sucessful_logins": {"2024-03-02": 1},
        "failed_logins": {},
        "pending_applications": 1,
    }


@pytest.mark.parametrize(
    "params",
    [{"created_from": "last week"}, {"created_to": "9" * 30}, {"created_from": -1}],
)
def test_metrics_bad_bounds(sa_api, params):
    response = sa_api.get(METRICS, params)

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert errors(response) == ["invalid"]


def test_metrics_blank_bounds_mean_all_time(sa_api):
    response = sa_api.get(METRICS, {"created_from": "", "created_to": ""})

    assert response.status_code == HTTPStatus.OK


def test_time_bounds_near_the_limits(sa_api):
    far = int((datetime(2999, 1, 1, tzinfo=UTC) + timedelta(days=1)).timestamp())

    response = sa_api.get(ACTIVITIES, {"from": 0, "to": far})

    assert response.status_code == HTTPStatus.OK
