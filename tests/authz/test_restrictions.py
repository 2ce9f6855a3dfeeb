"""Restrictions at /api/v2/auth (2.4.17 model): categories, scopes, codes, IPv6, proxies."""

from http import HTTPStatus

import pytest

from permissions import geo, restrictions
from permissions.models import Restriction
from permissions.services import RESTRICTIONS, restriction_create, restriction_update, rule_delete
from tests.authz.conftest import login

pytestmark = pytest.mark.django_db

PING = "/api/v2/auth/api/v2/barong/identity/ping"
ME = "/api/v2/auth/api/v2/barong/resource/users/me"
JAPAN_IP = "133.242.0.3"
UK_IP = "81.2.69.142"
US_IPV6 = "2001:4860:4860::8888"


@pytest.fixture
def restrict(superadmin, django_capture_on_commit_callbacks):
    """Create through the service; its after-commit invalidation runs as in production."""

    def create(category: str, scope: str, value: str, **extra):
        with django_capture_on_commit_callbacks(execute=True):
            return restriction_create(
                admin=superadmin, category=category, scope=scope, value=value, **extra
            )

    return create


def test_geo_database_knows_ipv4_and_ipv6():
    assert geo.locate(JAPAN_IP) == ("JP", "AS")
    assert geo.locate(UK_IP) == ("GB", "EU")
    assert geo.locate(US_IPV6) == ("US", "NA")
    assert geo.locate("10.1.2.3") == (None, None)
    assert geo.locate("not an ip") == (None, None)


def test_names_are_normalised_to_iso_codes():
    assert geo.country_code("Japan") == "JP"
    assert geo.country_code("jpn") == "JP"
    assert geo.country_code("United Kingdom") == "GB"
    assert geo.country_code("Russia") == "RU"
    assert geo.country_code("Atlantis") is None
    assert geo.continent_code("Europe") == "EU"
    assert geo.continent_code("north america") == "NA"
    assert geo.continent_code("Middle Earth") is None


def test_no_restriction_lets_everyone_through(api, db):
    assert api.get(PING).status_code == HTTPStatus.OK


@pytest.mark.parametrize(
    ("scope", "value", "ip", "status"),
    [
        ("ip", "198.51.100.7", "198.51.100.7", 401),
        ("ip", "2001:db8::7", "2001:db8::7", 401),
        ("ip_subnet", "198.51.100.0/24", "198.51.100.200", 403),
        ("ip_subnet", "2001:db8:aa::/48", "2001:db8:aa:1::5", 403),
        ("country", "JP", JAPAN_IP, 423),
        ("country", "Japan", JAPAN_IP, 423),
        ("country", "US", US_IPV6, 423),
        ("continent", "EU", UK_IP, 423),
        ("continent", "Asia", JAPAN_IP, 423),
        ("all", "all", "198.51.100.1", 401),
    ],
)
def test_blacklist_match_answers_the_scope_default_code(api, restrict, scope, value, ip, status):
    restrict("blacklist", scope, value)

    response = api.get(PING, REMOTE_ADDR=ip)

    assert response.status_code == status
    assert response.json() == {"errors": ["authz.restrict.blacklist"]}


@pytest.mark.parametrize(
    ("scope", "value", "ip"),
    [
        ("ip", "198.51.100.7", "198.51.100.8"),
        ("ip_subnet", "198.51.100.0/24", "198.51.101.1"),
        ("ip_subnet", "2001:db8:aa::/48", "2001:db8:ab::1"),
        ("country", "JP", UK_IP),
        ("continent", "EU", JAPAN_IP),
        ("country", "JP", "10.0.0.9"),
    ],
)
def test_non_matching_address_passes(api, restrict, scope, value, ip):
    restrict("blacklist", scope, value)

    assert api.get(PING, REMOTE_ADDR=ip).status_code == HTTPStatus.OK


def test_row_code_overrides_the_default(api, restrict):
    restrict("blacklist", "ip", "198.51.100.7", code=433)

    response = api.get(PING, REMOTE_ADDR="198.51.100.7")

    assert response.status_code == 433
    assert response.json() == {"errors": ["authz.restrict.blacklist"]}


def test_maintenance_answers_471_by_default_and_applies_to_public_paths(api, restrict):
    restrict("maintenance", "all", "all")

    response = api.get(PING)

    assert response.status_code == 471
    assert response.json() == {"errors": ["authz.restrict.maintenance"]}


def test_maintenance_with_its_own_code(api, restrict):
    restrict("maintenance", "all", "all", code=503)

    assert api.get(PING).status_code == HTTPStatus.SERVICE_UNAVAILABLE


def test_whitelist_match_stops_evaluation(api, restrict):
    restrict("whitelist", "ip", "198.51.100.7")
    restrict("maintenance", "all", "all")
    restrict("blacklist", "ip", "198.51.100.7")

    assert api.get(PING, REMOTE_ADDR="198.51.100.7").status_code == HTTPStatus.OK
    assert api.get(PING, REMOTE_ADDR="198.51.100.8").status_code == 471


def test_maintenance_is_checked_before_blacklist(api, restrict):
    restrict("blacklist", "ip", "198.51.100.7", code=499)
    restrict("maintenance", "ip_subnet", "198.51.100.0/24", code=472)

    response = api.get(PING, REMOTE_ADDR="198.51.100.7")

    assert response.status_code == 472
    assert response.json() == {"errors": ["authz.restrict.maintenance"]}


