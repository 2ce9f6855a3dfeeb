"""Enabled restrictions compiled into in-memory lookup tables (Barong 2.4.17's model).

Like the permission engine, every worker keeps the compiled tables in process memory
and compares a version stamp in the shared cache on each request: an operator's
change is seen by the very next request on every worker, and the steady state never
touches the database. Evaluation: categories whitelist → maintenance → blacklist; in
each, the first match in the scope order all → ip → ip_subnet → continent → country.
"""

import ipaddress
import threading
from dataclasses import dataclass, field

from barong.cache import version_bump, version_stamp
from permissions import geo

VERSION_KEY = "restrictions:version"
CATEGORIES = ("whitelist", "maintenance", "blacklist")  # evaluation order

# Status codes when a row has none (2.4.17 defaults).
MAINTENANCE_CODE = 471
BLACKLIST_CODES = {"all": 401, "ip": 401, "ip_subnet": 403, "continent": 423, "country": 423}

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Match:
    """A maintenance or blacklist hit: the status and the error key to answer with."""

    status: int
    key: str


@dataclass
class CategoryTable:
    """One category's enabled rows, indexed for O(1) lookups per scope."""

    all: int | None = None
    ips: dict[Address, int] = field(default_factory=dict)
    # prefix length → {network address as int → (row rank, code)}, one map per IP version.
    subnets: dict[int, dict[int, dict[int, tuple[int, int]]]] = field(
        default_factory=lambda: {4: {}, 6: {}}
    )
    continents: dict[str, int] = field(default_factory=dict)
    countries: dict[str, int] = field(default_factory=dict)

    @property
    def geo(self) -> bool:
        return bool(self.continents or self.countries)

    def match(self, address: Address | None, ip: str) -> int | None:
        """The code of the first matching row, in scope order; None when nothing matches."""
        if self.all is not None:
            return self.all
        if address is None:
            return None
        code = self.ips.get(address)
        if code is not None:
            return code
        by_prefix = self.subnets[address.version]
        if by_prefix:
            bits = 32 if address.version == 4 else 128
            number = int(address)
            found = [
                hit
                for prefix, networks in by_prefix.items()
                if (hit := networks.get(number >> (bits - prefix) << (bits - prefix)))
            ]
            if found:
                return min(found)[1]  # the oldest matching row, as Barong's ordered scan
        if self.geo:
            country, continent = geo.locate(ip)
            if continent is not None and continent in self.continents:
                return self.continents[continent]
            if country is not None and country in self.countries:
                return self.countries[country]
        return None


@dataclass
class Tables:
    version: str | None = None
    categories: dict[str, CategoryTable] = field(default_factory=dict)
    empty: bool = True


_tables = Tables()
_lock = threading.Lock()


def default_code(category: str, scope: str) -> int:
    """The status of a row without its own code, by category."""
    if category == "maintenance":
        return MAINTENANCE_CODE
    return BLACKLIST_CODES.get(scope, 401)


def _load() -> dict[str, CategoryTable]:
    from permissions.models import Restriction

    compiled = {category: CategoryTable() for category in CATEGORIES}
    rows = Restriction.objects.filter(state=Restriction.State.ENABLED).order_by("id")
    fields = ("id", "category", "scope", "value", "code")
    for rank, category, scope, value, code in rows.values_list(*fields):
        table = compiled.get(category)
        if table is None:
            continue
        # Whitelist codes are never answered; the scope default stands in (as 2.4.17).
        status = default_code(category, scope) if code is None or category == "whitelist" else code
        _add(table, scope, value, status, rank)
    if any(table.geo for table in compiled.values()):
        geo.preload()
    return compiled


def _add(table: CategoryTable, scope: str, value: str, status: int, rank: int) -> None:
    """Index one row; a value that no longer parses (edited in the database) is skipped."""
    try:
        if scope == "all":
            table.all = status if table.all is None else table.all
        elif scope == "ip":
            table.ips.setdefault(ipaddress.ip_address(value.strip()), status)
        elif scope == "ip_subnet":
            network = ipaddress.ip_network(value.strip(), strict=False)
            prefixes = table.subnets[network.version]
            prefixes.setdefault(network.prefixlen, {}).setdefault(
                int(network.network_address), (rank, status)
            )
        elif scope == "continent":
            code = geo.continent_code(value)
            if code:
                table.continents.setdefault(code, status)
        elif scope == "country":
            code = geo.country_code(value)
            if code:
                table.countries.setdefault(code, status)
    except ValueError:
        return


def tables(version: str | None = None) -> Tables:
    """The compiled tables, reloaded only when the shared version stamp changed."""
    version = version or version_stamp(VERSION_KEY)
    if _tables.version != version:
        with _lock:
            if _tables.version != version:
                categories = _load()
                _tables.categories = categories
                _tables.empty = not any(
                    t.all is not None or t.ips or t.subnets[4] or t.subnets[6] or t.geo
                    for t in categories.values()
                )
                _tables.version = version
    return _tables


def invalidate() -> None:
    """Call after any restriction write commits: every worker reloads on its next request."""
    version_bump(VERSION_KEY)


def evaluate(ip: str, *, version: str | None = None) -> Match | None:
    """Whitelist stops evaluation; maintenance then blacklist answer with their code."""
    compiled = tables(version)
    if compiled.empty:
        return None
    try:
        address: Address | None = ipaddress.ip_address(ip)
    except ValueError:
        address = None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
        ip = str(address)
    for category in CATEGORIES:
        code = compiled.categories[category].match(address, ip)
        if code is None:
            continue
        if category == "whitelist":
            return None
        return Match(status=code, key=f"authz.restrict.{category}")
    return None
