"""Operator services: the rules hold for the Django admin and commands as for the API."""

import pytest

from accounts.models import Label, User
from accounts.services import (
    label_admin_create,
    label_admin_delete,
    label_admin_update,
    label_admin_upsert,
    label_set,
    user_otp_admin_disable,
    user_otp_set,
    user_role_admin_set,
    user_state_admin_set,
)
from activities.models import Activity
from barong.api.errors import ApiError
from kyc.models import DataStorage
from kyc.services import data_storage_admin_delete

pytestmark = pytest.mark.django_db


def refused(error_key: str, call, **kwargs) -> None:
    with pytest.raises(ApiError) as raised:
        call(**kwargs)
    assert raised.value.keys == [error_key]


def test_only_a_superadmin_grants_superadmin(make_admin, make_user):
    admin = make_admin(role="admin")
    member = make_user()

    refused(
        "admin.user.superadmin_change",
        user_role_admin_set,
        admin=admin,
        user=member,
        role="superadmin",
    )
    assert User.objects.get(pk=member.pk).role == "member"


def test_only_a_superadmin_takes_superadmin_away(make_admin):
    admin, target = make_admin(role="admin"), make_admin(role="superadmin")

    refused(
        "admin.user.superadmin_change", user_role_admin_set, admin=admin, user=target, role="member"
    )
    assert User.objects.get(pk=target.pk).role == "superadmin"


def test_a_superadmin_demotes_another_superadmin(make_admin):
    boss, target = make_admin(role="superadmin"), make_admin(role="superadmin")

    user_role_admin_set(admin=boss, user=target, role="admin")

    assert User.objects.get(pk=target.pk).role == "admin"
    row = Activity.objects.get(category="admin", target_uid=target.uid)
    assert (row.user_id, row.topic, row.action) == (boss.pk, "users", "update")


def test_admin_may_give_ordinary_roles(make_admin, make_user):
    admin, member = make_admin(role="admin"), make_user()

    user_role_admin_set(admin=admin, user=member, role="support")

    assert User.objects.get(pk=member.pk).role == "support"


def test_state_service_checks_the_fresh_row(make_admin, make_user):
    admin, member = make_admin(role="admin"), make_user()
    stale = User.objects.get(pk=member.pk)
    User.objects.filter(pk=member.pk).update(state="banned")

    refused(
        "admin.user.state_no_change", user_state_admin_set, admin=admin, user=stale, state="banned"
    )


def test_state_service_guards(make_admin, make_user):
    admin = make_admin(role="admin")

    refused(
        "admin.user.update_himself", user_state_admin_set, admin=admin, user=admin, state="banned"
    )
    refused("state.inclusion", user_state_admin_set, admin=admin, user=make_user(), state="frozen")


def test_otp_disable_service(make_admin, make_user):
    admin, member = make_admin(role="admin"), make_user()
    user_otp_set(user=member, enabled=True)

    user_otp_admin_disable(admin=admin, user=member)

    assert User.objects.get(pk=member.pk).otp is False
    refused("admin.user.otp_no_change", user_otp_admin_disable, admin=admin, user=member)


def test_label_services_audit_every_write(make_admin, make_user):
    admin, member = make_admin(role="admin"), make_user()

    label_admin_create(admin=admin, user=member, key="tier", value="gold")
    label_admin_update(admin=admin, user=member, key="tier", value="silver", scope="public")
    label_admin_upsert(admin=admin, user=member, key="risk", value="low", scope="private")
    label_admin_delete(admin=admin, user=member, key="tier", scope="public")

    actions = list(
        Activity.objects.filter(category="admin", target_uid=member.uid)
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["create", "update", "create", "delete"]
    assert list(Label.objects.filter(user=member).values_list("key", flat=True)) == [
        "email",
        "risk",
    ]


def test_label_create_refuses_an_existing_key(make_admin, make_user):
    admin, member = make_admin(role="admin"), make_user()

    refused(
        "key.taken",
        label_admin_create,
        admin=admin,
        user=member,
        key="EMAIL",
        value="verified",
        scope="private",
    )


def test_data_storage_delete_service(make_admin, make_user):
    admin, member = make_admin(role="admin"), make_user()
    DataStorage.objects.create(user=member, title="personal", data="{}")
    label_set(user=member, key="personal", value="recorded", scope="private")

    data_storage_admin_delete(admin=admin, user=member, title="personal")

    assert not DataStorage.objects.filter(user=member).exists()
    assert not Label.objects.filter(user=member, key="personal").exists()
    refused(
        "admin.storage.doesnt_exist",
        data_storage_admin_delete,
        admin=admin,
        user=member,
        title="personal",
    )


def test_otp_disable_removes_the_otp_label(make_admin, make_user):
    admin, member = make_admin(role="admin"), make_user()
    user_otp_set(user=member, enabled=True)
    label_set(user=member, key="otp", value="enabled", scope="private")

    user_otp_admin_disable(admin=admin, user=member)

    assert not Label.objects.filter(user=member, key="otp").exists()
    assert User.objects.get(pk=member.pk).level == 1
