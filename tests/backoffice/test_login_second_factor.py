"""The back-office login never signs in a second-factor account on its password alone.

The matrix: operators with no 2FA, TOTP, a passkey only, and both, each tried with the
password alone, with wrong second factors and with the right one. A passkey is asked
for after the password and only a verified assertion over the back-office flow's
challenge completes the login (accounts/services/operator_login.py).
"""

import json
import re
import secrets
from http import HTTPStatus
from pathlib import Path

import pytest
from django.contrib.auth import authenticate
from django.test import Client

from accounts.models import RecoveryCode
from accounts.services.recovery import recovery_codes_generate
from tests.accounts.conftest import tight_limits  # noqa: F401  (fixture)
from tests.conftest import BROWSER_UA
from tests.factories import DEFAULT_PASSWORD
from tests.resource_account.helpers import clock, two_factor_on  # noqa: F401  (fixture)
from tests.security.authenticator import SoftAuthenticator
from tests.security.test_passkeys_api import login_options, register

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/?next=/admin/"
PASSKEY = "/admin/login/passkey/"
API_LOGIN = "/api/v2/identity/sessions"
KINDS = ["no 2FA", "TOTP", "passkey only", "both"]
IN, OUT = True, False
REFUSED = "The passkey could not be verified. Log in again."


@pytest.fixture(autouse=True)
def _relying_party(settings):
    settings.BARONG_WEBAUTHN_RP_ID = "localhost"
    settings.BARONG_WEBAUTHN_ORIGINS = ["http://localhost:8000"]


class Kit:
    """An operator and what it holds: its authenticator, recovery codes, TOTP clock."""

    def __init__(self, operator, clock, authenticator=None, codes=()):  # noqa: F811
        self.operator = operator
        self.clock = clock
        self.authenticator = authenticator
        self.codes = list(codes)


@pytest.fixture
def operator_kit(make_admin, auth_api, clock):  # noqa: F811
    """``operator_kit(kind)`` → a ``compliance`` operator with that second factor."""

    def build(kind: str) -> Kit:
        operator = make_admin(role="compliance")
        kit = Kit(operator, clock)
        if kind in ("TOTP", "both"):
            two_factor_on(operator, clock)
            kit.codes = recovery_codes_generate(user=operator, code=clock.next_code(operator))
        if kind in ("passkey only", "both"):
            kit.authenticator = SoftAuthenticator()
            register(auth_api(operator), kit.authenticator)
        operator.refresh_from_db()
        return kit

    return build


def office() -> Client:
    return Client(HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR="203.0.113.40")


def password_step(client: Client, email: str, password: str = DEFAULT_PASSWORD, **codes):
    data = {"username": email, "password": password, "otp_code": "", "recovery_code": ""}
    return client.post(LOGIN, {**data, **codes})


def flow_of(response):
    """The passkey step the login page offers, or None."""
    if response.status_code != HTTPStatus.OK:
        return None
    return response.context["form"].passkey


def passkey_step(client: Client, flow_id: str, credential) -> object:
    text = credential if isinstance(credential, str) else json.dumps(credential)
    return client.post(PASSKEY, {"flow_id": flow_id, "credential": text, "next": "/admin/"})


def options_of(flow) -> dict:
    return {"publicKey": flow.public_key}


def signed_in(client: Client) -> bool:
    return client.get("/admin/").status_code == HTTPStatus.OK


# ---------------------------------------------------------------- the ways in


def by_password(client, kit):
    password_step(client, kit.operator.email)


def with_stray_code(client, kit):
    password_step(client, kit.operator.email, otp_code="123456")


def with_stray_recovery_code(client, kit):
    password_step(client, kit.operator.email, recovery_code="abcde-fghjk")


def with_wrong_code(client, kit):
    right = kit.clock.next_code(kit.operator)
    password_step(client, kit.operator.email, otp_code=f"{(int(right) + 1) % 10**6:06d}")


def with_wrong_recovery_code(client, kit):
    unused = "abcde-fghjk"
    assert unused not in kit.codes
    password_step(client, kit.operator.email, recovery_code=unused)


