"""KYC in the back-office: the document and profile review queues, phones, data storage.

Every decision and edit calls the same service as the admin API
(``document_admin_decide``, ``profile_admin_update``, ``data_storage_admin_delete``), so
level, state and the audit row follow alike.
"""

from pathlib import PurePath

import pycountry
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeListSearchForm
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.db.models import Q, prefetch_related_objects
from django.http import HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from accounts.admin import LabelInline, ReadOnlyInline, UserAdmin
from accounts.models import Label, User
from barong.admin_lists import (
    SEARCH_USERS_MAX,
    SUBSTRING_MIN,
    EstimatedCountPaginator,
    ScaleListMixin,
    fixed_filter,
    users_matching,
)
from barong.admin_site import ReadOnlyAdminMixin, ServiceAdminMixin
from barong.api.errors import ApiError
from kyc import services
from kyc.models import PROFILE_FIELDS, DataStorage, Document, Phone, Profile
from kyc.selectors import document_queue, pending_documents_count, submitted_profiles_count

IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".gif", ".webp"}
QUEUE_PAGE_SIZE = 10
REASON_MAX = 255


# ---------------------------------------------------------------- fixed filter choices
def _document_types() -> list[tuple[str, str]]:
    return [(name, name) for name in settings.BARONG_DOCUMENT_TYPES]


def _countries() -> list[tuple[str, str]]:
    return [(country.alpha_2, country.name) for country in pycountry.countries]


def _storage_titles() -> list[tuple[str, str]]:
    return [(title, title) for title in settings.BARONG_USER_STORAGE_TITLES]


def document_file(document: Document) -> dict:
    """What the review page shows for one upload: a signed URL and whether it is an image."""
    name = document.upload.name if document.upload else ""
    return {
        "document": document,
        "url": default_storage.url(name) if name else None,
        "filename": PurePath(name).name,
        "is_image": PurePath(name).suffix.lower() in IMAGE_EXTENSIONS,
    }


def document_preview(document: Document, *, size: int = 120):
    """A thumbnail (images) or a link (PDFs) to the signed URL of one KYC file."""
    item = document_file(document)
    if item["url"] is None:
        return "—"
    if item["is_image"]:
        return format_html(
            '<a href="{0}" target="_blank" rel="noopener"><img src="{0}" alt="{1}" '
            'style="max-width:{2}px;max-height:{2}px;border:1px solid #ccc"></a>',
            item["url"],
            item["filename"],
            size,
        )
    return format_html(
        '<a href="{}" target="_blank" rel="noopener">{}</a>', item["url"], item["filename"]
    )


class DecisionForm(forms.Form):
    """The review queue's POST; Django's fields refuse NUL characters, which PostgreSQL would."""

    decision = forms.CharField(required=False, strip=False)
    reason = forms.CharField(required=False)
    next_query = forms.CharField(required=False, strip=False)


def review_queue_entry(request, *, model: str, url_name: str, label: str, count) -> list[dict]:
    """An index entry for a review queue (barong/admin_site.py puts it first in KYC)."""
    if not request.user.has_perm(f"kyc.view_{model}"):
        return []
    can_decide = request.user.has_perm(f"kyc.change_{model}")
    return [
        {
            "name": f"{label} ({count()})",
            "object_name": f"{model}review",
            "perms": {"view": True, "change": can_decide, "add": False, "delete": False},
            "admin_url": reverse(f"admin:{url_name}"),
            "add_url": None,
            "view_only": not can_decide,
        }
    ]


