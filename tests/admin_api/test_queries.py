"""Extended lists cost a constant number of queries per page: 3 users cost what 30 cost."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from activities.models import Activity
from activities.services import activity_record, admin_activity_record
from tests.admin_api.conftest import ADMIN, full_kyc
from tests.conftest import rows_once
from tests.factories import make_admin_user, make_user_with

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


def add_users(count: int, referrer: User) -> list[User]:
    users = []
    for _ in range(count):
        user = make_user_with()
        full_kyc(user)
        User.objects.filter(pk=user.pk).update(referral=referrer)
        activity_record(user=user, topic="session", action="login", user_agent_text="Firefox/1")
        admin_activity_record(admin=referrer, topic="users", action="update", target=user)
        users.append(user)
    return users


def _thirty_users():
    operator = make_admin_user()
    return operator, add_users(30, operator)


@pytest.fixture(scope="module")
def thirty(django_db_setup, django_db_blocker):
    """A superadmin and 30 fully KYC'd users they referred and updated, built once."""
    yield from rows_once(django_db_blocker, _thirty_users)


@pytest.fixture
def superadmin(thirty):
    return thirty[0]


def keep_three(users: list[User]) -> None:
    """Leave 3 of the users (this test's savepoint brings the rest back): every row the
    other 27 wrote goes with them, the admin activities that name them included."""
    gone = [user.uid for user in users[3:]]
    User.objects.filter(uid__in=gone).delete()
    Activity.objects.filter(target_uid__in=gone).delete()
    assert User.objects.exclude(role="superadmin").count() == 3


@pytest.mark.parametrize(("path", "params"), PAGES)
def test_three_users_cost_what_thirty_cost(sa_api, thirty, path, params):
    queries(sa_api, path, params)  # warm the permission table
    many = queries(sa_api, path, params)
    keep_three(thirty[1])

    few = queries(sa_api, path, params)

    assert few == many
    assert many <= 12


def test_one_user_file_is_a_fixed_number_of_queries(sa_api, thirty):
    target = thirty[1][0]
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
def test_a_page_past_an_exact_total_reads_no_rows(sa_api, thirty, path, params):
    keep_three(thirty[1])
    queries(sa_api, path, params)  # warm the permission table

    with CaptureQueriesContext(connection) as captured:
        response = sa_api.get(path, params)

    assert response.status_code == 200
    assert response.json() == []
    assert int(response["Total"]) <= 3
    # The count is the last query: no page of ids is selected after it.
    assert "COUNT(" in captured.captured_queries[-1]["sql"].upper()
