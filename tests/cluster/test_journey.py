"""A user's whole journey through HAProxy, two gunicorn nodes, PgBouncer and the replica.

Sign-up, the confirmation e-mail (a worker sent it) and its events (RabbitMQ), login,
2FA, an API key, authz with the cookie and with the key, and an operator's reads, which
are shown to come from the replica: with replay paused there, a user just written to the
primary is missing from the operator's list until the replica is too far behind, then
the list reads the primary. Every database connection of the app goes through PgBouncer
in transaction mode; the nodes' logs must show no prepared-statement or cursor error.
"""

import hashlib
import hmac
import re
import time
import uuid
from base64 import b32decode
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from django_otp.oath import TOTP

from ops.cluster.probes import wait_for
from tests.cluster.conftest import (
    PASSWORD,
    browser,
    check_delivered,
    log_in,
    manage,
    sign_up,
)

pytestmark = pytest.mark.cluster
AUTHZ_ME = "/api/v2/auth/api/v2/barong/resource/users/me"
OPERATOR = "operator@cluster.example"
# What PgBouncer in transaction mode breaks when a client relies on its server session.
POOLING_ERRORS = re.compile(
    r"prepared statement|cursor .* does not exist|DuplicatePreparedStatement"
)


def totp(secret: str, at: float | None = None) -> str:
    device = TOTP(b32decode(secret + "=" * (-len(secret) % 8)), 30, 0, 6, 0)
    device.time = at if at is not None else time.time()
    return f"{device.token():06d}"


def signed(kid: str, secret: str, nonce: int) -> dict[str, str]:
    signature = hmac.new(secret.encode(), f"{nonce}{kid}".encode(), hashlib.sha256).hexdigest()
    return {"X-Auth-Apikey": kid, "X-Auth-Nonce": str(nonce), "X-Auth-Signature": signature}


@pytest.fixture(scope="module")
def operator(cluster):
    manage(
        cluster,
        "from accounts.services import superuser_create; "
        f"superuser_create(email={OPERATOR!r}, password={PASSWORD!r})",
    )
    session = browser()
    log_in(session, cluster.url(), OPERATOR)
    return session


def listed(operator, cluster, address: str) -> bool:
    """Whether the operator's user list (searched by e-mail) shows ``address``."""
    response = operator.get(
        cluster.url("/api/v2/admin/users"), params={"email": address}, timeout=30
    )
    assert response.status_code == 200, response.text
    return [row["email"] for row in response.json()] == [address]


def test_the_whole_journey_through_haproxy(cluster, mailbox, audit, operator):
    url = cluster.url()
    address = f"journey-{uuid.uuid4().hex[:8]}@example.com"
    user = browser()

    created = sign_up(user, url, address)
    assert created.status_code == 201, created.text
    uid = created.json()["uid"]
    token = mailbox.token(address)
    confirmed = user.post(url + "/api/v2/identity/users/email/confirm_code", json={"token": token})
    assert confirmed.status_code == 201, confirmed.text
    assert confirmed.json()["state"] == "active"
    check_delivered(cluster, mailbox, audit, {address: uid})

    csrf = log_in(user, url, address)
    user.headers["X-CSRF-Token"] = csrf
    qr = user.post(url + "/api/v2/resource/otp/generate_qrcode")
    assert qr.status_code == 201, qr.text
    secret = parse_qs(urlsplit(re.search(r"otpauth://[^\"]+", qr.text).group(0)).query)["secret"][0]
    enabled = user.post(url + "/api/v2/resource/otp/enable", json={"code": totp(secret)})
    assert enabled.status_code == 201, enabled.text
    key = user.post(
        url + "/api/v2/resource/api_keys",
        json={"algorithm": "HS256", "totp_code": totp(secret, time.time() + 30)},
    )
    assert key.status_code == 201, key.text
    kid, key_secret = key.json()["kid"], key.json()["secret"]["data"]["value"]

    # Authz as the gateway asks it, alternately landing on both nodes, many times over the
    # same PgBouncer connections: psycopg would prepare a statement after five runs.
    jwks = user.get(url + "/.well-known/jwks.json").json()
    nonce = int(time.time() * 1000)
    for attempt in range(12):
        by_cookie = user.get(url + AUTHZ_ME)
        assert by_cookie.status_code == 200, by_cookie.text
        by_key = requests_get(url + AUTHZ_ME, signed(kid, key_secret, nonce + attempt))
        assert by_key.status_code == 200, by_key.text
        for answer in (by_cookie, by_key):
            minted = answer.headers["Authorization"].removeprefix("Bearer ")
            header = jwt.get_unverified_header(minted)
            public = jwt.PyJWK(next(k for k in jwks["keys"] if k["kid"] == header["kid"]))
            claims = jwt.decode(minted, public.key, algorithms=["RS256"], audience="barong")
            assert claims["uid"] == uid
    me = user.get(url + "/api/v2/resource/users/me").json()
    assert me["otp"] is True

    # The operator's reads: the list shows the user once the replica has it.
    wait_for(lambda: listed(operator, cluster, address), 10, "user on the replica")
    for _ in range(8):  # the same queries again and again over transaction pooling
        assert listed(operator, cluster, address)

    for name in ("app-1", "app-2"):
        log = open(cluster.services[name].log, errors="replace").read()  # noqa: SIM115
        assert not POOLING_ERRORS.search(log), POOLING_ERRORS.search(log).group(0)


def requests_get(url: str, headers: dict[str, str]):
    gateway = browser()
    gateway.headers["User-Agent"] = "gateway/1.0"
    return gateway.get(url, headers=headers, timeout=30)


def test_operator_reads_come_from_the_replica_until_it_lags(cluster, operator, measured):
    """Replay paused on the replica: a new user is on the primary only. The operator's list
    misses it (read on the replica) until the replica is DATABASE_REPLICA_MAX_LAG behind,
    then shows it (read on the primary), with no error either way."""
    url = cluster.url()
    max_lag = float(cluster.env()["DATABASE_REPLICA_MAX_LAG"])
    before = f"before-{uuid.uuid4().hex[:8]}@example.com"
    assert sign_up(browser(), url, before).status_code == 201
    wait_for(lambda: listed(operator, cluster, before), 10, "replica caught up")

    cluster.psql("pg-replica", "SELECT pg_wal_replay_pause()")
    try:
        paused_at = time.monotonic()
        address = f"unreplayed-{uuid.uuid4().hex[:8]}@example.com"
        assert sign_up(browser(), url, address).status_code == 201
        count = f"SELECT count(*) FROM users WHERE email = '{address}'"  # noqa: S608 - ours
        on_primary, on_replica = (
            cluster.psql("pg-primary", count),
            cluster.psql("pg-replica", count),
        )
        assert (on_primary, on_replica) == ("1", "0")

        assert not listed(operator, cluster, address)  # read on the replica

        seen = wait_for(lambda: listed(operator, cluster, address), max_lag + 10, "primary")
        measured(
            "replica lag: operator's reads back on the primary after",
            time.monotonic() - paused_at,
            "s",
        )
        assert seen >= max_lag - 2  # not before the replica was too far behind
    finally:
        cluster.psql("pg-replica", "SELECT pg_wal_replay_resume()")
