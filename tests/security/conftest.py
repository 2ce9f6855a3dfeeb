"""Fixtures of the account-security tests: committing clients, 2FA users, small limits."""

from tests.accounts.conftest import api, make_otp_user, tight_limits  # noqa: F401  (fixtures)
from tests.authz.conftest import _fresh_authz_state  # noqa: F401  (fixture)
from tests.resource_account.helpers import clock  # noqa: F401  (fixture)
