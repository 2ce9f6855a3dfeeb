"""The client's address as Barong sees it, behind trusted proxies."""

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

# Private ranges and Cloudflare's published ranges count as proxies, as in Barong.
TRUSTED_PROXIES = [
    ipaddress.ip_network(net)
    for net in (
        "127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "::1/128", "fc00::/7",
        "173.245.48.0/20", "103.21.244.0/22", "103.22.200.0/22", "103.31.4.0/22",
        "141.101.64.0/18", "108.162.192.0/18", "190.93.240.0/20", "188.114.96.0/20",
        "197.234.240.0/22", "198.41.128.0/17", "162.158.0.0/15", "104.16.0.0/13",
        "104.24.0.0/14", "172.64.0.0/13", "131.0.72.0/22", "2400:cb00::/32",
        "2606:4700::/32", "2803:f800::/32", "2405:b500::/32", "2405:8100::/32",
        "2a06:98c0::/29", "2c0f:f248::/32",
    )
]  # fmt: skip


@lru_cache(maxsize=4096)
def _parse(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


@lru_cache(maxsize=4096)
def _trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return any(address in net for net in TRUSTED_PROXIES if net.version == address.version)


def remote_ip(request: HttpRequest) -> str:
    """Right-most untrusted address of X-Forwarded-For, else the socket peer."""
    return client_ip(request.META)


def client_ip(meta: dict) -> str:
    """``remote_ip`` from a request's META or a WSGI environ (the authz front's fast path)."""
    true_client = ""
    if settings.BARONG_GATEWAY == "akamai":
        true_client = meta.get("HTTP_TRUE_CLIENT_IP", "")[:64]
    return _client_ip(
        true_client, meta.get("REMOTE_ADDR", "") or "", meta.get("HTTP_X_FORWARDED_FOR", "")[:2048]
    )


@lru_cache(maxsize=1024)  # the same few proxies and clients call again and again
def _client_ip(true_client: str, remote_addr: str, forwarded: str) -> str:
    if true_client:
        address = _parse(true_client)
        if address is not None:
            return str(address)
    peer = _parse(remote_addr) or ipaddress.ip_address("127.0.0.1")
    if not _trusted(peer):
        return str(peer)
    chain = [part for part in forwarded.split(",") if part.strip()]
    candidate = peer
    for part in reversed(chain):
        address = _parse(part)
        if address is None:
            break
        candidate = address
        if not _trusted(address):
            break
    return str(candidate)


def user_agent(request: HttpRequest) -> str:
    return request.META.get("HTTP_USER_AGENT", "")
