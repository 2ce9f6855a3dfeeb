"""BARONG_TRUSTED_PROXIES: whose X-Forwarded-For is believed, at authz (Django path, the
front, its fast path) and at the login's rate limits (barong/proxies.py, barong/api/net.py)."""

from http import HTTPStatus

import pytest
from rest_framework.test import APIClient

from barong.api.net import client_ip
from barong.proxies import trusted_proxies_parse
from permissions.services import restriction_create
from tests.authz.conftest import login
from tests.conftest import BROWSER_UA
from tests.factories import DEFAULT_PASSWORD
from tests.ops.test_config import manage

pytestmark = pytest.mark.django_db

PING = "/api/v2/auth/api/v2/barong/identity/ping"
ME = "/api/v2/auth/api/v2/barong/resource/users/me"
LOGIN = "/api/v2/identity/sessions"
CLOUDFLARE_PEER = "104.16.0.1"  # in Cloudflare's published 104.16.0.0/13
BLOCKED = "198.51.100.7"


@pytest.fixture
def blacklisted(superadmin, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        restriction_create(admin=superadmin, category="blacklist", scope="ip", value=BLOCKED)


@pytest.fixture
def trust(settings):
    def apply(value: str) -> None:
        settings.BARONG_TRUSTED_PROXIES = trusted_proxies_parse(value)

    return apply


def test_cloudflare_is_not_trusted_by_default(api, blacklisted):
    response = api.get(PING, REMOTE_ADDR=CLOUDFLARE_PEER, HTTP_X_FORWARDED_FOR=BLOCKED)

    assert response.status_code == HTTPStatus.OK  # the peer is the client: not blacklisted


def test_cloudflare_is_trusted_when_named(api, blacklisted, trust):
    trust("private,cloudflare")

    response = api.get(PING, REMOTE_ADDR=CLOUDFLARE_PEER, HTTP_X_FORWARDED_FOR=BLOCKED)

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"errors": ["authz.restrict.blacklist"]}


def test_a_session_behind_cloudflare_is_bound_to_the_forwarded_client(api, make_user, trust):
    login(api, make_user(), ip="198.51.7.1")
    through = {"REMOTE_ADDR": CLOUDFLARE_PEER, "HTTP_X_FORWARDED_FOR": "198.51.7.1"}

    assert api.get(ME, **through).status_code == HTTPStatus.UNAUTHORIZED  # not trusted yet
    login(api, make_user(), ip="198.51.7.1")
    trust("cloudflare")
    assert api.get(ME, **through).status_code == HTTPStatus.OK


def test_only_the_configured_proxies_are_trusted(api, blacklisted, trust):
    trust("192.0.2.0/24, 2001:db8:ffff::1")  # a load balancer outside the private ranges

    via_balancer = api.get(PING, REMOTE_ADDR="192.0.2.5", HTTP_X_FORWARDED_FOR=BLOCKED)
    via_v6 = api.get(PING, REMOTE_ADDR="2001:db8:ffff::1", HTTP_X_FORWARDED_FOR=BLOCKED)
    via_private = api.get(PING, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=BLOCKED)

    assert via_balancer.status_code == HTTPStatus.UNAUTHORIZED
    assert via_v6.status_code == HTTPStatus.UNAUTHORIZED
    assert via_private.status_code == HTTPStatus.OK  # private ranges were not named


def test_true_client_ip_is_believed_only_from_a_trusted_peer(api, blacklisted, settings):
    settings.BARONG_GATEWAY = "akamai"

    spoofed = api.get(PING, REMOTE_ADDR="203.0.113.9", HTTP_TRUE_CLIENT_IP=BLOCKED)
    proxied = api.get(PING, REMOTE_ADDR="10.0.0.1", HTTP_TRUE_CLIENT_IP=BLOCKED)

    assert spoofed.status_code == HTTPStatus.OK
    assert proxied.status_code == HTTPStatus.UNAUTHORIZED


