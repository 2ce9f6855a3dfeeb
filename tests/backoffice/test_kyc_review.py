"""The KYC review queues: approving or rejecting documents and profiles from the back-office."""

import json
import re
import time
from datetime import timedelta
from http import HTTPStatus
from urllib.parse import unquote

import pytest
from django.core import signing
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Label
from activities.models import Activity
from kyc.models import Profile
from kyc.storage import file_token_name
from tests.backoffice.conftest import document_add

pytestmark = pytest.mark.django_db

QUEUE = "/admin/kyc/document/review/"


def _decide(client, user, decision: str, reason: str = ""):
    return client.post(
        f"{QUEUE}{user.uid}/decide/", {"decision": decision, "reason": reason}, follow=True
    )


def _document_label(user) -> Label | None:
    return Label.objects.filter(user=user, key="document", scope="private").first()


def _queue_emails(response) -> list[str]:
    return [entry["user"].email for entry in response.context["entries"]]


def test_queue_lists_pending_and_replaced_oldest_first(operator_client, make_user):
    client, _ = operator_client("compliance")
    newer = make_user(email="newer@example.com")
    older = make_user(email="older@example.com")
    replaced = make_user(email="replaced@example.com")
    done = make_user(email="done@example.com", labels={"document": "verified"})
    rejected = make_user(email="rejected@example.com", labels={"document": "rejected"})
    for user in (newer, older, replaced):
        document_add(user)
    Label.objects.filter(user=replaced, key="document").update(value="replaced")
    now = timezone.now()
    for user, age in ((newer, 1), (older, 3), (replaced, 2)):
        Label.objects.filter(user=user, key="document").update(
            updated_at=now - timedelta(hours=age)
        )

    response = client.get(QUEUE)

    assert response.status_code == HTTPStatus.OK
    assert _queue_emails(response) == [older.email, replaced.email, newer.email]
    assert done.email not in response.content.decode()
    assert rejected.email not in response.content.decode()


def test_queue_shows_documents_with_image_previews_and_pdf_links(
    operator_client, kyc_user, monkeypatch
):
    client, _ = operator_client("support")
    pdf = document_add(kyc_user, name="bill.pdf", content=b"%PDF-1.4 test")
    image = kyc_user.documents.exclude(pk=pdf.pk).get()

    body = client.get(QUEUE).content.decode()
    # The next second, as when the clock ticks between the page and the checks below.
    later = signing.b62_encode(int(time.time()) + 1)
    monkeypatch.setattr(signing.TimestampSigner, "timestamp", lambda self: later)

    links = _file_links(body)
    assert ("img src", image.upload.name) in links
    assert ("href", pdf.upload.name) in links
    assert ("img src", pdf.upload.name) not in links
    assert {name for _, name in links} == {image.upload.name, pdf.upload.name}
    assert "Ada Lovelace" in body


def _file_links(body: str) -> set[tuple[str, str]]:
    """(``img src`` or ``href``, the stored file) of every signed file URL on the page.

    A URL's signature carries the second it was made, so the page's URL and one made
    here may differ: each is read back instead, which also checks that the signature
    holds and names exactly that file.
    """
    base = re.escape(default_storage.base_url)
    found = re.findall(rf'(img src|href)="{base}([^"/]+)"', body)
    return {(attribute, file_token_name(unquote(token))) for attribute, token in found}


def test_compliance_approves_documents_and_the_level_follows(operator_client, kyc_user):
    client, operator = operator_client("compliance")
    assert kyc_user.level == 2

    response = _decide(client, kyc_user, "verified")

    assert response.status_code == HTTPStatus.OK
    kyc_user.refresh_from_db()
    assert kyc_user.level == 3
    assert _document_label(kyc_user).value == "verified"
    assert kyc_user.email not in _queue_emails(response)
    [row] = Activity.objects.filter(category="admin", target_uid=kyc_user.uid)
    assert (row.user, row.topic, row.action) == (operator, "users", "update")
    assert json.loads(row.data)["kyc_decision"] == "verified"
    assert row.user_ip == "203.0.113.20"


def test_rejection_keeps_the_reason_and_the_level(operator_client, kyc_user):
    client, _ = operator_client("admin")

    _decide(client, kyc_user, "rejected", reason="Scan is blurry")

    kyc_user.refresh_from_db()
    label = _document_label(kyc_user)
    assert (label.value, label.description) == ("rejected", "Scan is blurry")
    assert kyc_user.level == 2


