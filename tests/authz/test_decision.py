"""The one authz decision (permissions/decision.py) on its own: facts and sources in,
a typed decision out, each source asked only when Barong's order reaches it.

The endpoint's answers are tested through both adapters in the rest of tests/authz;
here the decision is called directly with sources that record what was asked.
"""

import pytest

from barong.api.errors import ApiError
from permissions.decision import (
    ACCESS_PATH,
    Allow,
    Deny,
    Facts,
    Identity,
    decide,
)
from permissions.engine import Decision as Verdict
from permissions.restrictions import Match

PRIVATE = "api/v2/barong/resource/users/me"
ADMIN = "api/v2/barong/admin/users"
ALLOWED = Verdict(allowed=True)


def user(**changes) -> dict:
    return {
        "id": 1,
        "uid": "ID0000000001",
        "email": "a@example.com",
        "role": "member",
        "level": 1,
        "state": "active",
        "otp": True,
        "referral_id": None,
        **changes,
    }


class Recorded:
    """Sources that answer from fixed values and list what they were asked, in order."""

    def __init__(self, *, match=None, identity=None, verdict=ALLOWED) -> None:
        self.match = match
        self.who = identity if identity is not None else Identity("session:k", user())
        self.verdict = verdict
        self.asked: list[str] = []

    def open(self) -> None:
        self.asked.append("open")

    def restriction(self, ip: str):
        self.asked.append(f"restriction:{ip}")
        return self.match

    def permission(self, role: str, method: str, path: str) -> Verdict:
        self.asked.append(f"permission:{role}:{method}:{path}")
        return self.verdict

    def identity(self) -> Identity:
        self.asked.append("identity")
        if isinstance(self.who, Exception):
            raise self.who
        return self.who


def facts(path: str = PRIVATE, **changes) -> Facts:
    values = {
        "method": "GET",
        "path": path,
        "unsafe": False,
        "ip": "203.0.113.10",
        "api_key_mode": False,
        "pass_rules": ("api/v2/barong/identity",),
        "block_rules": ("api/v2/barong/management",),
    }
    values.update(changes)
    return Facts(**values)


def test_a_permitted_call_carries_its_identity_and_asks_everything_in_order():
    sources = Recorded()

    decision = decide(facts(), sources)

    assert decision == Allow("permitted", Identity("session:k", user()))
    assert sources.asked == [
        "open",
        "restriction:203.0.113.10",
        "identity",
        f"permission:member:GET:{PRIVATE}",
    ]


def test_an_unsafe_path_is_refused_before_anything_is_read():
    sources = Recorded()

    decision = decide(facts(unsafe=True), sources)

    assert decision == Deny(("authz.permission_denied",), 403)
    assert sources.asked == []


def test_a_restriction_is_a_typed_match_and_stops_before_the_rules():
    match = Match(status=471, key="authz.restrict.maintenance")
    sources = Recorded(match=match)

    decision = decide(facts("api/v2/barong/identity/ping"), sources)

    assert isinstance(decision, Deny)
    assert decision.restriction is match
    assert (decision.key, decision.status) == ("authz.restrict.maintenance", 471)
    assert "identity" not in sources.asked


def test_the_access_path_skips_restrictions():
    sources = Recorded(match=Match(status=401, key="authz.restrict.blacklist"))

    decision = decide(facts(ACCESS_PATH), sources)

    assert decision == Allow("public")
    assert sources.asked == ["open"]  # the round trip is made: a signature is claimed


def test_a_blocked_path_never_asks_for_the_caller():
    sources = Recorded()

    decision = decide(facts("api/v2/barong/management/users"), sources)

    assert decision == Deny(("authz.permission_denied",), 403)
    assert "identity" not in sources.asked


def test_a_public_path_never_asks_for_the_caller():
    sources = Recorded(identity=ApiError("authz.invalid_session", 401))

    assert decide(facts("api/v2/barong/identity/ping"), sources) == Allow("public")
    assert "identity" not in sources.asked


def test_a_refused_credential_is_its_own_key_and_status():
    sources = Recorded(identity=ApiError("authz.nonce_expired", 401))

    decision = decide(facts(api_key_mode=True), sources)

    assert decision == Deny(("authz.nonce_expired",), 401)
    assert not any(asked.startswith("permission") for asked in sources.asked)


@pytest.mark.parametrize(
    ("principal", "owner", "expected"),
    [
        ("session:k", None, Deny(("authz.invalid_session",), 401, end_session=True)),
        ("session:k", user(state="banned"), Deny(("authz.user_not_active",), 401)),
        ("apikey:kid", None, Deny(("authz.invalid_session",), 401)),
        ("apikey:kid", user(state="banned"), Deny(("authz.invalid_session",), 401)),
        ("apikey:kid", user(otp=False), Deny(("authz.disabled_2fa",), 401)),
    ],
)
def test_the_owners_state_is_checked_per_kind_of_caller(principal, owner, expected):
    sources = Recorded(identity=Identity(principal, owner))

    assert decide(facts(), sources) == expected


def test_a_denied_permission_is_audited_as_denied():
    sources = Recorded(verdict=Verdict(allowed=False))

    decision = decide(facts(ADMIN, method="POST"), sources)

    assert isinstance(decision, Deny)
    assert (decision.key, decision.status) == ("authz.invalid_permission", 403)
    assert decision.audit is not None
    assert (decision.audit.path, decision.audit.result) == (ADMIN, "denied")


def test_an_audit_rule_allows_with_its_topic():
    sources = Recorded(verdict=Verdict(allowed=True, audit=True, topic="users"))

    decision = decide(facts(ADMIN), sources)

    assert isinstance(decision, Allow)
    assert decision.reason == "permitted"
    assert decision.audit is not None
    assert (decision.audit.topic, decision.audit.result) == ("users", "succeed")
