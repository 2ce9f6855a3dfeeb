"""The users page: search, filters, and operator actions that go through the services."""

import json
from http import HTTPStatus

import pytest

from accounts.models import Label, User
from accounts.services import user_otp_set
from activities.models import Activity
from apikeys.models import APIKey
from apikeys.services import api_key_create
from kyc.models import Profile

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/accounts/user/"


def _action(client, action: str, *users: User):
    return client.post(
        CHANGELIST,
        {"action": action, "_selected_action": [user.pk for user in users], "index": 0},
        follow=True,
    )


def _admin_rows(target: User) -> list[Activity]:
    return list(Activity.objects.filter(category="admin", target_uid=target.uid).order_by("id"))


def _listed(response) -> set[str]:
    return {user.email for user in response.context["cl"].result_list}


def test_search_by_email_uid_and_profile_names(operator_client, make_user):
    client, _ = operator_client("support")
    ada = make_user(email="ada@example.com")
    Profile.objects.create(user=ada, first_name="Ada", last_name="Lovelace")
    grace = make_user(email="grace@example.com")

    assert _listed(client.get(CHANGELIST, {"q": "lovelace"})) == {"ada@example.com"}
    assert _listed(client.get(CHANGELIST, {"q": grace.uid})) == {"grace@example.com"}
    assert _listed(client.get(CHANGELIST, {"q": "ada@exa"})) == {"ada@example.com"}


@pytest.mark.parametrize(
    "query",
    ["x" * 10_000, "名前", "' OR 1=1 --", '{"a": [1]}', "\x00"],
    ids=["10KB", "unicode", "sql", "json", "nul"],
)
def test_hostile_search_answers_a_page_not_an_error(operator_client, make_user, query):
    client, _ = operator_client("support")
    member = make_user()

    response = client.get(CHANGELIST, {"q": query})

    assert response.status_code == HTTPStatus.OK
    if query == "\x00":  # Django's search form refuses it and lists everyone
        assert "Null characters are not allowed." in response.content.decode()
        assert member.email in _listed(response)
    else:
        assert member.email not in _listed(response)


def test_filters_by_state_role_and_level(operator_client, make_user):
    client, operator = operator_client("admin")
    banned = make_user(labels={"ban": "by_admin"})
    phone = make_user(labels={"phone": "verified"})

    assert _listed(client.get(CHANGELIST, {"state": "banned"})) == {banned.email}
    assert _listed(client.get(CHANGELIST, {"level": "2"})) == {phone.email}
    assert operator.email in _listed(client.get(CHANGELIST, {"role": "admin"}))


def test_derived_fields_are_read_only(operator_client, make_user):
    client, _ = operator_client("superadmin")
    member = make_user()
    before = User.objects.values().get(pk=member.pk)

    response = client.post(
        f"/admin/accounts/user/{member.pk}/change/",
        {
            "state": member.state,
            "role": member.role,
            "level": "3",
            "uid": "IDFAKE000000",
            "otp": "on",
            "email": "other@example.com",
            **_empty_inlines(),
        },
    )

    assert response.status_code == HTTPStatus.FOUND
    assert User.objects.values().get(pk=member.pk) == before