def test_scope_order_within_a_category_is_all_ip_subnet_continent_country(api, restrict):
    restrict("blacklist", "country", "JP", code=435)
    restrict("blacklist", "continent", "AS", code=436)
    restrict("blacklist", "ip_subnet", "133.242.0.0/16", code=434)
    restrict("blacklist", "ip", JAPAN_IP, code=433)

    assert api.get(PING, REMOTE_ADDR=JAPAN_IP).status_code == 433
    assert api.get(PING, REMOTE_ADDR="133.242.0.4").status_code == 434


def test_continent_beats_country(api, restrict):
    restrict("blacklist", "country", "JP", code=435)
    restrict("blacklist", "continent", "AS", code=436)

    assert api.get(PING, REMOTE_ADDR=JAPAN_IP).status_code == 436


def test_oldest_of_overlapping_subnets_decides(api, restrict):
    restrict("blacklist", "ip_subnet", "198.51.100.0/28", code=461)
    restrict("blacklist", "ip_subnet", "198.51.0.0/16", code=462)

    assert api.get(PING, REMOTE_ADDR="198.51.100.3").status_code == 461
    assert api.get(PING, REMOTE_ADDR="198.51.7.3").status_code == 462


def test_disabled_restriction_is_ignored(api, restrict):
    restrict("maintenance", "all", "all", state="disabled")

    assert api.get(PING).status_code == HTTPStatus.OK


def test_restrictions_come_before_block_rules(api, restrict):
    restrict("blacklist", "all", "all", code=451)

    response = api.get("/api/v2/auth/api/v2/barong/management/users")

    assert response.status_code == 451
    assert response.json() == {"errors": ["authz.restrict.blacklist"]}


def test_whitelink_access_path_skips_restrictions(api, restrict):
    restrict("maintenance", "all", "all")

    response = api.post("/api/v2/auth/api/v2/barong/identity/users/access")

    assert response.status_code == HTTPStatus.OK


def test_restrictions_apply_to_logged_in_users_too(api, restrict, make_user):
    login(api, make_user(), ip="198.51.100.7")
    restrict("blacklist", "ip", "198.51.100.7")

    response = api.get(ME, REMOTE_ADDR="198.51.100.7")

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"errors": ["authz.restrict.blacklist"]}


def test_forwarded_client_ip_behind_a_trusted_proxy_is_the_one_matched(api, restrict):
    restrict("blacklist", "ip", "198.51.100.7")

    blocked = api.get(PING, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7")
    chained = api.get(
        PING, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7, 192.168.1.1"
    )
    spoofed = api.get(PING, REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="198.51.100.7")

    assert blocked.status_code == HTTPStatus.UNAUTHORIZED
    assert chained.status_code == HTTPStatus.UNAUTHORIZED
    assert spoofed.status_code == HTTPStatus.OK  # an untrusted peer's header is not believed


def test_forwarded_for_cannot_whitelist_a_client(api, restrict):
    restrict("whitelist", "ip", "198.51.100.7")
    restrict("maintenance", "all", "all")

    # A client inventing the whitelisted address in front of its own is still itself.
    response = api.get(
        PING, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7, 203.0.113.9"
    )

    assert response.status_code == 471


@pytest.mark.parametrize("forwarded", ["garbage", "999.1.1.1", "x" * 5000, "\u2028"])
def test_malformed_forwarded_for_never_fails(api, restrict, forwarded):
    restrict("blacklist", "ip", "198.51.100.7")

    response = api.get(PING, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)

    assert response.status_code == HTTPStatus.OK


def test_ipv4_mapped_ipv6_peer_matches_ipv4_rules(api, restrict):
    restrict("blacklist", "ip", "198.51.100.7")

    response = api.get(PING, REMOTE_ADDR="::ffff:198.51.100.7")

    assert response.status_code == HTTPStatus.UNAUTHORIZED


def test_update_and_delete_take_effect_on_the_very_next_request(
    api, restrict, superadmin, django_capture_on_commit_callbacks
):
    row = restrict("blacklist", "ip", "198.51.100.7")
    assert api.get(PING, REMOTE_ADDR="198.51.100.7").status_code == 401

    with django_capture_on_commit_callbacks(execute=True):
        restriction_update(admin=superadmin, restriction=row, state="disabled")
    assert api.get(PING, REMOTE_ADDR="198.51.100.7").status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        restriction_update(admin=superadmin, restriction=row, state="enabled", code=452)
    assert api.get(PING, REMOTE_ADDR="198.51.100.7").status_code == 452

    with django_capture_on_commit_callbacks(execute=True):
        rule_delete(RESTRICTIONS, admin=superadmin, row=row)
    assert api.get(PING, REMOTE_ADDR="198.51.100.7").status_code == 200


def test_compiled_table_is_reused_until_the_version_changes(restrict, django_assert_num_queries):
    restrict("blacklist", "ip", "198.51.100.7")
    restrictions.invalidate()
    assert restrictions.evaluate("198.51.100.7") is not None

    with django_assert_num_queries(0):
        assert restrictions.evaluate("198.51.100.7").status == 401
        assert restrictions.evaluate("198.51.100.8") is None


def test_row_edited_into_nonsense_in_the_database_is_skipped(api, restrict):
    row = restrict("blacklist", "ip", "198.51.100.7")
    Restriction.objects.filter(pk=row.pk).update(value="not-an-ip")
    restrictions.invalidate()

    assert api.get(PING, REMOTE_ADDR="198.51.100.7").status_code == HTTPStatus.OK
