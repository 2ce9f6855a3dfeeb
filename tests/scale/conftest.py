"""Scale tests reuse the admin API's Bearer client and the back-office's logged-in clients."""

from tests.admin_api.conftest import sa_api  # noqa: F401
from tests.backoffice.conftest import operator_client  # noqa: F401
