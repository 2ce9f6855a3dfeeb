"""The users page lists a user's live sessions and ends them through the service (audited)."""

from http import HTTPStatus

import pytest
from rest_framework.test import APIClient

from activities.models import Activity
from tests.authz.conftest import login
from tests.conftest import BROWSER_UA

pytestmark = pytest.mark.django_db

AUTHZ_ME = "/api/v2/auth/api/v2/barong/resource/users/me"


def test_change_page_lists_sessions_and_the_action_ends_them(operator_client, make_user):
    client, operator = operator_client("admin")
    member = make_user()
    agent = f"{BROWSER_UA} <b>tag</b>"
    browser = APIClient(HTTP_USER_AGENT=agent, REMOTE_ADDR="203.0.113.10")
    login(browser, member, user_agent=agent)
    assert browser.get(AUTHZ_ME).status_code == HTTPStatus.OK

    page = client.get(f"/admin/accounts/user/{member.pk}/change/")
    assert page.status_code == HTTPStatus.OK
    assert "203.0.113.10" in page.content.decode()
    assert "&lt;b&gt;tag&lt;/b&gt;" in page.content.decode()

    client.post(
        "/admin/accounts/user/",
        {"action": "end_sessions", "_selected_action": [member.pk], "index": 0},
        follow=True,
    )

    assert browser.get(AUTHZ_ME).status_code == HTTPStatus.UNAUTHORIZED
    audit = Activity.objects.get(category="admin", topic="sessions", target_uid=member.uid)
    assert audit.user == operator


def test_read_only_role_cannot_end_sessions(operator_client, make_user):
    client, _ = operator_client("support")
    member = make_user()
    browser = APIClient(HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR="203.0.113.10")
    login(browser, member)

    client.post(
        "/admin/accounts/user/",
        {"action": "end_sessions", "_selected_action": [member.pk], "index": 0},
        follow=True,
    )

    assert browser.get(AUTHZ_ME).status_code == HTTPStatus.OK


def _session_id(member) -> str:
    from accounts.sessions import user_sessions_list

    return user_sessions_list(member.uid)[0]["id"]


def test_one_session_is_ended_from_the_change_page(operator_client, make_user):
    client, operator = operator_client("admin")
    member = make_user()
    browser = APIClient(HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR="203.0.113.10")
    login(browser, member)
    session_id = _session_id(member)
    url = f"/admin/accounts/user/{member.pk}/sessions/{session_id}/end/"
    assert url in client.get(f"/admin/accounts/user/{member.pk}/change/").content.decode()

    assert client.get(url).status_code == HTTPStatus.FOUND  # a GET changes nothing
    assert browser.get(AUTHZ_ME).status_code == HTTPStatus.OK
    response = client.post(url, follow=True)

    assert "A session of" in response.content.decode()
    assert browser.get(AUTHZ_ME).status_code == HTTPStatus.UNAUTHORIZED
    audit = Activity.objects.get(category="admin", topic="sessions", target_uid=member.uid)
    assert audit.user == operator


@pytest.mark.parametrize("session_id", ["0" * 32, "x" * 300, "%00"])
def test_unknown_session_is_a_message_not_an_error(operator_client, make_user, session_id):
    client, _ = operator_client("admin")
    member = make_user()

    response = client.post(
        f"/admin/accounts/user/{member.pk}/sessions/{session_id}/end/", follow=True
    )

    assert response.status_code in (HTTPStatus.OK, HTTPStatus.BAD_REQUEST, HTTPStatus.NOT_FOUND)
    if response.status_code == HTTPStatus.OK:
        assert "admin.session.doesnt_exist" in response.content.decode()


def test_read_only_role_cannot_end_one_session(operator_client, make_user):
    client, _ = operator_client("support")
    member = make_user()
    browser = APIClient(HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR="203.0.113.10")
    login(browser, member)

    response = client.post(f"/admin/accounts/user/{member.pk}/sessions/{_session_id(member)}/end/")

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert browser.get(AUTHZ_ME).status_code == HTTPStatus.OK