# ---------------------------------------------------------------- documents
@admin.register(Document)
class DocumentAdmin(ReadOnlyAdminMixin, ScaleListMixin, admin.ModelAdmin):
    """Uploaded files are evidence: read-only here; decisions are made in the review queue."""

    list_display = ("user", "doc_type", "doc_number", "doc_expire", "preview", "created_at")
    list_filter = (fixed_filter("doc_type", "document type", _document_types),)
    search_fields = ("user__email", "user__uid")
    list_select_related = ("user",)
    readonly_fields = (
        "user",
        "doc_type",
        "doc_number",
        "doc_expire",
        "metadata",
        "preview",
        "created_at",
        "updated_at",
    )
    fields = readonly_fields
    ordering = ("-id",)

    @admin.display(description="File")
    def preview(self, obj: Document):
        return document_preview(obj)

    # Read-only: "change" on documents is the right to decide in the queue (its own view),
    # never to edit an upload.

    def index_entries(self, request) -> list[dict]:
        return review_queue_entry(
            request,
            model="document",
            url_name="kyc_document_review",
            label="Document review queue",
            count=pending_documents_count,
        )

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("review/", view(self.review_view), name="kyc_document_review"),
            path(
                "review/<str:uid>/decide/",
                view(self.decide_view),
                name="kyc_document_decide",
            ),
            *super().get_urls(),
        ]

    def review_view(self, request):
        """The queue: each waiting user with profile, phones, labels and document previews."""
        if not request.user.has_perm("kyc.view_document"):
            raise PermissionDenied
        queue = document_queue()
        search_form = ChangeListSearchForm(request.GET)
        if search_form.is_valid():
            search = (search_form.cleaned_data.get("q") or "").strip()[:255]
        else:  # NUL characters, refused as in every changelist's search box
            search = ""
            for errors in search_form.errors.values():
                self.message_user(request, ", ".join(errors), messages.ERROR)
        if search:
            queue = queue.filter(pk__in=users_matching(search))
        page = EstimatedCountPaginator(queue, QUEUE_PAGE_SIZE).get_page(request.GET.get("p"))
        users = list(page.object_list)
        prefetch_related_objects(users, "documents", "profiles", "phones", "labels")
        entries = []
        for user in users:
            documents = sorted(user.documents.all(), key=lambda d: d.created_at, reverse=True)
            profiles = sorted(user.profiles.all(), key=lambda p: p.pk, reverse=True)
            entries.append(
                {
                    "user": user,
                    "files": [document_file(document) for document in documents],
                    "profile": profiles[0] if profiles else None,
                    "phones": list(user.phones.all()),
                    "labels": [lb for lb in user.labels.all() if lb.scope == Label.Scope.PRIVATE],
                }
            )
        context = {
            **self.admin_site.each_context(request),
            "title": "Document review queue",
            "opts": self.model._meta,
            "entries": entries,
            "page": page,
            "search": search,
            "total": page.paginator.count,
            "can_decide": request.user.has_perm("kyc.change_document"),
            "reason_max": REASON_MAX,
        }
        return TemplateResponse(request, "admin/kyc/document_review.html", context)

    def decide_view(self, request, uid: str):
        """POST ``decision`` = verified | rejected (and an optional reason) for one user."""
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:kyc_document_review"))
        if not request.user.has_perm("kyc.change_document"):
            raise PermissionDenied
        user = get_object_or_404(User, uid=uid)
        form = DecisionForm(request.POST)
        try:
            if not form.is_valid():
                raise ApiError("value.invalid")
            decision = form.cleaned_data["decision"]
            services.document_admin_decide(
                admin=request.user,
                user=user,
                decision=decision,
                reason=form.cleaned_data["reason"][:REASON_MAX] or None,
                request=request,
            )
        except ApiError as exc:
            self.message_user(
                request,
                f"Documents of {user.email} not changed ({', '.join(exc.keys)})",
                messages.ERROR,
            )
        else:
            user.refresh_from_db()
            self.message_user(
                request,
                f"Documents of {user.email} {decision}; level {user.level}, state {user.state}.",
                messages.SUCCESS,
            )
        back = reverse("admin:kyc_document_review")
        # Re-encoded, so the queue's filters come back and nothing else reaches the header.
        query = QueryDict(form.cleaned_data.get("next_query", "")).urlencode()
        return HttpResponseRedirect(f"{back}?{query}" if query else back)


# ---------------------------------------------------------------- profiles


