"""The project starts, routes resolve under both prefixes, errors have Barong's shape."""

from http import HTTPStatus

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("prefix", ["/api/v2", "/api/v2/barong"])
def test_ping_answers_pong_under_both_prefixes(api, prefix):
    response = api.get(f"{prefix}/identity/ping")

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"ping": "pong"}


@pytest.mark.parametrize("method", ["get", "post", "put", "delete", "patch"])
def test_unknown_route_is_route_not_found(api, method):
    response = getattr(api, method)("/api/v2/identity/nowhere")

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"errors": ["route.not_found"]}


def test_seeds_are_idempotent():
    from django.core.management import call_command

    from accounts.models import Level
    from permissions.models import Permission

    call_command("seed_levels", verbosity=0)
    call_command("seed_permissions", verbosity=0)

    assert Permission.objects.count() == 151
    assert list(Level.objects.values_list("id", "key", "value")) == [
        (1, "email", "verified"),
        (2, "phone", "verified"),
        (3, "document", "verified"),
    ]


def test_make_user_reaches_level_one(make_user):
    user = make_user()

    assert (user.state, user.level) == ("active", 1)