def with_forged_passkey_step(client, kit):
    """The password, then a made-up flow and a junk assertion posted to the passkey step."""
    password_step(client, kit.operator.email)
    passkey_step(client, secrets.token_urlsafe(32), SoftAuthenticator().get(_fake_options()))


def _fake_options() -> dict:
    return {"publicKey": {"challenge": secrets.token_urlsafe(32)}}


def _assert_with(client, kit, make_credential):
    flow = flow_of(password_step(client, kit.operator.email))
    assert flow is not None, "the passkey step was not offered"
    passkey_step(client, flow.flow_id, make_credential(options_of(flow)))


def with_another_authenticator(client, kit):
    _assert_with(client, kit, SoftAuthenticator().get)


def from_another_origin(client, kit):
    _assert_with(client, kit, lambda o: kit.authenticator.get(o, origin="https://evil.example"))


def with_a_junk_assertion(client, kit):
    _assert_with(client, kit, lambda o: "{not json")


def with_the_code(client, kit):
    password_step(client, kit.operator.email, otp_code=kit.clock.next_code(kit.operator))


def with_a_recovery_code(client, kit):
    password_step(client, kit.operator.email, recovery_code=kit.codes[0])


def with_the_passkey(client, kit):
    _assert_with(client, kit, kit.authenticator.get)


WAYS = {
    ("no 2FA", "password only"): ([by_password], IN),
    ("no 2FA", "wrong factor"): ([with_stray_code], IN),  # ignored, as at the API
    ("no 2FA", "right factor"): ([by_password], IN),  # the password is all it has
    ("TOTP", "password only"): ([by_password], OUT),
    ("TOTP", "wrong factor"): (
        [with_wrong_code, with_wrong_recovery_code, with_forged_passkey_step],
        OUT,
    ),
    ("TOTP", "right factor"): ([with_the_code, with_a_recovery_code], IN),
    ("passkey only", "password only"): ([by_password], OUT),
    ("passkey only", "wrong factor"): (
        [
            with_stray_code,
            with_stray_recovery_code,
            with_another_authenticator,
            from_another_origin,
            with_a_junk_assertion,
            with_forged_passkey_step,
        ],
        OUT,
    ),
    ("passkey only", "right factor"): ([with_the_passkey], IN),
    ("both", "password only"): ([by_password], OUT),
    ("both", "wrong factor"): (
        [
            with_wrong_code,
            with_wrong_recovery_code,
            with_another_authenticator,
            from_another_origin,
        ],
        OUT,
    ),
    ("both", "right factor"): ([with_the_code, with_a_recovery_code, with_the_passkey], IN),
}


@pytest.mark.parametrize(("kind", "attempt"), list(WAYS), ids=[" / ".join(k) for k in WAYS])
def test_no_second_factor_account_gets_in_without_its_factor(operator_kit, kind, attempt):
    ways, expected = WAYS[(kind, attempt)]
    kit = operator_kit(kind)
    got = {}

    for way in ways:
        client = office()
        way(client, kit)
        got[way.__name__] = signed_in(client)

    assert got == dict.fromkeys(got, expected)


# ---------------------------------------------------------------- the passkey step


def test_the_passkey_step_follows_only_the_right_password(operator_kit):
    kit = operator_kit("passkey only")

    wrong = password_step(office(), kit.operator.email, "Not-The-Password-1")
    unknown = password_step(office(), "nobody@example.com")
    right = password_step(office(), kit.operator.email)

    assert flow_of(wrong) is None
    assert flow_of(unknown) is None
    assert wrong.context["form"].errors == unknown.context["form"].errors
    assert "passkey-options" not in wrong.content.decode()
    flow = flow_of(right)
    assert flow is not None
    assert not flow.totp
    body = right.content.decode()
    assert 'id="passkey-options" type="application/json"' in body
    assert f'name="flow_id" value="{flow.flow_id}"' in body
    assert '<script src="/static/accounts/passkey_login.js" defer>' in body
    assert [c["id"] for c in flow.public_key["allowCredentials"]] == [kit.authenticator.id]
    assert 'id="login-form"' not in body  # nothing else to type for a passkey-only account


