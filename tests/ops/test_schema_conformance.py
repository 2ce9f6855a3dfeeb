"""Generated requests against the OpenAPI document: no 5xx, every answer as documented.

Schemathesis reads ``/api/v2/schema/`` and sends requests built from it to the app in
this process, as an operator (superadmin) so the admin and resource trees answer for
real. The budget is bounded (a few examples per operation, the ``/api/v2/barong/``
copies left out since they are the same views): ``make schemathesis`` sets
``BARONG_SCHEMATHESIS_EXAMPLES`` and CI runs it after ``make test``, which skips the
generated part and keeps the fixed real-data checks below.
"""

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from barong.wsgi import application
from tests.conftest import BROWSER_UA, bearer_for

EXAMPLES = int(os.environ.get("BARONG_SCHEMATHESIS_EXAMPLES") or 0)  # per operation, ~75 of them

schema = schemathesis.openapi.from_wsgi("/api/v2/schema/?format=json", application).exclude(
    path_regex=r"^/api/v2/barong/"
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Requests go to the WSGI app directly, whose request signals would close the test's
    database connection mid-transaction (PostgreSQL); Django's test client unhooks them
    the same way."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def operator(make_admin, settings):
    settings.BARONG_RATE_LIMITS = False  # generated requests would trip them, not test them
    return make_admin(role="superadmin")


@pytest.mark.skipif(not EXAMPLES, reason="generated requests run in `make schemathesis` (CI)")
@schema.parametrize()
@settings(
    max_examples=max(EXAMPLES, 1),
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
@pytest.mark.django_db
def test_answers_match_the_schema(case, operator):
    headers = {"Authorization": f"Bearer {bearer_for(operator)}", "User-Agent": BROWSER_UA}
    case.call_and_validate(headers=headers, checks=CHECKS)


@pytest.fixture
def full_kyc(db):
    """Users with every kind of KYC row, so answers carry their nullable fields too."""
    from django.core.management import call_command

    call_command("seed_demo", verbosity=0)
    from accounts.models import User

    return User.objects.get(email="pending@barong.example")


@pytest.mark.parametrize(
    ("method", "path", "query"),
    [
        ("GET", "/api/v2/admin/users/{uid}", None),
        ("GET", "/api/v2/admin/users", None),
        ("GET", "/api/v2/admin/users", {"extended": "true"}),
        ("GET", "/api/v2/admin/users/documents/pending", None),
        ("GET", "/api/v2/admin/users/documents/pending", {"extended": "true"}),
        ("GET", "/api/v2/resource/users/me", None),
        ("GET", "/api/v2/resource/profiles/me", None),
        ("GET", "/api/v2/resource/documents", None),
        ("GET", "/api/v2/resource/phones", None),
        ("GET", "/api/v2/resource/labels", None),
        ("GET", "/api/v2/admin/activities", None),
    ],
)
def test_answers_with_real_data_match_the_schema(full_kyc, operator, method, path, query):
    """The fields the generated requests rarely reach: full KYC files, nulls, lists."""
    operation = schema[path][method]
    user = operator if path.startswith("/api/v2/admin") else full_kyc
    case = operation.Case(
        path_parameters={"uid": full_kyc.uid} if "{uid}" in path else None, query=query
    )
    headers = {"Authorization": f"Bearer {bearer_for(user)}", "User-Agent": BROWSER_UA}
    response = case.call_and_validate(headers=headers, checks=CHECKS)
    assert response.status_code == 200
