"""What an API key may do: its scopes (``BARONG_API_KEY_SCOPES``), networks and expiry.

A scope is a set of "VERB path-prefix" patterns matched against the gateway path authz
checks (``ALL``: any verb; ``*``: any path). A key whose stored ``scope`` names at least
one configured scope is *scoped*: it may do only what one of its configured scopes
allows. A key that names none (every Barong key, and any key created without a scope)
is unrestricted, as in Barong: names that no configuration defines grant nothing and
restrict nothing, and the key's answers say so (``enforced_scope`` is null).
"""

import datetime
import ipaddress
import json
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

VERBS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "ALL")
MAX_CIDRS = 32
MAX_CIDR_TEXT = 64
ANY_PATH = "*"

Pattern = tuple[str, str]  # (verb, path prefix)


@lru_cache(maxsize=4)
def _compile(text: str) -> dict[str, tuple[Pattern, ...]]:
    table: dict[str, tuple[Pattern, ...]] = {}
    for name, entries in json.loads(text).items():
        if not isinstance(entries, list) or not name or "," in name:
            raise ImproperlyConfigured(f"BARONG_API_KEY_SCOPES[{name!r}] must be a list")
        patterns = []
        for entry in entries:
            verb, _, prefix = str(entry).strip().partition(" ")
            verb, prefix = verb.upper(), prefix.strip().lstrip("/")
            if verb not in VERBS or not prefix:
                raise ImproperlyConfigured(
                    f"BARONG_API_KEY_SCOPES[{name!r}]: {entry!r} is not 'VERB path-prefix'"
                )
            patterns.append((verb, "" if prefix == ANY_PATH else prefix))
        table[name] = tuple(patterns)
    return table


_compiled: list = [None, {}]  # [the setting's object, its compiled table]


def scope_table() -> dict[str, tuple[Pattern, ...]]:
    """The configured scopes, compiled once per configuration (a new setting object, as
    tests assign, is compiled again)."""
    configured = settings.BARONG_API_KEY_SCOPES
    if _compiled[0] is not configured:
        _compiled[1] = _compile(json.dumps(configured, sort_keys=True))
        _compiled[0] = configured
    return _compiled[1]


def scopes_enforced(scope: list[str] | tuple[str, ...]) -> tuple[str, ...] | None:
    """The configured scopes a key is limited to (sorted), or None: an unrestricted key."""
    table = scope_table()
    known = sorted({name for name in scope if isinstance(name, str) and name in table})
    return tuple(known) or None


def scopes_allow(scopes: tuple[str, ...] | list[str], method: str, path: str) -> bool:
    """Whether one of ``scopes`` lets ``method`` on the gateway ``path`` through."""
    table = scope_table()
    method = method.upper()
    for name in scopes:
        for verb, prefix in table.get(name, ()):
            if verb in (method, "ALL") and path.startswith(prefix):
                return True
    return False


def cidrs_normalise(values: list[str]) -> list[str]:
    """The networks in canonical form (an address is its /32 or /128); ValueError if one
    is not a network or there are too many."""
    if len(values) > MAX_CIDRS:
        raise ValueError("too many networks")
    networks: list[str] = []
    for value in values:
        if len(value) > MAX_CIDR_TEXT or not value.isascii():
            raise ValueError("not a network")
        network = str(ipaddress.ip_network(value.strip(), strict=False))
        if network not in networks:
            networks.append(network)
    return networks


@lru_cache(maxsize=4096)
def _networks(cidrs: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(cidr) for cidr in cidrs)


def address_allowed(cidrs: tuple[str, ...] | list[str], ip: str) -> bool:
    """Whether the client address ``ip`` (barong/api/net.py's) is in one of ``cidrs``; any
    address is when there are none. An address that does not parse is in none."""
    if not cidrs:
        return True
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in _networks(tuple(cidrs)))


def expiry_timestamp(expires_at: datetime.datetime | None) -> int | None:
    """A key's expiry as a unix time, as its cached row keeps it."""
    return int(expires_at.timestamp()) if expires_at is not None else None