def test_an_operator_with_both_is_offered_the_code_form_too(operator_kit):
    kit = operator_kit("both")

    response = password_step(office(), kit.operator.email)

    assert flow_of(response).totp
    body = response.content.decode()
    assert 'id="passkey-form"' in body
    assert 'id="login-form"' in body
    assert 'name="recovery_code"' in body


def test_the_script_is_a_static_file_of_this_server():
    from django.contrib.staticfiles import finders

    text = Path(finders.find("accounts/passkey_login.js")).read_text(encoding="utf-8")

    assert "navigator.credentials.get" in text
    # No other host is named, and nothing is fetched: the page's own form posts the result.
    assert re.findall(r"https?:|fetch\(|XMLHttpRequest|import\(", text) == []


def test_a_passkey_login_signs_in_once_per_flow(operator_kit):
    kit = operator_kit("passkey only")
    client = office()
    flow = flow_of(password_step(client, kit.operator.email))
    credential = kit.authenticator.get(options_of(flow))

    before = client.session.session_key
    first = passkey_step(client, flow.flow_id, credential)
    replay = passkey_step(office(), flow.flow_id, credential)

    assert (first.status_code, first["Location"]) == (HTTPStatus.FOUND, "/admin/")
    assert signed_in(client)
    assert client.session.session_key != before  # a new session on signing in
    assert replay["Location"] == "/admin/login/?next=%2Fadmin%2F"


def test_an_api_flow_does_not_sign_in_to_the_back_office(api, operator_kit):
    """A flow is good at the door that started it: the API's at the API only."""
    kit = operator_kit("passkey only")
    options = login_options(api, kit.operator)
    client = office()

    response = passkey_step(client, options["flow_id"], kit.authenticator.get(options))

    assert response.status_code == HTTPStatus.FOUND
    assert REFUSED in client.get(response["Location"]).content.decode()
    assert not signed_in(client)


def test_a_back_office_flow_does_not_open_an_api_session(api, operator_kit):
    kit = operator_kit("passkey only")
    flow = flow_of(password_step(office(), kit.operator.email))

    response = api.post(
        "/api/v2/identity/sessions/webauthn/verify",
        {"flow_id": flow.flow_id, "credential": kit.authenticator.get(options_of(flow))},
        format="json",
    )

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json() == {"errors": ["identity.session.invalid_webauthn"]}


def test_failed_passkey_steps_count_under_the_one_login_policy(
    api,
    operator_kit,
    tight_limits,  # noqa: F811
):
    """A failed assertion in a flow the back-office gave counts against the account, as at
    the API's verify: the API login then refuses it too."""
    tight_limits(login_account="2/3600")
    kit = operator_kit("passkey only")
    for _ in range(2):
        with_another_authenticator(office(), kit)

    response = api.post(API_LOGIN, {"email": kit.operator.email, "password": DEFAULT_PASSWORD})

    assert response.json() == {"errors": ["identity.session.too_many_requests"]}


def test_a_failed_passkey_step_says_so_on_the_login_page(operator_kit):
    kit = operator_kit("passkey only")
    client = office()
    flow = flow_of(password_step(client, kit.operator.email))

    response = passkey_step(client, flow.flow_id, SoftAuthenticator().get(options_of(flow)))
    page = client.get(response["Location"])

    assert REFUSED in page.content.decode()
    assert not signed_in(client)


