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
from permissions.scopes import BY_NAME, SCOPES, Client, ScopeIndex

VERSION_KEY = "restrictions:version"
CATEGORIES = ("whitelist", "maintenance", "blacklist")  # evaluation order
MAINTENANCE_CODE = 471  # a maintenance row without a code of its own

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Match:
    """A maintenance or blacklist hit: the status and the error key to answer with."""

    status: int
    key: str


@dataclass
class CategoryTable:
    """One category's enabled rows: one index per scope (permissions/scopes.py), in order."""

    indexes: dict[str, ScopeIndex] = field(
        default_factory=lambda: {scope.name: scope.index() for scope in SCOPES}
    )
    # The indexes that hold rows, in scope order; set by ``freeze`` once loading is done.
    active: tuple[ScopeIndex, ...] = ()

    def freeze(self) -> None:
        self.active = tuple(index for index in self.indexes.values() if index)

    @property
    def geo(self) -> bool:
        return any(index.geo and index for index in self.indexes.values())

    def __bool__(self) -> bool:
        return any(self.indexes.values())

    def match(self, client: Client) -> int | None:
        """The status of the first matching row, in scope order; None when nothing matches."""
        for index in self.active:
            status = index.match(client)
            if status is not None:
                return status
        return None


@dataclass
class Tables:
    version: str | None = None
    categories: dict[str, CategoryTable] = field(default_factory=dict)
    empty: bool = True


_tables = Tables()
_lock = threading.Lock()


def default_code(category: str, scope: str) -> int:
    """The status of a row without its own code."""
    if category == "maintenance":
        return MAINTENANCE_CODE
    entry = BY_NAME.get(scope)
    return entry.blacklist_code if entry is not None else 401


def _load() -> dict[str, CategoryTable]:
    from permissions.models import Restriction

    compiled = {category: CategoryTable() for category in CATEGORIES}
    rows = Restriction.objects.filter(state=Restriction.State.ENABLED).order_by("id")
    fields = ("id", "category", "scope", "value", "code")
    for rank, category, scope, value, code in rows.values_list(*fields):
        table = compiled.get(category)
        index = table.indexes.get(scope) if table is not None else None
        if index is None:
            continue
        # Whitelist codes are never answered; the scope default stands in (as 2.4.17).
        status = default_code(category, scope) if code is None or category == "whitelist" else code
        try:
            index.add(value, status, rank)
        except ValueError:
            continue  # a value that no longer parses (edited in the database) is skipped
    for table in compiled.values():
        table.freeze()
    if any(table.geo for table in compiled.values()):
        geo.preload()
    return compiled


def tables(version: str | None = None) -> Tables:
    """The compiled tables, reloaded only when the shared version stamp changed."""
    version = version or version_stamp(VERSION_KEY)
    if _tables.version != version:
        with _lock:
            if _tables.version != version:
                categories = _load()
                _tables.categories = categories
                _tables.empty = not any(categories.values())
                _tables.version = version
    return _tables


def loaded(version: str | None) -> bool:
    """Whether this process holds the tables stamped ``version`` (a check without the database)."""
    return version is not None and _tables.version == version


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
    client = Client(ip=ip, address=address)
    for category in CATEGORIES:
        code = compiled.categories[category].match(client)
        if code is None:
            continue
        if category == "whitelist":
            return None
        return Match(status=code, key=f"authz.restrict.{category}")
    return None
