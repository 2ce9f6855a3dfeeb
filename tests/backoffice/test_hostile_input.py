"""Hostile input on the back-office's own views and searches: a clear answer, never a 500."""

from http import HTTPStatus

import pytest

from accounts.models import Label
from activities.models import Activity

pytestmark = pytest.mark.django_db

QUEUE = "/admin/kyc/document/review/"
NUL = "a\x00b"
SEARCHED_PAGES = [
    "/admin/accounts/user/",
    "/admin/kyc/document/",
    "/admin/kyc/document/review/",
    "/admin/kyc/profile/",
    "/admin/accounts/label/",
    "/admin/kyc/phone/",
    "/admin/kyc/datastorage/",
    "/admin/activities/activity/",
    "/admin/apikeys/apikey/",
    "/admin/permissions/permission/",
    "/admin/permissions/restriction/",
]


def _document_value(user) -> str:
    return Label.objects.get(user=user, key="document", scope="private").value


@pytest.mark.parametrize("page", SEARCHED_PAGES)
@pytest.mark.parametrize(
    "query",
    [{"q": NUL}, {"q": "x" * 10_000}, {"q": "名前😀"}, {"target_uid": NUL}, {"p": "9" * 40}],
    ids=["nul", "10KB", "unicode", "nul-filter", "huge-page"],
)
def test_searches_and_filters_never_500(role_client, kyc_user, page, query):
    client = role_client("superadmin")

    response = client.get(page, query)

    if query.get("target_uid") == NUL:  # a list filter: the site refuses NUL outright
        assert response.status_code == HTTPStatus.BAD_REQUEST
    else:
        assert response.status_code in (HTTPStatus.OK, HTTPStatus.FOUND), response.status_code
    if query.get("q") == NUL and response.status_code == HTTPStatus.OK:
        assert "Null characters are not allowed." in response.content.decode()


@pytest.mark.parametrize(
    ("field", "value"),
    [("reason", NUL), ("decision", NUL), ("next_query", "a=1\r\nSet-Cookie: x=1")],
    ids=["nul-reason", "nul-decision", "header-injection"],
)
def test_hostile_decision_fields_never_500(role_client, kyc_user, field, value):
    client = role_client("compliance")
    body = {"decision": "rejected", "reason": "", field: value}

    response = client.post(f"{QUEUE}{kyc_user.uid}/decide/", body)

    assert response.status_code == HTTPStatus.FOUND
    assert "\n" not in response["Location"]
    assert "\r" not in response["Location"]
    assert response["Location"].startswith(QUEUE)
    assert "x=1" not in response.cookies
    if field == "next_query":
        assert _document_value(kyc_user) == "rejected"
    else:
        assert _document_value(kyc_user) == "pending"
        assert not Activity.objects.filter(category="admin", target_uid=kyc_user.uid).exists()


def test_next_query_keeps_the_operator_on_the_review_queue(role_client, kyc_user):
    client = role_client("compliance")

    response = client.post(
        f"{QUEUE}{kyc_user.uid}/decide/",
        {"decision": "verified", "next_query": "//evil.example/?q=ada&p=2"},
    )

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith(QUEUE + "?")
    assert "evil.example" not in response["Location"].split("?")[0]


@pytest.mark.parametrize(
    ("page", "query"),
    [
        ("/admin/activities/activity/", {"topic": NUL}),
        ("/admin/accounts/user/", {"state__exact": NUL}),
        ("/admin/accounts/user/", {"role": NUL}),
        ("/admin/accounts/label/", {"key": NUL}),
        ("/admin/kyc/profile/", {"country": NUL}),
        ("/admin/permissions/restriction/", {"scope__exact": NUL}),
    ],
)
def test_list_filters_with_nul_are_a_400(role_client, kyc_user, page, query):
    client = role_client("superadmin")

    response = client.get(page, query)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert b"NUL" in response.content


@pytest.mark.parametrize(
    ("uid", "status"),
    [("a%00b", HTTPStatus.BAD_REQUEST), ("x" * 300, HTTPStatus.NOT_FOUND), ("%E5%90%8D", 404)],
)
def test_decision_on_a_hostile_uid_changes_nothing(role_client, uid, status):
    client = role_client("compliance")

    response = client.post(f"{QUEUE}{uid}/decide/", {"decision": "verified"})

    assert response.status_code == status
    assert not Activity.objects.filter(category="admin").exists()


@pytest.mark.parametrize("number", ["9" * 30, "-1", "1e3", NUL])
def test_level_and_restriction_numbers_out_of_range_are_form_errors(role_client, number):
    from accounts.models import Level
    from permissions.models import Restriction

    client = role_client("superadmin")
    levels = list(Level.objects.values_list("pk", flat=True))

    level = client.post(
        "/admin/accounts/level/add/",
        {"id": number, "key": "tier", "value": "gold", "description": "x"},
    )
    restriction = client.post(
        "/admin/permissions/restriction/add/",
        {"category": "blacklist", "scope": "ip", "value": "203.0.113.9", "code": number},
    )

    assert (level.status_code, restriction.status_code) == (HTTPStatus.OK, HTTPStatus.OK)
    assert level.context["adminform"].form.errors
    assert restriction.context["adminform"].form.errors
    assert list(Level.objects.values_list("pk", flat=True)) == levels
    assert not Restriction.objects.exists()


@pytest.mark.parametrize("selected", [NUL, "x", "9" * 30, ""])
@pytest.mark.parametrize(
    ("page", "action"),
    [
        ("/admin/accounts/user/", "ban_users"),
        ("/admin/accounts/label/", "delete_selected"),
        ("/admin/kyc/profile/", "verify_profiles"),
        ("/admin/permissions/restriction/", "disable_restrictions"),
    ],
)
def test_actions_on_hostile_selections_change_nothing(
    role_client, kyc_user, page, action, selected
):
    client = role_client("superadmin")
    labels = sorted(Label.objects.values_list("pk", "value"))

    response = client.post(page, {"action": action, "_selected_action": [selected], "post": "yes"})

    assert response.status_code == HTTPStatus.FOUND
    assert sorted(Label.objects.values_list("pk", "value")) == labels
    assert not Activity.objects.filter(category="admin").exists()