def test_a_spoofed_chain_cannot_choose_the_rate_limit_key(make_user, settings, trust):
    api = APIClient(HTTP_USER_AGENT=BROWSER_UA)  # the login, not authz: one path is enough
    settings.BARONG_RATE_LIMITS = True
    settings.BARONG_RATE_LIMIT_RULES = {**settings.BARONG_RATE_LIMIT_RULES, "login_ip": "2/300"}
    user = make_user()

    def attempt(peer: str, forwarded: str):
        return api.post(
            LOGIN,
            {"email": user.email, "password": DEFAULT_PASSWORD},
            format="json",
            REMOTE_ADDR=peer,
            HTTP_X_FORWARDED_FOR=forwarded,
        )

    # Not behind Cloudflare: a new X-Forwarded-For per try is still the same peer.
    default = [attempt(CLOUDFLARE_PEER, f"198.51.100.{n}").status_code for n in range(3)]
    # Behind Cloudflare: what a client writes left of its own address is never reached.
    trust("private,cloudflare")
    named = [
        attempt(CLOUDFLARE_PEER, f"198.51.100.{n}, 203.0.113.77").status_code for n in range(3)
    ]

    assert default == [HTTPStatus.OK, HTTPStatus.OK, HTTPStatus.TOO_MANY_REQUESTS]
    assert named == [HTTPStatus.OK, HTTPStatus.OK, HTTPStatus.TOO_MANY_REQUESTS]


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("10.0.0.1", "", "10.0.0.1"),
        ("10.0.0.1", "198.51.100.7", "198.51.100.7"),
        ("10.0.0.1", "203.0.113.1, 198.51.100.7, 10.0.0.2", "198.51.100.7"),  # from the right
        ("10.0.0.1", "198.51.100.7:51234", "198.51.100.7"),  # a balancer writing the port
        ("10.0.0.1", "[2001:db8::7]:443", "2001:db8::7"),
        ("10.0.0.1", "10.0.0.3, 10.0.0.2", "10.0.0.3"),  # all proxies: the farthest one
        ("10.0.0.1", "198.51.100.7, garbage", "10.0.0.1"),  # a broken hop stops the walk
        ("::ffff:10.0.0.1", "198.51.100.7", "198.51.100.7"),  # IPv4-mapped peer
        ("203.0.113.9", "198.51.100.7", "203.0.113.9"),  # an untrusted peer is the client
        ("", "198.51.100.7", "198.51.100.7"),  # no peer (a Unix socket): loopback
    ],
)
def test_the_client_is_the_rightmost_untrusted_hop(peer, forwarded, client):
    meta = {"REMOTE_ADDR": peer, "HTTP_X_FORWARDED_FOR": forwarded}

    assert client_ip(meta) == client


def test_the_words_and_networks():
    private = trusted_proxies_parse("private")
    both = trusted_proxies_parse(" private , cloudflare,192.0.2.7 ")

    assert any(str(net) == "10.0.0.0/8" for net in private)
    assert not any(str(net) == "104.16.0.0/13" for net in private)
    assert {"104.16.0.0/13", "2606:4700::/32", "192.0.2.7/32"} <= {str(net) for net in both}
    assert trusted_proxies_parse("none") == ()
    assert len(trusted_proxies_parse("private,private")) == len(private)


@pytest.mark.parametrize("value", ["10.0.0.0/33", "10.0.0.1/8", "cloudfare", "10.0.0.300"])
def test_invalid_entries_are_refused(value):
    with pytest.raises(ValueError, match="is not an address, a CIDR network"):
        trusted_proxies_parse(f"private,{value}")


def test_an_invalid_value_stops_start_up_with_one_line(tmp_path):
    result = manage(tmp_path, "check", BARONG_TRUSTED_PROXIES="private,cloudfare")

    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "configuration error: BARONG_TRUSTED_PROXIES: 'cloudfare' is not an address,"
        " a CIDR network, private, cloudflare or none"
    ]
