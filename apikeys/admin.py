"""API keys in the back-office: metadata and limits, never the secret (not even encrypted).

Operators restrict a key here (scope, networks, expiry, the owner locked out of them, or
switched off) through ``api_key_restrict``, the admin API's path: the same checks and the
same audit row. Keys are created and deleted by their owner only.
"""

from django import forms
from django.contrib import admin

from accounts.admin import ActivityInline, ReadOnlyInline, UserAdmin
from apikeys.models import APIKey
from apikeys.services import (
    KEEP,
    api_key_cidrs_parse,
    api_key_restrict,
    api_key_scope_parse,
)
from barong.admin_site import ServiceAdminMixin
from barong.api.errors import ApiError

LIMITS_HELP = "Scopes: read, trade, withdraw (BARONG_API_KEY_SCOPES); none: unrestricted."


class APIKeyRestrictForm(forms.ModelForm):
    """Scope and networks as comma-separated text, checked as the admin API checks them."""

    scope_text = forms.CharField(
        label="Scope", required=False, max_length=255, help_text=LIMITS_HELP
    )
    cidrs_text = forms.CharField(
        label="Allowed networks",
        required=False,
        max_length=4096,
        help_text="Comma separated CIDRs or addresses; blank: any address.",
    )

    class Meta:
        model = APIKey
        fields = ("expires_at", "operator_restricted", "state")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["scope_text"].initial = ",".join(self.instance.scope or [])
            self.fields["cidrs_text"].initial = ",".join(self.instance.allowed_cidrs or [])
        self.fields["state"] = forms.ChoiceField(choices=APIKey.State.choices)

    def clean_cidrs_text(self):
        try:
            return api_key_cidrs_parse(self.cleaned_data.get("cidrs_text") or "")
        except ApiError as exc:
            raise forms.ValidationError(f"Not a list of networks ({', '.join(exc.keys)}).") from exc

    def clean_scope_text(self):
        return api_key_scope_parse(self.cleaned_data.get("scope_text") or "")


@admin.register(APIKey)
class APIKeyAdmin(ServiceAdminMixin, admin.ModelAdmin):
    """Restricted through ``api_key_restrict``; no adds, no deletes (the owner's)."""

    form = APIKeyRestrictForm
    list_display = (
        "kid",
        "user",
        "algorithm",
        "state",
        "scope",
        "expires_at",
        "operator_restricted",
        "created_at",
    )
    list_filter = ("state", "algorithm", "operator_restricted")
    search_fields = ("kid", "user__email", "user__uid")
    list_select_related = ("user",)
    readonly_fields = ("kid", "user", "algorithm", "created_at", "updated_at")
    fields = (
        "kid",
        "user",
        "algorithm",
        "state",
        "scope_text",
        "cidrs_text",
        "expires_at",
        "operator_restricted",
        "created_at",
        "updated_at",
    )
    exclude = ("encrypted_secret",)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data, changed = form.cleaned_data, set(form.changed_data)
        row = APIKey.objects.get(pk=obj.pk)
        saved = api_key_restrict(
            admin=request.user,
            api_key=row,
            scope=data.get("scope_text") or [] if "scope_text" in changed else None,
            allowed_cidrs=data.get("cidrs_text") or [] if "cidrs_text" in changed else KEEP,
            expires_at=data.get("expires_at") if "expires_at" in changed else KEEP,
            restricted=bool(data.get("operator_restricted")),
            state=data.get("state") if "state" in changed else None,
            request=request,
        )
        obj.updated_at = saved.updated_at


class APIKeyInline(ReadOnlyInline, admin.TabularInline):
    model = APIKey
    fields = ("kid", "algorithm", "scope", "state", "expires_at", "created_at", "updated_at")
    readonly_fields = fields  # the encrypted secret is never shown, not even encrypted
    exclude = ("encrypted_secret",)


# The user page lists the user's keys ahead of their recent activity.
UserAdmin.inlines_add(APIKeyInline, before=ActivityInline)