def test_a_recovery_code_signs_in_once(operator_kit):
    kit = operator_kit("TOTP")
    code = kit.codes[2]

    first, again = office(), office()
    password_step(first, kit.operator.email, recovery_code=code.upper().replace("-", " "))
    password_step(again, kit.operator.email, recovery_code=code)

    assert signed_in(first)
    assert not signed_in(again)
    assert RecoveryCode.objects.filter(user=kit.operator, used_at__isnull=True).count() == 9


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"flow_id": "", "credential": ""},
        {"flow_id": "x" * 129, "credential": "{}"},
        {"flow_id": "abc", "credential": "[" * 5000 + "]" * 5000},
        {"flow_id": "abc", "credential": "x" * 16_385},
        {"flow_id": "abc\x00", "credential": '{"id": "\\u0000"}'},
        {"flow_id": "abc", "credential": "[1, 2]"},
        {"flow_id": "abc", "credential": '{"id": 5, "response": []}'},
    ],
    ids=["empty", "blank", "long flow", "deep json", "huge", "nul", "list", "wrong types"],
)
def test_hostile_passkey_steps_go_back_to_the_login_page(data):
    client = office()

    response = client.post(PASSKEY, data)

    assert response.status_code == HTTPStatus.FOUND
    assert REFUSED in client.get(response["Location"]).content.decode()
    assert not signed_in(client)


def test_the_passkey_step_takes_only_posts_and_keeps_to_this_site(operator_kit):
    kit = operator_kit("passkey only")
    client = office()
    flow = flow_of(password_step(client, kit.operator.email))

    assert client.get(PASSKEY).status_code == HTTPStatus.METHOD_NOT_ALLOWED
    response = client.post(
        PASSKEY,
        {
            "flow_id": flow.flow_id,
            "credential": json.dumps(kit.authenticator.get(options_of(flow))),
            "next": "https://evil.example/admin/",
        },
    )
    assert response["Location"] == "/admin/"


@pytest.mark.parametrize("kind", KINDS)
def test_djangos_authenticate_never_answers_a_second_factor_account(operator_kit, kind):
    """No page calls it, but nothing may sign in on the password alone, this included."""
    kit = operator_kit(kind)

    user = authenticate(None, username=kit.operator.email, password=DEFAULT_PASSWORD)

    assert (user == kit.operator) is (kind == "no 2FA")


# ---------------------------------------------------------------- the activity rows
#
# The back-office writes the rows the API login writes, through the same services: each
# case is played at both doors by two operators alike, and their session rows compared.

WRONG = "Not-The-Password-1"


def api_login(api, kit, password=DEFAULT_PASSWORD, **second):
    api.post(API_LOGIN, {"email": kit.operator.email, "password": password, **second})


def api_passkey(api, kit, make_credential):
    options = login_options(api, kit.operator)
    api.post(
        "/api/v2/identity/sessions/webauthn/verify",
        {"flow_id": options["flow_id"], "credential": make_credential(options)},
        format="json",
    )


CASES = {
    # case: (kind, at the API, at the back-office)
    "wrong password": (
        "no 2FA",
        lambda api, kit: api_login(api, kit, WRONG),
        lambda client, kit: password_step(client, kit.operator.email, WRONG),
    ),
    "right password": ("no 2FA", api_login, by_password),
    "banned": ("banned", api_login, by_password),
    "no code": ("TOTP", api_login, by_password),
    "wrong code": (
        "TOTP",
        lambda api, kit: api_login(api, kit, otp_code="000000"),
        lambda client, kit: password_step(client, kit.operator.email, otp_code="000000"),
    ),
    "right code": (
        "TOTP",
        lambda api, kit: api_login(api, kit, otp_code=kit.clock.next_code(kit.operator)),
        with_the_code,
    ),
    "wrong recovery code": (
        "TOTP",
        lambda api, kit: api_login(api, kit, recovery_code="abcde-fghjk"),
        with_wrong_recovery_code,
    ),
    "right recovery code": (
        "TOTP",
        lambda api, kit: api_login(api, kit, recovery_code=kit.codes[0]),
        with_a_recovery_code,
    ),
    "passkey step started": (
        "passkey only",
        lambda api, kit: login_options(api, kit.operator),
        by_password,
    ),
    "wrong passkey": (
        "passkey only",
        lambda api, kit: api_passkey(api, kit, SoftAuthenticator().get),
        with_another_authenticator,
    ),
    "right passkey": (
        "passkey only",
        lambda api, kit: api_passkey(api, kit, kit.authenticator.get),
        with_the_passkey,
    ),
}


@pytest.fixture
def case_kit(operator_kit, make_admin):
    def build(kind: str) -> Kit:
        if kind == "banned":
            return Kit(make_admin(role="compliance", labels={"ban": "by_admin"}), None)
        return operator_kit(kind)

    return build


