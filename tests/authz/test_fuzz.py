"""Generated gateway calls: any cookie, Authorization, X-Forwarded-For, method and path,
and any API-key headers, end in a JSON 4xx or the documented empty 200, never a 500.

Each example goes through the WSGI front (the fast path, then the full path behind it,
as gunicorn serves it) and through Django's stack. Bounded, derandomized runs.
"""

import json
import time

import pytest
from django.conf import settings as django_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from apikeys.services import api_key_create
from permissions.wsgi import AuthzFront
from tests.authz.conftest import CLIENT_IP, gateway_environ, login, signed_headers, wsgi_call
from tests.conftest import BROWSER_UA, bearer_for

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# What a WSGI server can hand over: header values are latin-1 strings of the bytes sent.
HEADER = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=255), max_size=120)
SEGMENT = st.sampled_from(
    ["api", "v2", "barong", "resource", "users", "me", "admin", "identity", "management",
     "peatio", "..", ".", "", "%2e%2e", "%2f", ";x", "\\", "me.json", "%00", "é", "\x00"]
)  # fmt: skip
PATH = st.lists(SEGMENT | HEADER.filter(lambda s: "/" not in s), max_size=7).map("/".join)
METHOD = st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE"])
METHOD = METHOD | st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ-", min_size=1, max_size=10)


def _checked(status: int, body: bytes, method: str) -> None:
    assert status < 500, (status, body[:300])
    if status == 200:
        assert body == b""
    elif body or method != "HEAD":  # Django's test client drops a HEAD answer's body
        assert set(json.loads(body)) == {"errors"}, body[:300]


def _front_call(front: AuthzFront, path: str, method: str, headers: dict[str, str]) -> None:
    environ = gateway_environ("/api/v2/auth/" + path, method=method, **headers)
    sent: dict = {}

    def start_response(status, response_headers, exc_info=None):
        sent["status"] = int(status.split(" ", 1)[0])

    body = wsgi_call(front, environ, start_response)
    _checked(sent["status"], body, method)


def _django_call(path: str, method: str, headers: dict[str, str]) -> None:
    client = APIClient(HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR=CLIENT_IP)
    response = client.generic(method, "/api/v2/auth/" + path, **headers)
    _checked(response.status_code, response.content, method)


def _both(path: str, method: str, headers: dict[str, str]) -> None:
    _front_call(AuthzFront(lambda environ, start: [], fast_path=True), path, method, headers)
    try:
        path.encode("ascii")
    except UnicodeEncodeError:
        return  # the test client percent-encodes what a WSGI server hands over as latin-1
    _django_call(path, method, headers)


@pytest.fixture
def cookie(make_user):
    """A live session's cookie value, so that generated headers can sit next to a real one."""
    client = APIClient()
    login(client, make_user())
    return client.cookies[django_settings.SESSION_COOKIE_NAME].value


@FUZZ
@given(
    path=PATH,
    method=METHOD,
    cookie_header=HEADER,
    authorization=HEADER,
    forwarded=HEADER,
    csrf=HEADER,
    real_cookie=st.booleans(),
)
def test_any_gateway_headers(
    make_user, cookie, path, method, cookie_header, authorization, forwarded, csrf, real_cookie
):
    name = django_settings.SESSION_COOKIE_NAME
    if real_cookie:
        cookie_header = f"{name}={cookie}; {cookie_header}"
    headers = {
        "HTTP_COOKIE": cookie_header,
        "HTTP_AUTHORIZATION": authorization,
        "HTTP_X_FORWARDED_FOR": forwarded,
        "HTTP_X_CSRF_TOKEN": csrf,
    }
    _both(path, method, headers)


@FUZZ
@given(path=PATH, method=METHOD, bearer=st.booleans())
def test_any_path_and_method_with_a_valid_session(make_user, cookie, path, method, bearer):
    """The credentials hold: what varies is where and how they are used."""
    name = django_settings.SESSION_COOKIE_NAME
    headers = {"HTTP_COOKIE": f"{name}={cookie}"}
    if bearer:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {bearer_for(make_user())}"
    _both(path, method, headers)


@pytest.fixture
def api_key(make_user):
    owner = make_user()
    owner.otp = True
    owner.save(update_fields=["otp"])
    return api_key_create(user=owner)


NONCE = st.one_of(
    HEADER,
    st.integers(min_value=-(10**20), max_value=10**22).map(str),
    st.integers(min_value=-10_000, max_value=10_000).map(
        lambda offset: str(int(time.time() * 1000) + offset)
    ),
)


@FUZZ
@given(
    kid=HEADER | st.just("real"),
    nonce=NONCE,
    signature=HEADER | st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
    sign_it=st.booleans(),
    method=METHOD,
)
def test_any_api_key_headers(api_key, kid, nonce, signature, sign_it, method):
    key, secret = api_key
    kid = key.kid if kid == "real" else kid
    headers = {"HTTP_X_AUTH_APIKEY": kid, "HTTP_X_AUTH_NONCE": nonce}
    headers["HTTP_X_AUTH_SIGNATURE"] = signature
    if sign_it and kid == key.kid:  # a correct signature of the generated nonce
        headers = {**signed_headers(kid, secret, nonce=nonce), "HTTP_X_AUTH_NONCE": nonce}
    _both("api/v2/barong/resource/users/me", method, headers)
