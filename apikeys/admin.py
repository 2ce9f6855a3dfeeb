"""API keys in the back-office: metadata only, never the secret (not even encrypted)."""

from django.contrib import admin

from accounts.admin import ActivityInline, ReadOnlyInline, UserAdmin
from apikeys.models import APIKey
from barong.admin_site import ReadOnlyAdminMixin


@admin.register(APIKey)
class APIKeyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: keys are created and revoked by their owner; a ban switches them off."""

    list_display = ("kid", "user", "algorithm", "state", "created_at", "updated_at")
    list_filter = ("state", "algorithm")
    search_fields = ("kid", "user__email", "user__uid")
    list_select_related = ("user",)
    fields = ("kid", "user", "algorithm", "scope", "state", "created_at", "updated_at")
    readonly_fields = fields
    exclude = ("encrypted_secret",)


class APIKeyInline(ReadOnlyInline, admin.TabularInline):
    model = APIKey
    fields = ("kid", "algorithm", "scope", "state", "created_at", "updated_at")
    readonly_fields = fields  # the encrypted secret is never shown, not even encrypted
    exclude = ("encrypted_secret",)


# The user page lists the user's keys ahead of their recent activity.
UserAdmin.inlines_add(APIKeyInline, before=ActivityInline)
