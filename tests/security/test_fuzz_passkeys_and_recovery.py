"""Fuzzing what strangers (and a logged-in user) can send to the passkey and recovery-code
inputs: any JSON, made-up and real flow ids, credentials shaped like a browser's with
junk in every field, huge and deeply nested bodies. Every answer is a 4xx JSON body with
an ``errors`` list, never a 5xx.

Hypothesis runs a bounded, derandomised budget (the same examples on every run, so CI
does not flake) with no deadline (a shared CI machine is slow at times).
"""

import json
from http import HTTPStatus

import pytest
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.security.test_passkeys_api import LOGIN, LOGIN_WEBAUTHN, WEBAUTHN
from tests.strategies import json_documents

pytestmark = pytest.mark.django_db

PASSWORD = "Correct-Horse-Battery-9"

FUZZ = hypothesis_settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()  # NaN and infinities too: json.dumps writes them, strict parsers refuse
    | st.text(max_size=40)
)
JSON = json_documents(SCALARS, key_size=12, max_leaves=16)
B64ISH = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/", max_size=120
)
FIELD = B64ISH | JSON
# What a browser sends, with anything in each field (the parser's deeper branches).
CREDENTIAL_SHAPED = st.fixed_dictionaries(
    {
        "id": FIELD,
        "rawId": FIELD,
        "type": st.sampled_from(["public-key", "", "x"]) | JSON,
        "response": st.fixed_dictionaries(
            {},
            optional={
                "clientDataJSON": FIELD,
                "authenticatorData": FIELD,
                "signature": FIELD,
                "attestationObject": FIELD,
                "userHandle": FIELD,
                "transports": JSON,
            },
        )
        | JSON,
    },
    optional={"clientExtensionResults": JSON, "authenticatorAttachment": JSON},
)
CREDENTIAL = CREDENTIAL_SHAPED | JSON
FLOW_ID = st.text(max_size=200) | JSON
# Raw bodies: deep nesting, big strings, bytes that are not JSON at all.
DEEP = st.integers(min_value=1, max_value=5000).map(lambda n: "[" * n + "]" * n)
HUGE = st.sampled_from([10_000, 300_000, 2_500_000]).map(lambda n: json.dumps("A" * n))
RAW_CREDENTIAL = DEEP | HUGE
# The extremes, whatever the generated examples hold: past the body limit, past the depth.
BIGGEST = json.dumps("A" * 2_500_000)
DEEPEST = "[" * 5000 + "]" * 5000


def assert_clean_4xx(response) -> None:
    assert HTTPStatus.BAD_REQUEST <= response.status_code < 500, (
        response.status_code,
        response.content[:300],
    )
    errors = response.json()["errors"]
    assert isinstance(errors, list)
    assert errors


def mostly(valid, fuzz=JSON):
    """The valid value two times in three, so that the other fields' parsers run too."""
    return st.one_of(st.just(valid), st.just(valid), fuzz)


def post_json(client, url: str, body) -> object:
    """The body as any client could write it (NaN included), not as a strict encoder."""
    return client.generic("POST", url, json.dumps(body), content_type="application/json")


def post_raw(client, url: str, text: str) -> object:
    return client.generic("POST", url, text.encode(), content_type="application/json")


@pytest.fixture
def no_limits(settings):
    """Generated requests would trip the limits instead of reaching the parsers."""
    settings.BARONG_RATE_LIMITS = False


def test_register_verify(make_user, auth_api, no_limits):
    client = auth_api(make_user())

    @FUZZ
    @given(credential=CREDENTIAL, name=mostly("laptop"), raw=RAW_CREDENTIAL, use_raw=st.booleans())
    @example(credential=None, name="laptop", raw=BIGGEST, use_raw=True)
    @example(credential=None, name="laptop", raw=DEEPEST, use_raw=True)
    def run(credential, name, raw, use_raw):
        client.post(f"{WEBAUTHN}/register/options")  # a pending challenge to verify against
        url = f"{WEBAUTHN}/register/verify"
        if use_raw:
            assert_clean_4xx(post_raw(client, url, '{"credential": ' + raw + "}"))
        else:
            assert_clean_4xx(post_json(client, url, {"credential": credential, "name": name}))

    run()


def test_login_options(api, passkey_user, no_limits):
    user, _ = passkey_user

    @FUZZ
    @given(
        email=mostly(user.email, JSON | st.text(max_size=300)),
        password=st.text(max_size=80) | JSON,
        captcha=mostly(None),
        extra=st.dictionaries(st.text(max_size=12), JSON, max_size=3),
    )
    def run(email, password, captcha, extra):
        body = {**extra, "email": email, "password": password, "captcha_response": captcha}
        assert_clean_4xx(post_json(api, f"{LOGIN_WEBAUTHN}/options", body))

    run()


def test_login_verify(api, passkey_user, no_limits):
    user, authenticator = passkey_user

    def flow() -> dict:
        response = api.post(
            f"{LOGIN_WEBAUTHN}/options", {"email": user.email, "password": PASSWORD}, format="json"
        )
        assert response.status_code == HTTPStatus.OK
        return response.json()

    @FUZZ
    @given(
        flow_id=FLOW_ID,
        real_flow=st.booleans(),
        credential=CREDENTIAL,
        mutate=st.sampled_from(
            [None, "id", "rawId", "type", "clientDataJSON", "authenticatorData", "signature"]
        ),
        raw=RAW_CREDENTIAL,
        use_raw=st.booleans(),
    )
    @example(flow_id="x", real_flow=True, credential=None, mutate=None, raw=BIGGEST, use_raw=True)
    @example(flow_id="x", real_flow=True, credential=None, mutate=None, raw=DEEPEST, use_raw=True)
    def run(flow_id, real_flow, credential, mutate, raw, use_raw):
        url = f"{LOGIN_WEBAUTHN}/verify"
        if real_flow:
            options = flow()
            flow_id = options["flow_id"]
            if mutate is not None:  # a real assertion with one field replaced by junk
                real = authenticator.get(options)
                target = real if mutate in real else real["response"]
                target[mutate] = credential
                credential = real
        if use_raw:
            body = '{"flow_id": ' + json.dumps(flow_id) + ', "credential": ' + raw + "}"
            assert_clean_4xx(post_raw(api, url, body))
        else:
            assert_clean_4xx(post_json(api, url, {"flow_id": flow_id, "credential": credential}))

    run()


def test_login_with_recovery_codes(api, make_otp_user, no_limits):
    user = make_otp_user(password=PASSWORD)

    @FUZZ
    @given(
        recovery_code=st.text(alphabet="0123456789abcdefABCDEF- ", max_size=20)
        | st.text(max_size=70)
        | JSON,
        otp_code=mostly(None, st.just("") | JSON),
        email=mostly(user.email),
    )
    def run(recovery_code, otp_code, email):
        body = {"email": email, "password": PASSWORD, "recovery_code": recovery_code}
        if otp_code is not None:
            body["otp_code"] = otp_code
        response = post_json(api, LOGIN, body)
        assert_clean_4xx(response)

    run()
