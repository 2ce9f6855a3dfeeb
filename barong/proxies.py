"""``BARONG_TRUSTED_PROXIES``: which peers may tell the client's address.

Read once at start-up by ``barong/settings.py`` (an invalid entry stops it with one line);
``barong.api.net`` walks ``X-Forwarded-For`` through the networks it yields. Only this
module knows the words: ``private`` (loopback and private ranges, the default),
``cloudflare`` (Cloudflare's published ranges, below) and ``none`` (no proxy: the peer is
the client). How to set it behind a load balancer, Cloudflare or a gateway:
docs/operations.md, "Client addresses behind proxies".
"""

import ipaddress

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

PRIVATE = (
    "127.0.0.0/8", "::1/128",  # loopback
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7",  # RFC 1918, unique local
)  # fmt: skip

# https://www.cloudflare.com/ips-v4 and /ips-v6; Cloudflare changes them rarely and
# announces it. Trusted only when BARONG_TRUSTED_PROXIES names "cloudflare".
CLOUDFLARE = (
    "173.245.48.0/20", "103.21.244.0/22", "103.22.200.0/22", "103.31.4.0/22",
    "141.101.64.0/18", "108.162.192.0/18", "190.93.240.0/20", "188.114.96.0/20",
    "197.234.240.0/22", "198.41.128.0/17", "162.158.0.0/15", "104.16.0.0/13",
    "104.24.0.0/14", "172.64.0.0/13", "131.0.72.0/22", "2400:cb00::/32",
    "2606:4700::/32", "2803:f800::/32", "2405:b500::/32", "2405:8100::/32",
    "2a06:98c0::/29", "2c0f:f248::/32",
)  # fmt: skip

WORDS = {"private": PRIVATE, "cloudflare": CLOUDFLARE, "none": ()}
DEFAULT = "private"


def trusted_proxies_parse(text: str) -> tuple[Network, ...]:
    """The networks of a comma-separated list of addresses, CIDR networks and words.

    Raises ValueError naming the first entry that is none of them (a network with host
    bits set, ``10.0.0.1/8``, is refused: it is usually a typo for another network).
    """
    networks: list[Network] = []
    for raw in text.split(","):
        entry = raw.strip()
        if not entry:
            continue
        if entry.lower() in WORDS:
            networks += [ipaddress.ip_network(net) for net in WORDS[entry.lower()]]
            continue
        try:
            networks.append(ipaddress.ip_network(entry))
        except ValueError:
            raise ValueError(
                f"{entry!r} is not an address, a CIDR network, private, cloudflare or none"
            ) from None
    return tuple(dict.fromkeys(networks))
