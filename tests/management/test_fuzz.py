"""Generated management bodies: whatever a stranger or a signer sends, a 4xx JSON answer
(or the documented 200/201), never a 500.

The JWS parser gets the general form (Barong's), the flattened and compact forms (not
accepted here, so 400/401), and any JSON; a real signer's signature over any payload
drives the claim checks (exp, iat, nbf, jti of any JSON type); otp/sign gets any inner
JWS. Bounded, derandomized runs: the same examples in CI every time.
"""

import json
import math
import secrets
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from management.jws import b64url_encode, jws_generate, signature_make
from tests.resource_account import helpers
from tests.resource_account.helpers import two_factor_on
from tests.strategies import json_documents

pytestmark = pytest.mark.django_db
clock = helpers.clock  # the TOTP clock fixture

FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
TIMESTAMP = "/api/v2/management/timestamp"

# Any JSON value, numbers at their edges included (Python's json also writes NaN and
# Infinity, which are not JSON: the server must refuse them cleanly too).
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
)
JSON = json_documents(SCALARS, key_size=8, max_leaves=12)
B64ISH = st.text(alphabet="ABCDEFabcdef0123456789-_=+/.!", max_size=40) | st.builds(
    lambda value: b64url_encode(json.dumps(value).encode()), JSON
)
# Values no caller sends as a time: NaN and Infinity (Python writes them, JSON has none),
# floats, 1e308, booleans (ints to Python), null, out-of-range integers, other types.
EDGES = st.sampled_from(
    [math.nan, math.inf, -math.inf, 1e308, -1e308, 0.5, True, False, None, 2**63, -1, "1", [], {}]
)
# A time claim: any number JSON can write (and NaN/Infinity, which it cannot), near now
# or not, or any other JSON value.
NOW = int(time.time())
NUMBER = st.one_of(
    st.integers(min_value=NOW - 600, max_value=NOW + 600),
    st.floats(min_value=NOW - 600, max_value=NOW + 600),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True),
    JSON,
)
CLAIMS = st.fixed_dictionaries(
    {},
    optional={
        "exp": NUMBER,
        "iat": NUMBER,
        "nbf": NUMBER,
        "jti": JSON,
        "data": JSON,
        "iss": JSON,
        "aud": JSON,
        "sub": JSON,
    },
)


def _answered(response, allowed: set[int]) -> None:
    assert response.status_code in allowed, (response.status_code, response.content[:300])
    assert isinstance(response.json(), dict)
    if response.status_code >= 400:
        assert set(response.json()) == {"error"}


def _post(api, body, content_type: str = "application/json"):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return api.post(TIMESTAMP, data, content_type=content_type)


@FUZZ
@given(body=JSON)
def test_any_json_body(api, management_file, body):
    _answered(_post(api, body), {400, 401})


@FUZZ
@given(
    payload=B64ISH,
    signatures=st.lists(
        st.fixed_dictionaries(
            {},
            optional={
                "protected": B64ISH | JSON,
                "header": st.fixed_dictionaries(
                    {}, optional={"kid": st.sampled_from(["alex", "jeff", "mallory"]) | JSON}
                )
                | JSON,
                "signature": B64ISH | JSON,
            },
        )
        | JSON,
        max_size=3,
    ),
)
def test_general_form_with_any_parts(api, management_file, payload, signatures):
    _answered(_post(api, {"payload": payload, "signatures": signatures}), {400, 401})


@FUZZ
@given(
    parts=st.fixed_dictionaries(
        {"payload": B64ISH},
        optional={"protected": B64ISH, "header": JSON, "signature": B64ISH},
    )
)
def test_flattened_form_is_refused(api, management_file, signer_keys, parts):
    """RFC 7515 7.2.2: one signature's members at the top. Barong reads the general form."""
    _answered(_post(api, parts), {401})


@FUZZ
@given(segments=st.lists(B64ISH, min_size=1, max_size=5))
def test_compact_form_is_refused(api, management_file, segments):
    compact = ".".join(segments)
    _answered(_post(api, json.dumps(compact)), {400, 401})
    _answered(_post(api, compact), {400, 401})


def _signed_call(api, signer_keys, changes: dict):
    """A real signer's call: valid claims, then ``changes`` over them."""
    now = int(time.time())
    claims = {"iat": now, "exp": now + 60, "jti": secrets.token_hex(12), "data": {}, **changes}
    key, algorithm = signer_keys["alex"]
    return _post(api, jws_generate(claims, [("alex", key, algorithm)]))


@FUZZ
@given(name=st.sampled_from(["exp", "iat", "nbf"]), value=EDGES | NUMBER)
def test_a_real_signature_with_any_time_claim(api, management_file, signer_keys, name, value):
    """One time claim of any kind, the others valid, so it reaches every check."""
    _answered(_signed_call(api, signer_keys, {name: value}), {200, 401})


@FUZZ
@given(claims=CLAIMS)
def test_a_real_signature_over_any_claims(api, management_file, signer_keys, claims):
    """Several claims of any JSON type at once; a well-formed call is 200."""
    _answered(_signed_call(api, signer_keys, claims), {200, 401, 422})


@FUZZ
@given(text=st.text(max_size=200))
def test_a_real_signature_over_any_payload_text(api, management_file, signer_keys, text):
    key, algorithm = signer_keys["alex"]
    payload_b64 = b64url_encode(text.encode("utf-8", "surrogatepass"))
    signature = signature_make(
        payload_b64=payload_b64, kid="alex", private_key=key, algorithm=algorithm
    )
    _answered(_post(api, {"payload": payload_b64, "signatures": [signature]}), {200, 401, 422})


@pytest.fixture
def member(make_user, clock):
    return two_factor_on(make_user(email="fuzz@example.com"), clock)


@FUZZ
@given(inner=CLAIMS | JSON)
def test_otp_sign_with_any_inner_jws(mgmt, member, signer_keys, inner):
    """The inner JWS is the part of otp/sign that no signature of ours vouches for: a
    refusal (422, or 429 once the wrong codes add up), never a 500 nor a countersignature."""
    key, algorithm = signer_keys["jeff"]
    if isinstance(inner, dict) and "signatures" not in inner:
        inner = jws_generate(inner, [("applogic", key, algorithm)])
    response = mgmt("otp/sign", {"user_uid": member.uid, "otp_code": "000000", "jwt": inner})
    _answered(response, {422, 429})
