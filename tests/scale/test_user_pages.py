"""The admin user list paged by position through the per-block user counts (PostgreSQL),
and the same pages from a plain walk of the ids elsewhere."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import USER_ID_BLOCK, User, UserIdBlock
from accounts.selectors import user_ids_page
from tests.admin_api.conftest import ADMIN

pytestmark = pytest.mark.django_db
POSTGRES = connection.vendor == "postgresql"
# Ids on both sides of block boundaries, far apart, so pages span several blocks.
SPREAD_IDS = (
    USER_ID_BLOCK - 1,
    USER_ID_BLOCK,
    USER_ID_BLOCK + 1,
    2 * USER_ID_BLOCK + 7,
    5 * USER_ID_BLOCK - 1,
    9 * USER_ID_BLOCK + 3,
)


def _spread_users() -> None:
    User.objects.bulk_create(
        User(pk=pk, email=f"spread{pk}@example.com", uid=f"ID{pk:010d}") for pk in SPREAD_IDS
    )
    User.objects.filter(pk=2 * USER_ID_BLOCK + 7).delete()  # a gap the counts must follow


def _recount() -> dict[tuple[int, int], int]:
    counts: dict[tuple[int, int], int] = {}
    for pk in User.objects.values_list("pk", flat=True):
        key = (pk // USER_ID_BLOCK, pk % 8)
        counts[key] = counts.get(key, 0) + 1
    return counts


def _stored() -> dict[tuple[int, int], int]:
    return {(b.block, b.shard): b.users for b in UserIdBlock.objects.all() if b.users}


def test_every_page_of_the_user_list_is_the_ids_in_order(sa_api, make_user):
    for _ in range(3):
        make_user()
    _spread_users()
    expected = list(User.objects.order_by("id").values_list("uid", flat=True))

    for limit in (1, 2, 3):
        seen = []
        for page in range(1, len(expected) // limit + 3):
            response = sa_api.get(f"{ADMIN}/users", {"page": page, "limit": limit})
            assert response.status_code == 200
            assert response["Total"] == str(len(expected))
            seen += [user["uid"] for user in response.json()]
        assert seen == expected


def test_a_filter_pages_the_filtered_users_not_all_of_them(sa_api, make_user):
    _spread_users()
    member = make_user()

    response = sa_api.get(f"{ADMIN}/users", {"email": member.email, "page": 1})

    assert [user["uid"] for user in response.json()] == [member.uid]
    assert response["Total"] == "1"


@pytest.mark.skipif(not POSTGRES, reason="the counts are kept by a PostgreSQL trigger")
def test_the_trigger_counts_inserts_bulk_inserts_and_deletes(make_user):
    make_user()
    _spread_users()
    User.objects.bulk_create(
        User(email=f"bulk{n}@example.com", uid=f"IDBULK{n:06d}") for n in range(25)
    )

    assert _stored() == _recount()
    total, ids = user_ids_page(start=User.objects.count() - 2, size=5)
    assert total == User.objects.count()
    assert ids == list(User.objects.order_by("-id").values_list("pk", flat=True)[:2])[::-1]


@pytest.mark.skipif(not POSTGRES, reason="the counts are kept by a PostgreSQL trigger")
def test_the_counts_can_be_rebuilt_after_a_load_without_triggers(make_user):
    make_user()
    _spread_users()
    UserIdBlock.objects.update(users=0)
    assert user_ids_page(start=0, size=10) == (0, [])

    out = StringIO()
    call_command("user_id_blocks_rebuild", stdout=out)

    assert out.getvalue().strip() == f"{User.objects.count()} users counted"
    assert _stored() == _recount()
    assert user_ids_page(start=0, size=2)[1] == list(
        User.objects.order_by("id").values_list("pk", flat=True)[:2]
    )


@pytest.mark.skipif(POSTGRES, reason="SQLite keeps no counts")
def test_without_counts_the_list_walks_the_ids(sa_api, make_user):
    make_user()
    assert user_ids_page(start=0, size=10) is None
    assert not UserIdBlock.objects.exists()
    out = StringIO()
    call_command("user_id_blocks_rebuild", stdout=out)
    assert out.getvalue().strip() == "0 users counted"


def test_the_back_office_user_list_pages_newest_first_by_position(operator_client, make_user):
    """Deep pages of all users, newest first, are found through the per-block counts on
    PostgreSQL (one block walked) and by offset elsewhere: the same users either way."""
    from accounts.admin import UserAdmin

    client, _operator = operator_client("superadmin")
    make_user()
    _spread_users()
    newest_first = list(User.objects.order_by("-id").values_list("pk", flat=True))
    per_page = 2
    pages = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(UserAdmin, "list_per_page", per_page)
        patch.setattr("accounts.admin.USER_ID_BLOCK", 1)  # every page past the first is deep
        for number in range(1, len(newest_first) // per_page + 2):
            with CaptureQueriesContext(connection) as queries:
                response = client.get("/admin/accounts/user/", {"p": number})
            assert response.status_code == 200
            pages.append([user.pk for user in response.context["cl"].result_list])
            walks = [q["sql"] for q in queries.captured_queries if "OFFSET" in q["sql"]]
            # PostgreSQL: no walk of the ids from the newest (one block's ids at most).
            assert not POSTGRES or not any('"id" DESC' in sql for sql in walks), walks
    assert [pk for page in pages for pk in page] == newest_first
    assert all(len(page) == per_page for page in pages[:-1])