def test_a_decided_request_cannot_be_decided_again(operator_client, kyc_user):
    client, _ = operator_client("compliance")
    _decide(client, kyc_user, "verified")

    response = _decide(client, kyc_user, "rejected")

    assert "admin.label.not_pending" in response.content.decode()
    assert _document_label(kyc_user).value == "verified"


@pytest.mark.parametrize(
    "decision",
    ["", "approve", "pending", "VERIFIED", "x" * 10_000, "名前"],
    ids=["blank", "approve", "pending", "upper", "10KB", "unicode"],
)
def test_unknown_decisions_change_nothing(operator_client, kyc_user, decision):
    client, _ = operator_client("superadmin")

    response = _decide(client, kyc_user, decision)

    assert response.status_code == HTTPStatus.OK
    assert _document_label(kyc_user).value == "pending"
    assert not Activity.objects.filter(category="admin", target_uid=kyc_user.uid).exists()


def test_long_reason_is_cut_to_the_label_description_size(operator_client, kyc_user):
    client, _ = operator_client("compliance")

    _decide(client, kyc_user, "rejected", reason="r" * 10_000)

    assert _document_label(kyc_user).description == "r" * 255


@pytest.mark.parametrize("role", ["support", "accountant", "technical"])
def test_read_only_roles_see_the_queue_but_cannot_decide(operator_client, kyc_user, role):
    client, _ = operator_client(role)

    page = client.get(QUEUE)
    response = client.post(f"{QUEUE}{kyc_user.uid}/decide/", {"decision": "verified"})

    assert page.status_code == HTTPStatus.OK
    assert "Approve documents" not in page.content.decode()
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert _document_label(kyc_user).value == "pending"


def test_operators_never_approve_their_own_documents(operator_client):
    client, operator = operator_client("compliance")
    document_add(operator)

    response = _decide(client, operator, "verified")

    assert "admin.user.update_himself" in response.content.decode()
    assert _document_label(operator).value == "pending"


def test_unknown_uid_is_404(operator_client):
    client, _ = operator_client("compliance")

    response = client.post(f"{QUEUE}IDNOSUCHUSER/decide/", {"decision": "verified"})

    assert response.status_code == HTTPStatus.NOT_FOUND


def test_get_on_the_decision_url_changes_nothing(operator_client, kyc_user):
    client, _ = operator_client("compliance")

    response = client.get(f"{QUEUE}{kyc_user.uid}/decide/?decision=verified")

    assert response.status_code == HTTPStatus.FOUND
    assert _document_label(kyc_user).value == "pending"


def test_queue_search_and_pagination(operator_client, make_user):
    client, _ = operator_client("compliance")
    users = [make_user() for _ in range(12)]
    for user in users:
        document_add(user)

    first = client.get(QUEUE)
    second = client.get(QUEUE, {"p": "2"})
    found = client.get(QUEUE, {"q": users[5].uid})
    hostile = client.get(QUEUE, {"q": "x" * 10_000, "p": "-1"})

    assert len(first.context["entries"]) == 10
    assert len(second.context["entries"]) == 2
    assert _queue_emails(found) == [users[5].email]
    assert hostile.status_code == HTTPStatus.OK


def _profile_action(client, action: str, *profiles: Profile):
    return client.post(
        "/admin/kyc/profile/",
        {"action": action, "_selected_action": [p.pk for p in profiles], "index": 0},
        follow=True,
    )


@pytest.mark.parametrize(
    ("action", "state"), [("verify_profiles", "verified"), ("reject_profiles", "rejected")]
)
def test_profile_decisions_set_state_label_and_audit(operator_client, kyc_user, action, state):
    client, operator = operator_client("compliance")
    profile = kyc_user.profiles.get()

    _profile_action(client, action, profile)

    profile.refresh_from_db()
    assert profile.state == state
    assert Label.objects.get(user=kyc_user, key="profile", scope="private").value == state
    [row] = Activity.objects.filter(category="admin", target_uid=kyc_user.uid)
    assert (row.user, row.topic, json.loads(row.data)["state"]) == (operator, "profiles", state)


