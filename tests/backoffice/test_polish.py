"""The back-office pages as an operator reads them: a role is picked from the known roles, row
captions carry no internal ids, the sidebar marks one entry. Widths and the pictures are
checked in Chromium (tests/ops/test_production_mode.py)."""

import re
from html.parser import HTMLParser
from http import HTTPStatus

from django.contrib.admin.sites import site

from kyc.models import Document, Profile
from permissions.models import Permission


class _Page(HTMLParser):
    """The role choices, the inline row captions and the sidebar entries marked current."""

    def __init__(self) -> None:
        super().__init__()
        self.role_options: list[str] = []
        self.role_select = False
        self.role_input = False
        self.captions: list[str] = []
        self.current: list[str] = []
        self._in_select = False
        self._caption_depth = 0
        self._current_row = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        classes = (attributes.get("class") or "").split()
        if tag == "select" and attributes.get("name") == "role":
            self.role_select = self._in_select = True
        elif tag == "input" and attributes.get("name") == "role":
            self.role_input = True
        elif tag == "option" and self._in_select:
            self.role_options.append(attributes.get("value"))
        elif tag == "td" and "original" in classes:
            self._caption_depth = 1
            self.captions.append("")
        elif tag == "tr" and "current-model" in classes:
            self._current_row = True
        elif tag == "a" and self._current_row:
            self.current.append(attributes.get("href"))
            self._current_row = False

    def handle_endtag(self, tag):
        if tag == "select":
            self._in_select = False
        elif tag == "td":
            self._caption_depth = 0

    def handle_data(self, data):
        if self._caption_depth:
            self.captions[-1] += data


def _page(response) -> _Page:
    assert response.status_code == HTTPStatus.OK
    page = _Page()
    page.feed(response.content.decode())
    return page


def test_the_role_is_chosen_from_the_roles_the_rules_name(operator_client, make_user):
    client, _ = operator_client("superadmin")
    member = make_user()
    Permission.objects.create(
        role="market-maker", verb="get", path="api/v2/peatio", action="accept"
    )

    page = _page(client.get(f"/admin/accounts/user/{member.pk}/change/"))

    assert page.role_select
    assert not page.role_input  # no free text
    assert set(page.role_options) == set(Permission.objects.values_list("role", flat=True))
    # Member, then the operator roles from the highest rank down (accounts/roles.py).
    assert page.role_options[:7] == [
        "member",
        "superadmin",
        "admin",
        "support",
        "technical",
        "accountant",
        "compliance",
    ]
    assert {"broker", "trader", "market-maker"} <= set(page.role_options)


def test_a_role_whose_rules_were_removed_stays_shown(operator_client, make_user):
    client, _ = operator_client("superadmin")
    member = make_user()
    Permission.objects.create(role="auditor", verb="get", path="api/v2/peatio", action="accept")
    member.role = "auditor"
    member.save(update_fields=["role"])
    Permission.objects.filter(role="auditor").delete()

    page = _page(client.get(f"/admin/accounts/user/{member.pk}/change/"))

    assert page.role_options[-1] == "auditor"


def test_row_captions_on_the_user_page_carry_no_internal_ids(operator_client, kyc_user):
    client, _ = operator_client("superadmin")
    profile = Profile.objects.get(user=kyc_user)
    document = Document.objects.get(user=kyc_user)

    page = _page(client.get(f"/admin/accounts/user/{kyc_user.pk}/change/"))

    captions = [" ".join(caption.split()) for caption in page.captions]
    assert "profile (submitted) View" in captions
    assert f"Passport {document.doc_number}" in captions
    for caption in captions:
        assert not re.search(rf"\b({kyc_user.pk}|{profile.pk}|{document.pk})\b", caption), caption
        assert " of " not in caption


def test_the_sidebar_marks_only_the_page_shown(operator_client, kyc_user):
    client, _ = operator_client("superadmin")
    document = Document.objects.get(user=kyc_user)
    cases = {
        "/admin/kyc/document/review/": "/admin/kyc/document/review/",
        "/admin/kyc/document/": "/admin/kyc/document/",
        f"/admin/kyc/document/{document.pk}/change/": "/admin/kyc/document/",
        f"/admin/accounts/user/{kyc_user.pk}/change/": "/admin/accounts/user/",
    }
    for path, entry in cases.items():
        assert _page(client.get(path)).current == [entry], path
    assert _page(client.get("/admin/")).current == []


def test_the_known_roles_come_in_their_usual_order(db):
    from accounts.selectors import roles_known

    Permission.objects.create(role="auditor", verb="get", path="api/v2/peatio", action="accept")
    roles = roles_known()
    assert roles[:3] == ["member", "superadmin", "admin"]
    assert roles[-3:] == sorted(roles[-3:])
    assert "auditor" in roles
    assert len(roles) == len(set(roles))


def test_the_sidebar_is_the_sites_own(rf, superadmin):
    """``each_context`` leaves one entry current, whatever Django lists."""
    request = rf.get("/admin/kyc/document/review/")
    request.user = superadmin
    request.session = {}
    context = site.each_context(request)
    current = [
        model["admin_url"]
        for app in context["available_apps"]
        for model in app["models"]
        if model.get("current")
    ]
    assert current == ["/admin/kyc/document/review/"]
