"""Back-office lists at scale: constant queries, indexed searches, fixed filter choices."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Label
from activities.services import activity_record, admin_activity_record
from kyc.models import DataStorage, Phone, Profile
from tests.backoffice.conftest import document_add
from tests.backoffice.test_users import _change

pytestmark = pytest.mark.django_db

PAGES = [
    ("/admin/accounts/user/", {}),
    ("/admin/accounts/user/", {"q": "example.com"}),
    ("/admin/accounts/user/", {"state": "active", "level": "2"}),
    ("/admin/activities/activity/", {}),
    ("/admin/activities/activity/", {"q": "example.com"}),
    ("/admin/activities/activity/", {"topic": "session", "action": "login"}),
    ("/admin/kyc/document/", {}),
    ("/admin/kyc/document/", {"doc_type": "Passport"}),
    ("/admin/kyc/document/review/", {}),
    ("/admin/kyc/document/review/", {"q": "example.com"}),
    ("/admin/kyc/profile/", {"state__exact": "submitted"}),
    ("/admin/kyc/profile/", {"q": "lovelace"}),
    ("/admin/accounts/label/", {"key": "document"}),
    ("/admin/kyc/phone/", {"country": "GB"}),
    ("/admin/kyc/datastorage/", {}),
    ("/admin/accounts/resyncjob/", {}),
]
_numbers = iter(range(10**6))


def add_users(count: int, make_user, operator) -> None:
    for _ in range(count):
        user = make_user(labels={"phone": "verified"})
        Profile.objects.create(user=user, first_name="Ada", last_name="Lovelace", state="submitted")
        Phone.objects.create(user=user, country="GB", number=f"4479460{next(_numbers):05d}")
        DataStorage.objects.create(user=user, title="personal", data="{}")
        document_add(user)
        activity_record(user=user, topic="session", action="login", user_agent_text="Firefox/1")
        admin_activity_record(admin=operator, topic="users", action="update", target=user)


def queries(client, path: str, params: dict) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, params)
    assert response.status_code == 200, (path, params)
    return len(captured.captured_queries)


@pytest.mark.parametrize(("path", "params"), PAGES)
def test_one_row_costs_what_four_cost(operator_client, make_user, path, params):
    client, operator = operator_client("superadmin")
    add_users(1, make_user, operator)
    queries(client, path, params)  # warm the session and permission caches
    few = queries(client, path, params)
    add_users(3, make_user, operator)

    assert queries(client, path, params) == few


def test_filters_never_read_distinct_values_of_big_tables(operator_client, make_user):
    client, operator = operator_client("superadmin")
    add_users(1, make_user, operator)
    for path in ("/admin/accounts/user/", "/admin/activities/activity/", "/admin/accounts/label/"):
        with CaptureQueriesContext(connection) as captured:
            client.get(path)
        sql = " ".join(query["sql"].upper() for query in captured.captured_queries)
        assert "DISTINCT" not in sql, path


def test_searches_find_by_uid_email_part_and_name(operator_client, make_user):
    client, operator = operator_client("superadmin")
    ada = make_user(email="ada@example.com")
    grace = make_user(email="grace@example.org")
    Profile.objects.create(user=grace, first_name="Grace", last_name="Hopper")
    activity_record(user=ada, topic="session", action="login", user_agent_text="Firefox/1")
    admin_activity_record(admin=operator, topic="users", action="update", target=grace)

    def users(query: str) -> set[str]:
        page = client.get("/admin/accounts/user/", {"q": query})
        return {row.email for row in page.context["cl"].result_list}

    def acted(query: str) -> list[tuple[str, str | None]]:
        page = client.get("/admin/activities/activity/", {"q": query})
        return [(row.user.email, row.target_uid) for row in page.context["cl"].result_list]

    assert users(ada.uid.lower()) == {"ada@example.com"}
    assert users("ADA@EXA") == {"ada@example.com"}
    assert users("hopp") == {"grace@example.org"}
    assert users("zz") == set()
    assert acted(ada.uid) == [("ada@example.com", None)]
    assert acted(grace.uid) == [(operator.email, grace.uid)]
    assert acted("example.org") == []  # grace did nothing herself


def test_the_queue_reads_waiting_labels_only(operator_client, make_user):
    client, _ = operator_client("compliance")
    waiting = make_user()
    document_add(waiting)
    decided = make_user()
    document_add(decided)
    Label.objects.filter(user=decided, key="document").update(value="verified")

    page = client.get("/admin/kyc/document/review/")

    assert [entry["user"].pk for entry in page.context["entries"]] == [waiting.pk]
    assert page.context["total"] == 1


def test_a_manual_state_is_shown_and_can_be_handed_back(operator_client, make_user):
    client, _ = operator_client("superadmin")
    member = make_user()
    _change(client, member, state="locked")
    member.refresh_from_db()
    assert (member.state, member.state_manual) == ("locked", True)
    page = client.get("/admin/accounts/user/", {"state_manual__exact": "1"})
    assert [row.pk for row in page.context["cl"].result_list] == [member.pk]

    client.post(
        "/admin/accounts/user/",
        {"action": "release_manual_state", "_selected_action": [member.pk]},
    )

    member.refresh_from_db()
    assert (member.state, member.state_manual) == ("active", False)