def _empty_inlines() -> dict[str, str]:
    """Management forms of the user page's inlines, with no rows."""
    data = {}
    for prefix in ("profiles", "phones", "documents", "labels", "api_keys", "activities"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    return data


def _labels_formset(user: User) -> dict[str, str]:
    """The labels inline as the page posts it back, unchanged."""
    labels = list(Label.objects.filter(user=user).order_by("scope", "key"))
    data = {"labels-TOTAL_FORMS": str(len(labels)), "labels-INITIAL_FORMS": str(len(labels))}
    for index, label in enumerate(labels):
        data.update(
            {
                f"labels-{index}-id": str(label.pk),
                f"labels-{index}-user": str(user.pk),
                f"labels-{index}-key": label.key,
                f"labels-{index}-value": label.value,
                f"labels-{index}-scope": label.scope,
                f"labels-{index}-description": label.description or "",
            }
        )
    return data


def _change(client, user: User, **fields):
    data = {"state": user.state, "role": user.role, **_empty_inlines(), **_labels_formset(user)}
    data.update(fields)
    return client.post(f"/admin/accounts/user/{user.pk}/change/", data)


def test_state_change_goes_through_the_service_and_is_audited(operator_client, make_user):
    client, operator = operator_client("compliance")
    member = make_user()
    api_key_create(user=member)

    response = _change(client, member, state="locked")

    assert response.status_code == HTTPStatus.FOUND
    member.refresh_from_db()
    assert member.state == "locked"
    assert set(APIKey.objects.filter(user=member).values_list("state", flat=True)) == {"inactive"}
    [row] = _admin_rows(member)
    assert (row.user, row.topic, row.action, row.result) == (operator, "users", "update", "succeed")
    assert json.loads(row.data)["state"] == "locked"


def test_superadmin_changes_a_role_through_the_service(operator_client, make_user):
    client, _ = operator_client("superadmin")
    member = make_user()

    _change(client, member, role="support")

    member.refresh_from_db()
    assert member.role == "support"
    assert json.loads(_admin_rows(member)[0].data)["role"] == "support"


def test_unknown_role_is_a_form_error(operator_client, make_user):
    client, _ = operator_client("superadmin")
    member = make_user()

    response = _change(client, member, role="pirate")

    assert response.status_code == HTTPStatus.OK
    assert "role.doesnt_exist" in response.content.decode()
    member.refresh_from_db()
    assert member.role == "member"


def test_admin_cannot_change_a_role_even_by_posting_it(operator_client, make_user):
    client, _ = operator_client("admin")
    member = make_user()

    _change(client, member, role="superadmin")

    member.refresh_from_db()
    assert member.role == "member"


@pytest.mark.parametrize(
    ("actor_role", "target_role"), [("admin", "superadmin"), ("compliance", "superadmin")]
)
def test_only_a_superadmin_changes_a_superadmin(
    operator_client, make_admin, actor_role, target_role
):
    client, _ = operator_client(actor_role)
    target = make_admin(role=target_role)

    response = _change(client, target, state="locked")

    assert response.status_code == HTTPStatus.OK
    assert "admin.user.superadmin_change" in response.content.decode()
    target.refresh_from_db()
    assert target.state == "active"
    # Only the refused attempt is in the audit log.
    [row] = _admin_rows(target)
    assert (row.result, row.topic, row.action) == ("denied", "users", "update")


def test_operator_cannot_change_their_own_state(operator_client):
    client, operator = operator_client("admin")

    response = _change(client, operator, state="locked")

    assert "admin.user.update_himself" in response.content.decode()
    operator.refresh_from_db()
    assert operator.state == "active"


def test_ban_and_unban_use_the_private_ban_label(operator_client, make_user):
    client, _ = operator_client("compliance")
    member = make_user(labels={"phone": "verified"})
    api_key_create(user=member)

    _action(client, "ban_users", member)

    member.refresh_from_db()
    assert member.state == "banned"
    assert member.level == 2  # the ban moves the state, not the KYC level
    assert Label.objects.filter(user=member, key="ban", scope="private").exists()
    assert APIKey.objects.get(user=member).state == "inactive"
    assert [(r.topic, r.action) for r in _admin_rows(member)] == [("users", "create")]

    _action(client, "unban_users", member)

    member.refresh_from_db()
    assert member.state == "active"
    assert not Label.objects.filter(user=member, key="ban").exists()
    assert [r.action for r in _admin_rows(member)] == ["create", "delete"]


def test_unban_keeps_a_user_banned_by_another_trigger_label(operator_client, make_user):
    client, _ = operator_client("admin")
    member = make_user(labels={"ban": "by_admin", "fraud": "chargeback"})

    _action(client, "unban_users", member)

    member.refresh_from_db()
    assert member.state == "banned"


def test_bulk_ban_refuses_per_user_and_bans_the_rest(operator_client, make_user, make_admin):
    client, operator = operator_client("admin")
    member = make_user()
    superadmin = make_admin(role="superadmin")

    response = _action(client, "ban_users", member, superadmin, operator)

    states = dict(
        User.objects.filter(pk__in=[member.pk, superadmin.pk, operator.pk]).values_list(
            "email", "state"
        )
    )
    assert states == {member.email: "banned", superadmin.email: "active", operator.email: "active"}
    text = response.content.decode()
    assert "admin.user.superadmin_change" in text
    assert "admin.user.update_himself" in text


def test_disable_2fa_action(operator_client, make_user):
    client, _ = operator_client("admin")
    member = make_user()
    user_otp_set(user=member, enabled=True)
    api_key_create(user=member)

    _action(client, "disable_2fa", member)

    member.refresh_from_db()
    assert member.otp is False
    assert APIKey.objects.get(user=member).state == "inactive"
    assert json.loads(_admin_rows(member)[0].data)["otp"] is False


@pytest.mark.parametrize("role", ["support", "accountant", "technical"])
def test_read_only_roles_cannot_run_actions(operator_client, make_user, role):
    client, _ = operator_client(role)
    member = make_user()

    response = _action(client, "ban_users", member)

    assert response.status_code in (HTTPStatus.OK, HTTPStatus.FORBIDDEN)
    member.refresh_from_db()
    assert member.state == "active"
    assert not Label.objects.filter(user=member, key="ban").exists()


def test_users_are_never_deleted(operator_client, make_user):
    client, _ = operator_client("superadmin")
    member = make_user()

    page = client.get(CHANGELIST)
    delete_page = client.get(f"/admin/accounts/user/{member.pk}/delete/")
    bulk = _action(client, "delete_selected", member)

    choices = [name for name, _ in page.context["action_form"].fields["action"].choices]
    assert "ban_users" in choices
    assert "delete_selected" not in choices
    assert delete_page.status_code == HTTPStatus.FORBIDDEN
    assert bulk.status_code == HTTPStatus.OK
    assert User.objects.filter(pk=member.pk).exists()


def test_labels_inline_goes_through_the_label_services(operator_client, make_user):
    client, _ = operator_client("compliance")
    member = make_user()
    data = {
        "state": member.state,
        "role": member.role,
        **_empty_inlines(),
        **_labels_formset(member),
    }
    index = int(data["labels-TOTAL_FORMS"])
    data.update(
        {
            "labels-TOTAL_FORMS": str(index + 1),
            f"labels-{index}-user": str(member.pk),
            f"labels-{index}-key": " Phone ",
            f"labels-{index}-value": "VERIFIED",
            f"labels-{index}-scope": "private",
        }
    )

    response = client.post(f"/admin/accounts/user/{member.pk}/change/", data)

    assert response.status_code == HTTPStatus.FOUND
    member.refresh_from_db()
    assert member.level == 2
    assert Label.objects.get(user=member, key="phone").value == "verified"
    assert [(r.topic, r.action) for r in _admin_rows(member)] == [("users", "create")]

    data = {
        "state": member.state,
        "role": member.role,
        **_empty_inlines(),
        **_labels_formset(member),
    }
    phone_index = next(k for k, v in data.items() if v == "phone").split("-")[1]
    data[f"labels-{phone_index}-DELETE"] = "on"
    client.post(f"/admin/accounts/user/{member.pk}/change/", data)

    member.refresh_from_db()
    assert member.level == 1
    assert [r.action for r in _admin_rows(member)] == ["create", "delete"]


def test_no_secret_is_ever_shown(operator_client, make_user):
    client, _ = operator_client("superadmin")
    member = make_user()
    key, secret = api_key_create(user=member)
    user_otp_set(user=member, enabled=True)

    pages = [
        client.get(f"/admin/accounts/user/{member.pk}/change/"),
        client.get("/admin/apikeys/apikey/"),
        client.get(f"/admin/apikeys/apikey/{key.pk}/change/"),
    ]

    for page in pages:
        body = page.content.decode()
        assert page.status_code == HTTPStatus.OK
        assert key.kid in body
        assert secret not in body
        assert key.encrypted_secret not in body
        assert "encrypted_secret" not in body
        assert member.password not in body


def test_recent_activities_are_limited(operator_client, make_user):
    from activities.services import activity_record

    client, _ = operator_client("support")
    member = make_user()
    for number in range(25):
        activity_record(user=member, topic="session", action=f"login-{number}")

    body = client.get(f"/admin/accounts/user/{member.pk}/change/").content.decode()

    assert "login-24" in body
    assert "login-5" in body
    assert "login-4<" not in body