class ProfileForm(forms.ModelForm):
    """The user's own field rules (``profile_fields_clean``), shown as form errors."""

    # An ISO 3166 alpha-2 or alpha-3 code in any case (``jpn`` → ``JPN``), as the API takes it.
    country = forms.CharField(max_length=255, required=False)

    class Meta:
        model = Profile
        fields = PROFILE_FIELDS

    def clean(self):
        cleaned = super().clean()
        given = {name: cleaned[name] for name in PROFILE_FIELDS if name in cleaned}
        values, keys = services.profile_fields_clean(given)
        for key in keys:
            field, _, code = key.partition(".")
            self.add_error(field if field in self.fields else None, f"{code} ({key})")
        cleaned.update(values)
        return cleaned


@admin.register(Profile)
class ProfileAdmin(ScaleListMixin, ServiceAdminMixin, admin.ModelAdmin):
    """Profiles are the user's words: operators verify or reject submitted ones.

    Decisions and corrections call ``profile_admin_update``, as the admin API does, so the
    ``profile`` label follows and a verified ``document`` label becomes ``replaced``.
    """

    form = ProfileForm
    bulk_delete = False
    list_display = (
        "user",
        "first_name",
        "last_name",
        "dob",
        "country",
        "city",
        "state",
        "updated_at",
    )
    list_filter = ("state", fixed_filter("country", "country", _countries))
    search_fields = ("user__email", "user__uid", "first_name", "last_name")
    search_help_text = (
        "An exact uid or e-mail, or part of an e-mail, first or last name (3 characters or more)."
    )

    def search_q(self, term: str) -> Q:
        query = Q(user__in=users_matching(term))
        if len(term) >= SUBSTRING_MIN:
            query |= Q(first_name__icontains=term) | Q(last_name__icontains=term)
        return query

    list_select_related = ("user",)
    fields = ("user", *PROFILE_FIELDS, "state", "created_at", "updated_at")
    actions = ("verify_profiles", "reject_profiles")
    ordering = ("updated_at", "id")

    def get_readonly_fields(self, request, obj=None):
        editable = (
            obj is not None
            and obj.state == Profile.State.SUBMITTED
            and request.user.has_perm("kyc.change_profilefields")
        )
        fixed = ("user", "state", "created_at", "updated_at")
        return fixed if editable else (*fixed, *PROFILE_FIELDS)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in form.changed_data}
        if fields:
            services.profile_admin_update(
                admin=request.user,
                profile=Profile.objects.get(pk=obj.pk),
                fields=fields,
                request=request,
            )
        obj.refresh_from_db()

    def index_entries(self, request) -> list[dict]:
        return review_queue_entry(
            request,
            model="profile",
            url_name="kyc_profile_review",
            label="Profile review queue",
            count=submitted_profiles_count,
        )

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("review/", view(self.review_view), name="kyc_profile_review"),
            *super().get_urls(),
        ]

    def review_view(self, request):
        """The profile queue is the changelist of submitted profiles, oldest first."""
        if not request.user.has_perm("kyc.view_profile"):
            raise PermissionDenied
        changelist = reverse("admin:kyc_profile_changelist")
        return HttpResponseRedirect(f"{changelist}?state__exact={Profile.State.SUBMITTED}")

    def _decide(self, request, queryset, state: str) -> None:
        done = 0
        for profile in queryset.select_related("user"):
            document = Label.objects.filter(
                user=profile.user, key="document", scope=Label.Scope.PRIVATE
            ).first()
            try:
                services.profile_admin_update(
                    admin=request.user, profile=profile, fields={"state": state}, request=request
                )
            except ApiError as exc:
                self.message_user(
                    request,
                    f"{profile.user.email}: profile not changed ({', '.join(exc.keys)})",
                    messages.ERROR,
                )
                continue
            done += 1
            if document is not None and document.value == "verified":
                self.message_user(
                    request,
                    f"{profile.user.email}: verified documents moved to 'replaced' "
                    "(a profile change asks for a new document review).",
                    messages.WARNING,
                )
        if done:
            self.message_user(request, f"{done} profile(s) {state}.", messages.SUCCESS)

    @admin.action(description="Verify selected submitted profiles", permissions=["change"])
    def verify_profiles(self, request, queryset):
        self._decide(request, queryset, Profile.State.VERIFIED)

    @admin.action(description="Reject selected submitted profiles", permissions=["change"])
    def reject_profiles(self, request, queryset):
        self._decide(request, queryset, Profile.State.REJECTED)


