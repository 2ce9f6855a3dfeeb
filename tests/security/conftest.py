"""Fixtures of the account-security tests: committing clients, 2FA users, small limits,
a user with a passkey."""

import pytest

from tests.accounts.conftest import api, make_otp_user, tight_limits  # noqa: F401  (fixtures)
from tests.authz.conftest import _fresh_authz_state  # noqa: F401  (fixture)
from tests.resource_account.helpers import clock  # noqa: F401  (fixture)


@pytest.fixture
def passkey_user(make_user, auth_api):
    """(a user with one registered passkey, the authenticator holding it)."""
    from tests.security.authenticator import SoftAuthenticator
    from tests.security.test_passkeys_api import register

    user = make_user()
    authenticator = SoftAuthenticator()
    register(auth_api(user), authenticator)
    return user, authenticator
