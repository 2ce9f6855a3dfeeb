"""Restriction scopes: one entry each (how a value is checked and stored, how rows are
indexed and matched, the blacklist status when a row has none).

A new scope is one ``RestrictionScope`` in ``SCOPES``: the model's choices, the admin API's
accepted values, value normalisation, the default status code and the authz lookup all
read this registry. Scopes are matched in the order of ``SCOPES`` (Barong 2.4.17's order:
all, ip, ip_subnet, continent, country) and the first match answers.
"""

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field

from permissions import geo

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass
class Client:
    """The address being checked; its geo-location is looked up once, only if needed."""

    ip: str
    address: Address | None
    _located: tuple[str | None, str | None] | None = None

    def location(self) -> tuple[str | None, str | None]:
        """(country, continent) ISO codes, or None where unknown."""
        if self._located is None:
            self._located = geo.locate(self.ip)
        return self._located


class ScopeIndex:
    """The enabled rows of one category and scope, indexed for O(1) lookups."""

    geo = False  # whether matching needs the geo database

    def add(self, value: str, status: int, rank: int) -> None:
        raise ValueError(value)

    def match(self, client: Client) -> int | None:
        return None

    def __bool__(self) -> bool:
        return False


class AllIndex(ScopeIndex):
    """``all``: every address; the oldest row's status."""

    def __init__(self) -> None:
        self.status: int | None = None

    def add(self, value: str, status: int, rank: int) -> None:
        if self.status is None:
            self.status = status

    def match(self, client: Client) -> int | None:
        return self.status

    def __bool__(self) -> bool:
        return self.status is not None


class IpIndex(ScopeIndex):
    """``ip``: one address (IPv4 or IPv6)."""

    def __init__(self) -> None:
        self.ips: dict[Address, int] = {}

    def add(self, value: str, status: int, rank: int) -> None:
        self.ips.setdefault(ipaddress.ip_address(value.strip()), status)

    def match(self, client: Client) -> int | None:
        return self.ips.get(client.address) if client.address is not None else None

    def __bool__(self) -> bool:
        return bool(self.ips)


class SubnetIndex(ScopeIndex):
    """``ip_subnet``: CIDR networks; the oldest matching row answers, as Barong's scan."""

    def __init__(self) -> None:
        # IP version → prefix length → {network address as int → (row rank, status)}.
        self.subnets: dict[int, dict[int, dict[int, tuple[int, int]]]] = {4: {}, 6: {}}

    def add(self, value: str, status: int, rank: int) -> None:
        network = ipaddress.ip_network(value.strip(), strict=False)
        prefixes = self.subnets[network.version]
        prefixes.setdefault(network.prefixlen, {}).setdefault(
            int(network.network_address), (rank, status)
        )

    def match(self, client: Client) -> int | None:
        address = client.address
        if address is None:
            return None
        by_prefix = self.subnets[address.version]
        if not by_prefix:
            return None
        bits = 32 if address.version == 4 else 128
        number = int(address)
        found = [
            hit
            for prefix, networks in by_prefix.items()
            if (hit := networks.get(number >> (bits - prefix) << (bits - prefix)))
        ]
        return min(found)[1] if found else None

    def __bool__(self) -> bool:
        return bool(self.subnets[4] or self.subnets[6])


class GeoIndex(ScopeIndex):
    """``continent`` or ``country``: ISO codes, matched against the geo database."""

    geo = True

    def __init__(self, code: Callable[[str], str | None], part: int) -> None:
        self.code, self.part = code, part  # part: 0 country, 1 continent of the location
        self.codes: dict[str, int] = {}

    def add(self, value: str, status: int, rank: int) -> None:
        code = self.code(value)
        if code:
            self.codes.setdefault(code, status)

    def match(self, client: Client) -> int | None:
        if client.address is None:
            return None
        code = client.location()[self.part]
        return self.codes.get(code) if code is not None else None

    def __bool__(self) -> bool:
        return bool(self.codes)


def _ip(text: str) -> str:
    return str(ipaddress.ip_address(text))


def _subnet(text: str) -> str:
    if "/" not in text:
        raise ValueError("a subnet needs a prefix length")
    return str(ipaddress.ip_network(text, strict=False))


def _code(lookup: Callable[[str], str | None]) -> Callable[[str], str]:
    def normalise(text: str) -> str:
        code = lookup(text)
        if code is None:
            raise ValueError(text)
        return code

    return normalise


def _anything(text: str) -> str:
    """``all`` matches every address whatever its value says; it must not be blank."""
    if not text:
        raise ValueError("blank")
    return text


@dataclass(frozen=True)
class RestrictionScope:
    name: str
    # The value as stored (canonical IP or subnet, ISO code); ValueError if it is not one.
    normalise: Callable[[str], str]
    # The status a blacklist row without its own code answers.
    blacklist_code: int
    index: Callable[[], ScopeIndex] = field(default=ScopeIndex)


SCOPES: tuple[RestrictionScope, ...] = (
    RestrictionScope("all", _anything, 401, AllIndex),
    RestrictionScope("ip", _ip, 401, IpIndex),
    RestrictionScope("ip_subnet", _subnet, 403, SubnetIndex),
    RestrictionScope(
        "continent", _code(geo.continent_code), 423, lambda: GeoIndex(geo.continent_code, 1)
    ),
    RestrictionScope(
        "country", _code(geo.country_code), 423, lambda: GeoIndex(geo.country_code, 0)
    ),
)
BY_NAME = {scope.name: scope for scope in SCOPES}


class ScopeValueError(ValueError):
    """A restriction value that its scope cannot store."""


def scope_value(scope: str, value: str) -> str:
    """``value`` checked and normalised for ``scope``; ``ScopeValueError`` if it does not fit."""
    entry = BY_NAME.get(scope)
    try:
        if entry is None:
            raise ValueError(scope)
        return entry.normalise(value.strip())
    except ValueError as exc:
        raise ScopeValueError(f"not a {scope} value") from exc
