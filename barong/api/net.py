"""The client's address as Barong sees it, behind the proxies it is told to trust
(``BARONG_TRUSTED_PROXIES``, barong/proxies.py)."""

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest


@lru_cache(maxsize=4096)
def _parse(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An address as proxies write it: bare, ``1.2.3.4:port`` or ``[v6]:port``; else None."""
    text = text.strip()
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


@lru_cache(maxsize=4096)
def _trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """A hop of ``BARONG_TRUSTED_PROXIES`` (an IPv4-mapped IPv6 peer as its IPv4 address)."""
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(
        address in net for net in settings.BARONG_TRUSTED_PROXIES if net.version == address.version
    )


def remote_ip(request: HttpRequest) -> str:
    """The client's address: see ``client_ip``."""
    return client_ip(request.META)


def client_ip(meta: dict) -> str:
    """The client's address from a request's META or a WSGI environ: the one function for
    the Django path and the authz front's fast path (permissions/lean.py).

    A peer outside ``BARONG_TRUSTED_PROXIES`` is the client, whatever it sends. From a
    trusted peer, ``X-Forwarded-For`` is walked from the right (the hop nearest to us):
    the first entry that is not a trusted proxy is the client, so addresses a client
    writes in front of its own are never reached. With ``BARONG_GATEWAY=akamai`` a
    trusted peer's ``True-Client-IP`` is the client.
    """
    true_client = ""
    if settings.BARONG_GATEWAY == "akamai":
        true_client = meta.get("HTTP_TRUE_CLIENT_IP", "")[:64]
    return _client_ip(
        true_client, meta.get("REMOTE_ADDR", "") or "", meta.get("HTTP_X_FORWARDED_FOR", "")[:2048]
    )


@lru_cache(maxsize=1024)  # the same few proxies and clients call again and again
def _client_ip(true_client: str, remote_addr: str, forwarded: str) -> str:
    peer = _parse(remote_addr) or ipaddress.ip_address("127.0.0.1")
    if not _trusted(peer):
        return str(peer)
    if true_client:
        address = _parse(true_client)
        if address is not None:
            return str(address)
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


@receiver(setting_changed)
def _trust_changed(*, setting: str, **kwargs) -> None:
    """Tests change the trusted proxies; a running server reads them once."""
    if setting == "BARONG_TRUSTED_PROXIES":
        _trusted.cache_clear()
        _client_ip.cache_clear()


def user_agent(request: HttpRequest) -> str:
    return request.META.get("HTTP_USER_AGENT", "")
