"""One registry entry per restriction scope drives the model, the API and the authz lookup."""

import pytest

from permissions import restrictions
from permissions.models import Restriction
from permissions.scopes import SCOPES, ScopeValueError, scope_value
from permissions.serializers import SCOPES as API_SCOPES


def test_the_model_and_the_api_accept_exactly_the_registered_scopes():
    names = [scope.name for scope in SCOPES]
    assert names == ["all", "ip", "ip_subnet", "continent", "country"]  # Barong's match order
    assert list(Restriction.Scope.values) == names
    assert list(API_SCOPES) == names
    assert Restriction.Scope.IP_SUBNET == "ip_subnet"


@pytest.mark.parametrize(
    ("scope", "value", "stored"),
    [
        ("all", " all ", "all"),
        ("ip", "2001:DB8::1", "2001:db8::1"),
        ("ip_subnet", "10.1.2.3/8", "10.0.0.0/8"),
        ("continent", "Europe", "EU"),
        ("country", "Japan", "JP"),
    ],
)
def test_each_scope_normalises_its_values(scope, value, stored):
    assert scope_value(scope, value) == stored


@pytest.mark.parametrize(
    ("scope", "value"),
    [("all", "  "), ("ip", "10.0.0"), ("ip_subnet", "10.0.0.1"), ("country", "Atlantis")],
)
def test_each_scope_refuses_what_it_cannot_store(scope, value):
    with pytest.raises(ScopeValueError, match=f"not a {scope} value"):
        scope_value(scope, value)


def test_default_codes_come_from_the_registry():
    assert {scope.name: restrictions.default_code("blacklist", scope.name) for scope in SCOPES} == {
        "all": 401,
        "ip": 401,
        "ip_subnet": 403,
        "continent": 423,
        "country": 423,
    }
    assert restrictions.default_code("maintenance", "country") == restrictions.MAINTENANCE_CODE
