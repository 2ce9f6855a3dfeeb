"""The confirmation page: a logged-in user sees the operation and confirms it with a code;
GET changes nothing; the return address is followed only to an allowed origin."""

from http import HTTPStatus

import pytest

from management import confirmations
from management.models import Confirmation
from tests.management.test_confirmations import WITHDRAW
from tests.resource_account import helpers
from tests.resource_account.helpers import login, two_factor_on

pytestmark = pytest.mark.django_db
clock = helpers.clock
FRONT = "http://localhost:8000"


@pytest.fixture
def member(make_user, clock):
    return two_factor_on(make_user(), clock)


@pytest.fixture
def pending(member):
    return confirmations.confirmation_request(user=member, fields=WITHDRAW, signers=("applogic",))


@pytest.fixture
def browser(api, member, clock):
    """The member's browser, logged in through the identity API (the session cookie)."""
    login(api, member, otp_code=clock.next_code(member))
    return api


def page_url(row, **query) -> str:
    suffix = "&".join(f"{k}={v}" for k, v in query.items())
    return f"/confirmations/{row.cid}" + (f"?{suffix}" if suffix else "")


def test_shows_the_operation_and_changes_nothing(browser, pending):
    response = browser.get(page_url(pending))
    assert response.status_code == HTTPStatus.OK
    text = response.content.decode()
    for value in ("withdraw", "BTC", "0.5", WITHDRAW["destination"], pending.digest[:16]):
        assert value in text
    assert 'id="otp-form"' in text
    assert 'id="passkey-form"' not in text  # no passkey registered
    pending.refresh_from_db()
    assert (pending.state, pending.attempts) == ("pending", 0)


def test_needs_the_user_logged_in(api, pending):
    response = api.get(page_url(pending))
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert b"Log in to your account first" in response.content
    assert b"otp-form" not in response.content


def test_another_users_confirmation_is_not_found(api, pending, make_user, clock):
    other = two_factor_on(make_user(), clock)
    login(api, other, otp_code=clock.next_code(other))
    response = api.get(page_url(pending))
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert WITHDRAW["destination"].encode() not in response.content


def test_confirm_with_a_code_then_return(browser, pending, member, clock):
    back = f"{FRONT}/wallet/withdrawals?id=7"
    response = browser.post(
        page_url(pending),
        {
            "digest": pending.digest,
            "return_url": back,
            "otp_code": clock.next_code(member),
            "decision": "confirm",
        },
    )
    assert response.status_code == HTTPStatus.SEE_OTHER
    assert response["Location"] == back
    pending.refresh_from_db()
    assert (pending.state, pending.method) == ("confirmed", "otp")
    assert pending.token


def test_wrong_code_and_changed_operation(browser, pending, member, clock):
    wrong = browser.post(
        page_url(pending), {"digest": pending.digest, "otp_code": "000000", "decision": "confirm"}
    )
    assert wrong.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert b"This code is not right" in wrong.content
    helpers.unthrottle(member)
    changed = browser.post(
        page_url(pending),
        {"digest": "0" * 64, "otp_code": clock.next_code(member), "decision": "confirm"},
    )
    assert changed.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert b"The operation changed" in changed.content
    empty = browser.post(page_url(pending), {"digest": pending.digest, "decision": "confirm"})
    assert empty.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    pending.refresh_from_db()
    assert (pending.state, pending.attempts) == ("pending", 1)


def test_reject(browser, pending):
    response = browser.post(page_url(pending), {"digest": pending.digest, "decision": "reject"})
    assert response.status_code == HTTPStatus.OK
    assert b"This operation was refused." in response.content
    pending.refresh_from_db()
    assert pending.state == Confirmation.State.REJECTED


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/steal",
        "//evil.example/x",
        "javascript:alert(1)",
        "http://localhost:8000@evil.example/",
        "http://user@localhost:8000/",
        "http://localhost:8001/",
        "https://localhost:8000/",
        "http:\\\\evil.example",
        "/relative/path",
        "http://localhost:8000/\x00",
    ],
)
def test_no_open_redirect(browser, pending, member, clock, target):
    shown = browser.get(f"/confirmations/{pending.cid}", {"return_url": target})
    assert shown.status_code == HTTPStatus.BAD_REQUEST
    posted = browser.post(
        page_url(pending),
        {
            "digest": pending.digest,
            "return_url": target,
            "otp_code": clock.next_code(member),
            "decision": "confirm",
        },
    )
    assert posted.status_code == HTTPStatus.BAD_REQUEST
    assert "Location" not in posted
    pending.refresh_from_db()
    assert pending.state == "pending"


def test_allowed_origins_follow_the_setting(settings):
    settings.BARONG_CONFIRMATION_RETURN_ORIGINS = ["https://exchange.example"]
    assert confirmations.return_url_allowed("https://exchange.example/wallet")
    assert confirmations.return_url_allowed("https://EXCHANGE.example/wallet")
    assert not confirmations.return_url_allowed("https://exchange.example.evil/wallet")
    assert not confirmations.return_url_allowed(f"{FRONT}/wallet")


@pytest.mark.parametrize("method", ["put", "delete", "patch"])
def test_other_methods(browser, pending, method):
    assert getattr(browser, method)(page_url(pending)).status_code == 405


def test_hostile_form(browser, pending):
    response = browser.post(
        page_url(pending), {"digest": pending.digest, "decision": "both", "otp_code": "x" * 99}
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    bad_json = browser.post(
        page_url(pending), {"digest": pending.digest, "decision": "confirm", "credential": "{no"}
    )
    assert bad_json.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    pending.refresh_from_db()
    assert pending.state == "pending"
