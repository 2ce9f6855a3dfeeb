"""Extended lists cost a constant number of queries per page: 3 users cost what 30 cost."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from activities.services import activity_record, admin_activity_record
from tests.admin_api.conftest import ADMIN, full_kyc

pytestmark = pytest.mark.django_db

PAGES = [
    (f"{ADMIN}/users", {"extended": "true"}),
    (f"{ADMIN}/users", {}),
    (f"{ADMIN}/users/documents/pending", {"extended": "true"}),
    (f"{ADMIN}/users/documents/pending", {"extended": "true", "country": "GB"}),
    (f"{ADMIN}/users/labels", {"key": "tier", "value": "gold"}),
    (f"{ADMIN}/activities", {}),
    (f"{ADMIN}/activities/admin", {}),
    (f"{ADMIN}/profiles", {}),
]


def queries(client, path: str, params: dict) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, params)
    assert response.status_code == 200
    return len(captured.captured_queries)


def add_users(count: int, make_user, referrer: User) -> None:
    for _ in range(count):
        user = make_user()
        full_kyc(user)
        User.objects.filter(pk=user.pk).update(referral=referrer)
        activity_record(user=user, topic="session", action="login", user_agent_text="Firefox/1")
        admin_activity_record(admin=referrer, topic="users", action="update", target=user)


@pytest.mark.parametrize(("path", "params"), PAGES)
def test_three_users_cost_what_thirty_cost(sa_api, superadmin, make_user, path, params):
    add_users(3, make_user, superadmin)
    queries(sa_api, path, params)  # warm the permission table
    few = queries(sa_api, path, params)
    add_users(27, make_user, superadmin)

    many = queries(sa_api, path, params)

    assert few == many
    assert many <= 12


def test_one_user_file_is_a_fixed_number_of_queries(sa_api, superadmin, make_user):
    add_users(1, make_user, superadmin)
    target = User.objects.exclude(pk=superadmin.pk).get()
    queries(sa_api, f"{ADMIN}/users/{target.uid}", {})

    assert queries(sa_api, f"{ADMIN}/users/{target.uid}", {}) <= 10


@pytest.mark.parametrize(
    ("path", "params"),
    [
        (f"{ADMIN}/users/documents/pending", {"country": "ZZ"}),  # matches nobody
        (f"{ADMIN}/activities", {"page": 9}),  # past the last page
        (f"{ADMIN}/users/labels", {"key": "tier", "value": "gold", "page": 2}),
    ],
)
def test_a_page_past_an_exact_total_reads_no_rows(sa_api, superadmin, make_user, path, params):
    add_users(3, make_user, superadmin)
    queries(sa_api, path, params)  # warm the permission table

    with CaptureQueriesContext(connection) as captured:
        response = sa_api.get(path, params)

    assert response.status_code == 200
    assert response.json() == []
    assert int(response["Total"]) <= 3
    # The count is the last query: no page of ids is selected after it.
    assert "COUNT(" in captured.captured_queries[-1]["sql"].upper()