def test_only_submitted_profiles_are_decided(operator_client, make_user):
    client, _ = operator_client("admin")
    drafted = Profile.objects.create(user=make_user(), first_name="Draft", state="drafted")

    response = _profile_action(client, "verify_profiles", drafted)

    drafted.refresh_from_db()
    assert drafted.state == "drafted"
    assert "doesnt_exist_or_not_editable" in response.content.decode()


def test_profile_queue_is_the_submitted_changelist(operator_client, kyc_user, make_user):
    client, _ = operator_client("support")
    Profile.objects.create(user=make_user(), first_name="Draft", state="drafted")

    response = client.get("/admin/kyc/profile/review/", follow=True)

    assert [p.user for p in response.context["cl"].result_list] == [kyc_user]


def test_support_cannot_decide_profiles(operator_client, kyc_user):
    client, _ = operator_client("support")
    profile = kyc_user.profiles.get()

    _profile_action(client, "verify_profiles", profile)

    profile.refresh_from_db()
    assert profile.state == "submitted"


def test_verifying_a_profile_asks_for_a_new_document_review(operator_client, kyc_user):
    """The admin API's rule: any profile change moves a verified document label to ``replaced``."""
    client, _ = operator_client("compliance")
    _decide(client, kyc_user, "verified")
    kyc_user.refresh_from_db()
    assert kyc_user.level == 3

    response = _profile_action(client, "verify_profiles", kyc_user.profiles.get())

    kyc_user.refresh_from_db()
    assert _document_label(kyc_user).value == "replaced"
    assert kyc_user.level == 2
    assert "replaced" in response.content.decode()
    assert kyc_user.email in _queue_emails(client.get(QUEUE))


def _profile_form(profile: Profile, **changes) -> dict[str, str]:
    data = {
        name: getattr(profile, name) or ""
        for name in (
            "first_name",
            "last_name",
            "address",
            "postcode",
            "city",
            "country",
            "metadata",
        )
    }
    data["dob"] = profile.dob.isoformat() if profile.dob else ""
    data.update(changes)
    return data


def test_admin_corrects_a_submitted_profile_through_the_service(operator_client, kyc_user):
    client, operator = operator_client("admin")
    profile = kyc_user.profiles.get()

    response = client.post(
        f"/admin/kyc/profile/{profile.pk}/change/",
        _profile_form(profile, last_name="  Byron   King ", country="jpn"),
    )

    assert response.status_code == HTTPStatus.FOUND
    profile.refresh_from_db()
    assert (profile.last_name, profile.country, profile.state) == ("Byron King", "JPN", "submitted")
    [row] = Activity.objects.filter(category="admin", target_uid=kyc_user.uid)
    assert row.user == operator
    assert json.loads(row.data)["fields"] == ["country", "last_name"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("first_name", "Ada<script>"),
        ("country", "Atlantis"),
        ("dob", "2999-01-01"),
        ("metadata", "{not json"),
        ("last_name", "x" * 10_000),
    ],
)
def test_profile_corrections_follow_the_user_field_rules(operator_client, kyc_user, field, value):
    client, _ = operator_client("superadmin")
    profile = kyc_user.profiles.get()

    response = client.post(
        f"/admin/kyc/profile/{profile.pk}/change/", _profile_form(profile, **{field: value})
    )

    assert response.status_code == HTTPStatus.OK
    assert field in response.context["adminform"].form.errors
    profile.refresh_from_db()
    assert profile.first_name == "Ada"
    assert profile.last_name == "Lovelace"
    assert not Activity.objects.filter(category="admin").exists()


@pytest.mark.parametrize("role", ["compliance", "support"])
def test_only_admins_correct_profile_fields(operator_client, kyc_user, role):
    client, _ = operator_client(role)
    profile = kyc_user.profiles.get()

    client.post(
        f"/admin/kyc/profile/{profile.pk}/change/", _profile_form(profile, last_name="Other")
    )

    profile.refresh_from_db()
    assert profile.last_name == "Lovelace"


def test_queue_page_costs_the_same_queries_for_1_or_10_users(
    operator_client, make_user, django_assert_max_num_queries
):
    client, _ = operator_client("compliance")
    document_add(make_user())
    client.get(QUEUE)  # session and caches warm
    with CaptureQueriesContext(connection) as one:
        client.get(QUEUE)
    for _ in range(9):
        document_add(make_user())

    with django_assert_max_num_queries(len(one.captured_queries)):
        response = client.get(QUEUE)

    assert len(response.context["entries"]) == 10
