"""The e-mail links' pages: GET shows a form and changes nothing, POST calls the services."""

import pytest
from django.test import Client

from accounts import tokens
from accounts.models import User
from activities.models import Activity
from tests.conftest import BROWSER_UA
from tests.factories import DEFAULT_PASSWORD

NEW_PASSWORD = "Another-Strong-Pass-77"


@pytest.fixture
def browser():
    return Client(HTTP_USER_AGENT=BROWSER_UA, enforce_csrf_checks=True)


def _csrf(client: Client, url: str) -> tuple[str, str]:
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    csrf = html.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    return html, csrf


def test_confirmation_get_shows_a_form_and_changes_nothing(browser, make_user):
    user = make_user(verified=False)
    token = tokens.token_issue(user=user, purpose=tokens.CONFIRMATION)
    for _ in range(3):  # link scanners fetch the link, sometimes several times
        html, _ = _csrf(browser, f"/accounts/confirmation?confirmation_token={token}&lang=en")
    assert '<html lang="en">' in html
    assert 'method="post"' in html
    assert "http://" not in html.replace('"http://www.w3.org', "")
    user.refresh_from_db()
    assert user.state == User.State.PENDING
    assert tokens.token_usable(
        claims=tokens.token_decode(token=token, purpose="confirmation"), purpose=tokens.CONFIRMATION
    )


def test_confirmation_post_confirms_once(browser, make_user):
    user = make_user(verified=False)
    token = tokens.token_issue(user=user, purpose=tokens.CONFIRMATION)
    _, csrf = _csrf(browser, f"/accounts/confirmation?confirmation_token={token}")
    response = browser.post("/accounts/confirmation", {"token": token, "csrfmiddlewaretoken": csrf})
    assert response.status_code == 200
    assert user.email in response.content.decode()
    user.refresh_from_db()
    assert (user.state, user.level) == (User.State.ACTIVE, 1)

    again = browser.post("/accounts/confirmation", {"token": token, "csrfmiddlewaretoken": csrf})
    assert again.status_code == 422
    assert "already confirmed" in again.content.decode()


def test_confirmation_post_needs_the_csrf_token(browser, make_user):
    user = make_user(verified=False)
    token = tokens.token_issue(user=user, purpose=tokens.CONFIRMATION)
    response = browser.post("/accounts/confirmation", {"token": token})
    assert response.status_code == 403
    user.refresh_from_db()
    assert user.state == User.State.PENDING


@pytest.mark.parametrize(
    "query",
    ["", "confirmation_token=", "confirmation_token=%00abc", "confirmation_token=" + "a" * 5000],
)
def test_confirmation_link_without_a_usable_token_is_400(browser, db, query):
    response = browser.get(f"/accounts/confirmation?{query}")
    assert response.status_code == 400
    assert "link is incomplete" in response.content.decode()


@pytest.mark.parametrize(
    ("token", "status", "text"),
    [
        ("not-a-jwt", 403, "invalid or has expired"),
        ("", 400, "link is incomplete"),
        ("x" * 5000, 400, "link is incomplete"),
    ],
)
def test_confirmation_post_with_a_bad_token(token, status, text, db):
    client = Client(HTTP_USER_AGENT=BROWSER_UA)  # CSRF checked elsewhere
    response = client.post("/accounts/confirmation", {"token": token})
    assert response.status_code == status
    assert text in response.content.decode()


def test_reset_token_for_confirmation_page_is_refused(make_user):
    user = make_user(verified=False)
    token = tokens.token_issue(user=user, purpose=tokens.RESET)
    response = Client().post("/accounts/confirmation", {"token": token})
    assert response.status_code == 403
    user.refresh_from_db()
    assert user.state == User.State.PENDING


def test_password_reset_page_sets_the_password(browser, make_user):
    user = make_user()
    token = tokens.token_issue(user=user, purpose=tokens.RESET)
    html, csrf = _csrf(browser, f"/accounts/password_reset?reset_token={token}&lang=en")
    assert '<label for="id_password">' in html
    assert 'autocomplete="new-password"' in html
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)  # the GET changed nothing

    response = browser.post(
        "/accounts/password_reset",
        {
            "token": token,
            "password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
            "csrfmiddlewaretoken": csrf,
        },
    )
    assert response.status_code == 200
    assert "password is changed" in response.content.decode()
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    row = Activity.objects.filter(user=user, topic="password").latest("id")
    assert (row.action, row.result) == ("password reset", "succeed")


@pytest.mark.parametrize(
    ("password", "confirm", "status", "text"),
    [
        ("abc", "abc", 422, "too short"),
        ("password", "password", 422, "too weak"),
        (NEW_PASSWORD, NEW_PASSWORD + "x", 422, "The two passwords differ"),
        ("", "", 422, "This field is required"),
        ("p" * 500, "p" * 500, 422, "at most 128"),
    ],
)
def test_password_reset_page_refuses_bad_passwords(make_user, password, confirm, status, text):
    user = make_user()
    token = tokens.token_issue(user=user, purpose=tokens.RESET)
    response = Client().post(
        "/accounts/password_reset",
        {"token": token, "password": password, "confirm_password": confirm},
    )
    assert response.status_code == status
    assert text in response.content.decode()
    assert 'name="token"' in response.content.decode()  # the form is shown again
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_password_reset_link_used_twice(make_user):
    user = make_user()
    token = tokens.token_issue(user=user, purpose=tokens.RESET)
    data = {"token": token, "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
    assert Client().post("/accounts/password_reset", data).status_code == 200
    again = Client().post("/accounts/password_reset", data)
    assert again.status_code == 422
    assert "already used" in again.content.decode()


@pytest.mark.parametrize("method", ["put", "delete", "patch"])
def test_pages_answer_only_get_and_post(db, method):
    response = getattr(Client(), method)("/accounts/confirmation")
    assert response.status_code == 405


def test_emails_link_to_this_server_in_development(
    api, db, mailoutbox, settings, django_capture_on_commit_callbacks
):
    settings.BARONG_DOMAIN = "http://127.0.0.1:8123"
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/v2/identity/users", {"email": "link@example.com", "password": DEFAULT_PASSWORD}
        )
    assert response.status_code == 201
    body = mailoutbox[-1].body
    assert "http://127.0.0.1:8123/accounts/confirmation?confirmation_token=" in body
    assert "on 127.0.0.1:8123 with" in body


def test_development_default_domain_is_this_server():
    from django.conf import settings

    if settings.PRODUCTION or "BARONG_DOMAIN" in __import__("os").environ:
        pytest.skip("the default only applies in development without BARONG_DOMAIN")
    assert settings.BARONG_DOMAIN == "http://127.0.0.1:8000"
