"""ISO 3166 country codes, looked up offline with pycountry."""

import pycountry


def country_code(value: str) -> str | None:
    """The code upper-cased when it is an ISO alpha-2 or alpha-3 code, else None."""
    code = value.strip().upper()
    if len(code) == 2 and code.isascii() and code.isalpha():
        return code if pycountry.countries.get(alpha_2=code) else None
    if len(code) == 3 and code.isascii() and code.isalpha():
        return code if pycountry.countries.get(alpha_3=code) else None
    return None
