"""Rule-table fixtures: a superadmin's cookie session, as the admin UI holds it."""

import pytest

from tests.authz.conftest import login


@pytest.fixture
def sa_cookie_api(api, superadmin):
    """The ``superadmin``'s session cookie, with the CSRF header on every request."""
    api.credentials(HTTP_X_CSRF_TOKEN=login(api, superadmin))
    return api