# ---------------------------------------------------------------- phones, data storage
@admin.register(Phone)
class PhoneAdmin(ReadOnlyAdminMixin, ScaleListMixin, admin.ModelAdmin):
    """Phones are verified by their owner's code only: read-only here (no code shown)."""

    list_display = ("user", "number", "country", "validated_at", "created_at")
    list_filter = (
        fixed_filter("country", "country", _countries),
        ("validated_at", admin.EmptyFieldListFilter),
    )
    search_fields = ("user__email", "user__uid", "number")
    search_help_text = "An exact uid, e-mail or phone number (digits), or part of an e-mail."
    ordering = ("-id",)

    def search_q(self, term: str) -> Q:
        return Q(user__in=users_matching(term)) | Q(number=term.lstrip("+"))

    list_select_related = ("user",)
    fields = ("user", "number", "country", "validated_at", "created_at", "updated_at")
    readonly_fields = fields


@admin.register(DataStorage)
class DataStorageAdmin(ScaleListMixin, ServiceAdminMixin, admin.ModelAdmin):
    """Users' stored data: readable, removable through ``data_storage_admin_delete``."""

    list_display = ("user", "title", "updated_at")
    list_filter = (fixed_filter("title", "title", _storage_titles),)
    search_fields = ("user__email", "user__uid")
    ordering = ("-id",)
    list_select_related = ("user",)
    fields = ("user", "title", "data", "created_at", "updated_at")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        services.data_storage_admin_delete(
            admin=request.user, user=obj.user, title=obj.title, request=request
        )

    def delete_queryset(self, request, queryset):
        for storage in queryset.select_related("user"):
            self.delete_model(request, storage)


# ---------------------------------------------------------------- the user page
class ProfileInline(ReadOnlyInline, admin.TabularInline):
    model = Profile
    fields = ("first_name", "last_name", "dob", "country", "city", "state", "updated_at")
    readonly_fields = fields
    ordering = ("-id",)
    show_change_link = True


class PhoneInline(ReadOnlyInline, admin.TabularInline):
    model = Phone
    fields = ("number", "country", "validated_at", "created_at")  # never the code
    readonly_fields = fields


class DocumentInline(ReadOnlyInline, admin.TabularInline):
    model = Document
    fields = ("doc_type", "doc_number", "doc_expire", "preview", "created_at")
    readonly_fields = fields
    ordering = ("-created_at",)

    @admin.display(description="File")
    def preview(self, obj: Document):
        return document_preview(obj, size=80)


# KYC at a glance on the user page, ahead of the labels; users found by their names too.
UserAdmin.inlines_add(ProfileInline, PhoneInline, DocumentInline, before=LabelInline)
UserAdmin.search_fields = (*UserAdmin.search_fields, "profiles__first_name", "profiles__last_name")
UserAdmin.search_help_text = (
    "An exact uid or e-mail, or part of an e-mail, first or last name (3 characters or more)."
)


def _profile_owners(term: str) -> list[int]:
    """Users whose profile names contain ``term`` (names hold no "@"), first ones by id."""
    if len(term) < SUBSTRING_MIN or "@" in term:
        return []
    names = Q(first_name__icontains=term) | Q(last_name__icontains=term)
    owners = Profile.objects.filter(names).order_by("user_id").values_list("user_id", flat=True)
    return list(owners[:SEARCH_USERS_MAX])


UserAdmin.search_extra = (*UserAdmin.search_extra, _profile_owners)