def session_rows(user) -> list[tuple]:
    """(action, result, data) of the user's own login rows, oldest first."""
    from activities.models import Activity

    rows = Activity.objects.filter(user=user, category="user", topic="session").order_by("id")
    return [(r.action, r.result, json.loads(r.data) if r.data else None) for r in rows]


@pytest.mark.parametrize("case", list(CASES))
def test_the_back_office_writes_the_rows_of_the_api_login(api, case_kit, case):
    kind, at_api, at_office = CASES[case]
    api_kit, office_kit = case_kit(kind), case_kit(kind)

    at_api(api, api_kit)
    at_office(office(), office_kit)

    assert session_rows(office_kit.operator) == session_rows(api_kit.operator)
    # The first step of a 2FA login (no code yet, or the passkey's options) is no attempt:
    # no row at either door, as Barong from 2.4.6 on.
    if case not in ("passkey step started", "no code"):
        assert session_rows(office_kit.operator) != []


def test_each_back_office_login_is_also_in_the_operators_audit_log(operator_kit):
    from activities.models import Activity

    factors = {}
    for kind, way in [
        ("no 2FA", by_password),
        ("TOTP", with_the_code),
        ("TOTP", with_a_recovery_code),
        ("passkey only", with_the_passkey),
    ]:
        kit = operator_kit(kind)
        way(office(), kit)
        [row] = Activity.objects.filter(user=kit.operator, category="admin")
        factors[way.__name__] = (row.topic, row.action, json.loads(row.data))

    assert factors == {
        "by_password": ("session", "login", {"via": "backoffice", "factor": "none"}),
        "with_the_code": ("session", "login", {"via": "backoffice", "factor": "totp"}),
        "with_a_recovery_code": (
            "session",
            "login",
            {"via": "backoffice", "factor": "recovery_code"},
        ),
        "with_the_passkey": ("session", "login", {"via": "backoffice", "factor": "passkey"}),
    }


def test_a_back_office_login_announces_the_session_as_the_api_login_does(operator_kit):
    from events.models import OutboxEvent

    kit = operator_kit("passkey only")
    with_the_passkey(office(), kit)

    [event] = OutboxEvent.objects.filter(routing_key="session.create")
    assert event.payload["record"]["user"]["uid"] == kit.operator.uid
    assert event.payload["record"]["user_ip"] == "203.0.113.40"


def test_a_non_operators_right_password_is_a_failed_login_in_its_log(make_user):
    member = make_user()

    password_step(office(), member.email)

    assert session_rows(member) == [
        ("login", "failed", {"reason": "The account may not log in to the back-office"})
    ]


@pytest.fixture
def queued(monkeypatch):
    """The failed-login task, recorded rather than run (a worker runs it in production)."""
    from accounts.tasks import user_login_failure_record

    calls: list[tuple] = []
    monkeypatch.setattr(user_login_failure_record, "delay", lambda *args: calls.append(args))
    return calls


def _work(email: str, password: str):
    """(SQL with the e-mail and timestamps blanked, the form's errors) of one login."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = password_step(office(), email, password)
    sql = [re.sub(re.escape(email), "<e>", q["sql"], flags=re.IGNORECASE) for q in queries]
    sql = [re.sub(r"'\d{4}-\d\d-\d\d[ T][\d:.+]+'", "<t>", q) for q in sql]
    return sql, response.context["form"].errors


def test_an_unknown_email_costs_and_answers_as_a_wrong_password(make_admin, queued):
    """As at the API: one look-up, one hash, one task; the worker writes the row of an
    account that exists, so the request does the same work for one that does not."""
    operator = make_admin(role="compliance")

    known = _work(operator.email, WRONG)
    unknown = _work("nobody-here@example.com", WRONG)

    assert known == unknown
    assert [args[0] for args in queued] == [operator.email, "nobody-here@example.com"]
    assert [type(a) for a in queued[0]] == [type(a) for a in queued[1]]
    assert session_rows(operator) == []  # written by the worker, not the request
