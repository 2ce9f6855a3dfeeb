"""Fixtures of the baseapp replay."""

from tests.resource_account.helpers import clock  # noqa: F401  (fixture)
