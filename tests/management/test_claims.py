"""Management JWS claims: exp, iat and nbf are whole numbers, exp is near, a jti is kept
for as long as a token can be accepted."""

import hashlib
import json
import time
from http import HTTPStatus

import pytest
from django.core.cache import cache

from management.jws import b64url_encode, jws_generate, signature_make
from management.verification import REPLAY_PREFIX

FAILED = {"error": "Failed to verify JWT."}
pytestmark = pytest.mark.django_db

# Numbers Python's json reads but no caller sends: NaN and Infinity literals (not JSON at
# all), floats, 1e308 (a float), booleans (ints to Python), out-of-range integers.
NOT_WHOLE_SECONDS = [
    float("nan"),
    float("inf"),
    float("-inf"),
    1e308,
    -1e308,
    True,
    False,
    2**63,
    -1,
    "1700000000",
    [1700000000],
    {"seconds": 1700000000},
]


def _near(offset: float) -> float:
    return time.time() + offset


@pytest.mark.parametrize("value", NOT_WHOLE_SECONDS, ids=repr)
@pytest.mark.parametrize("claim", ["exp", "iat", "nbf"])
def test_a_claim_that_is_not_whole_seconds_is_401(mgmt, claim, value):
    response = mgmt("timestamp", claims={claim: value})
    assert response.status_code == HTTPStatus.UNAUTHORIZED, response.content
    assert response.json() == FAILED


@pytest.mark.parametrize("claim", ["exp", "iat", "nbf"])
def test_fractions_are_refused_even_when_the_time_is_right(mgmt, claim):
    """ruby-jwt took any number; every caller sends ``Time#to_i``: a float is refused."""
    value = {"exp": _near(60), "iat": _near(0), "nbf": _near(-5)}[claim]
    for sent in (value, float(int(value))):
        response = mgmt("timestamp", claims={claim: sent})
        assert response.status_code == HTTPStatus.UNAUTHORIZED, (sent, response.content)
    assert mgmt("timestamp", claims={claim: int(value)}).status_code == HTTPStatus.OK


@pytest.mark.parametrize("claim", ["exp", "iat", "nbf"])
def test_a_null_claim_is_not_an_absent_one(api, management_file, signer_keys, claim):
    now = int(time.time())
    payload = {"iat": now, "exp": now + 60, "jti": f"null-{claim}", "data": {}, claim: None}
    body = jws_generate(payload, [("alex", *signer_keys["alex"])])
    response = api.post("/api/v2/management/timestamp", body, format="json")
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == FAILED


@pytest.mark.parametrize(
    "literal", ["NaN", "Infinity", "-Infinity", "1e400", "9" * 5000, "1" + "0" * 400]
)
def test_number_literals_in_the_raw_payload_are_refused(api, management_file, signer_keys, literal):
    """The payload as bytes, as a hostile signer could write it: never a 500."""
    now = int(time.time())
    text = f'{{"iat":{now},"exp":{literal},"jti":"raw-{len(literal)}","data":{{}}}}'
    payload_b64 = b64url_encode(text.encode())
    key, algorithm = signer_keys["alex"]
    signature = signature_make(
        payload_b64=payload_b64, kid="alex", private_key=key, algorithm=algorithm
    )
    body = {"payload": payload_b64, "signatures": [signature]}
    response = api.post("/api/v2/management/timestamp", body, format="json")
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == FAILED


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_json_constants_in_the_body_are_a_parse_error(api, management_file, literal):
    body = f'{{"payload": "e30", "signatures": {literal}}}'
    response = api.post("/api/v2/management/timestamp", body, content_type="application/json")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {"error": "Couldn't parse JWT."}


def test_exp_a_year_ahead_is_refused(mgmt):
    now = int(time.time())
    response = mgmt("timestamp", claims={"iat": now, "exp": now + 365 * 24 * 3600})
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == FAILED


def test_exp_within_the_max_lifetime_and_leeway_is_accepted(mgmt, settings):
    settings.BARONG_MANAGEMENT_MAX_LIFETIME = 120
    now = int(time.time())
    # 120 s plus the 30 s leeway (a caller's clock a little ahead), no further.
    assert mgmt("timestamp", claims={"exp": now + 120}).status_code == HTTPStatus.OK
    assert mgmt("timestamp", claims={"exp": now + 145}).status_code == HTTPStatus.OK
    assert mgmt("timestamp", claims={"exp": now + 160}).json() == FAILED


def test_the_default_max_lifetime_takes_what_callers_send(mgmt, settings):
    """applogic and Barong's own clients sign for 60 s; 300 s is the default bound."""
    assert settings.BARONG_MANAGEMENT_MAX_LIFETIME == 300
    now = int(time.time())
    assert mgmt("timestamp", claims={"iat": now, "exp": now + 60}).status_code == HTTPStatus.OK
    assert mgmt("timestamp", claims={"exp": now + 300}).status_code == HTTPStatus.OK
    assert mgmt("timestamp", claims={"exp": now + 3600}).json() == FAILED


def _replay_ttl(jti: str) -> float:
    """Seconds the cache keeps the replay key of ``jti`` (Redis in CI, locmem locally)."""
    key = cache.make_key(REPLAY_PREFIX + hashlib.sha256(f"jti:{jti}".encode()).hexdigest())
    if hasattr(cache, "_expire_info"):
        return cache._expire_info[key] - time.time()
    return cache._cache.get_client(key).ttl(key)


def test_a_used_jti_is_kept_as_long_as_a_token_can_live(mgmt, settings, management_file):
    """Not until this token's exp: max lifetime plus the leeway on both sides, so a server
    whose clock lags a little cannot accept the token again once the key is gone."""
    settings.BARONG_MANAGEMENT_MAX_LIFETIME = 300
    now = int(time.time())
    response = mgmt("timestamp", claims={"exp": now + 10, "jti": "short-lived"})
    assert response.status_code == HTTPStatus.OK
    assert 300 + 60 - 2 <= _replay_ttl("short-lived") <= 300 + 60 + 1

    management_file(jwt={"leeway": 5})
    response = mgmt("timestamp", claims={"exp": now + 200, "jti": "long-lived"})
    assert response.status_code == HTTPStatus.OK
    assert 300 + 10 - 2 <= _replay_ttl("long-lived") <= 300 + 10 + 1


def test_a_token_without_iat_or_jti_still_works(api, management_file, sign):
    """Barong's own clients send exp and data only: still accepted, once."""
    body = sign({}, "alex", payload={"exp": int(time.time()) + 60, "data": {}})
    first = api.post(
        "/api/v2/management/timestamp", json.dumps(body), content_type="application/json"
    )
    assert first.status_code == HTTPStatus.OK
    again = api.post(
        "/api/v2/management/timestamp", json.dumps(body), content_type="application/json"
    )
    assert again.json() == FAILED
