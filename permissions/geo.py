"""Offline GeoIP: an address's country and continent codes, and names normalised to codes.

The country database ships inside the ``geoip2fast`` package (GeoLite2 data, IPv4 and
IPv6 in one file); it is loaded on first use, only by a worker that has a country or
continent restriction to evaluate. Names an operator types (``Japan``, ``Europe``)
are turned into ISO codes once, when the restriction is saved.
"""

import ipaddress
import threading
from functools import lru_cache

import pycountry

from permissions.continents import CONTINENT_NAMES, COUNTRY_CONTINENT

# The IPv6 file holds both the IPv4 and the IPv6 networks.
DATABASE_FILE = "geoip2fast-ipv6.dat.gz"

# GeoLite2's English names that pycountry does not know, plus common short forms.
COUNTRY_ALIASES = {
    "brunei": "BN",
    "bonaire, sint eustatius, and saba": "BQ",
    "dr congo": "CD",
    "congo republic": "CG",
    "ivory coast": "CI",
    "falkland islands": "FK",
    "heard and mcdonald islands": "HM",
    "st kitts and nevis": "KN",
    "saint martin": "MF",
    "the netherlands": "NL",
    "pitcairn islands": "PN",
    "palestine": "PS",
    "russia": "RU",
    "saint helena": "SH",
    "são tomé and príncipe": "ST",
    "sao tome and principe": "ST",
    "sint maarten": "SX",
    "u.s. outlying islands": "UM",
    "vatican city": "VA",
    "st vincent and grenadines": "VC",
    "u.s. virgin islands": "VI",
    "kosovo": "XK",
    "uk": "GB",
    "great britain": "GB",
    "britain": "GB",
    "england": "GB",
}
CONTINENT_ALIASES = {name.lower(): code for code, name in CONTINENT_NAMES.items()} | {
    "australia": "OC",
    "antarctic": "AN",
}
# GeoLite2 tags a few networks with a continent only, in place of a country.
REGION_ONLY = {"EU": "EU", "ASIA": "AS", "AP": "AS"}

_lock = threading.Lock()
_database = None


def country_code(value: str) -> str | None:
    """``JP``, ``JPN``, ``Japan`` or ``japan`` → ``JP``; None if no country has that name."""
    text = value.strip()
    if not text or len(text) > 64:
        return None
    if text.upper() == "XK":
        return "XK"
    alias = COUNTRY_ALIASES.get(text.lower())
    if alias:
        return alias
    try:
        return pycountry.countries.lookup(text).alpha_2
    except LookupError:
        return None


def continent_code(value: str) -> str | None:
    """``EU`` or ``Europe`` → ``EU``; None for anything else."""
    text = value.strip()
    if text.upper() in CONTINENT_NAMES:
        return text.upper()
    return CONTINENT_ALIASES.get(text.lower())


def _geoip():
    global _database
    if _database is None:
        with _lock:
            if _database is None:
                from geoip2fast import GeoIP2Fast

                _database = GeoIP2Fast(geoip2fast_data_file=DATABASE_FILE)
    return _database


def preload() -> None:
    """Load the database now (when geo restrictions are compiled), not on a request."""
    _geoip()


@lru_cache(maxsize=65536)
def locate(ip: str) -> tuple[str | None, str | None]:
    """(country code, continent code) of an address; (None, None) if unknown or private."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None, None
    if address.is_private or address.is_loopback or address.is_reserved:
        return None, None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    try:
        code = _geoip().lookup(str(address)).country_code
    except Exception:  # a lookup failure means "no geo match", never a failed request
        return None, None
    if code in REGION_ONLY:
        return None, REGION_ONLY[code]
    if code not in COUNTRY_CONTINENT:
        return None, None
    return code, COUNTRY_CONTINENT[code]
