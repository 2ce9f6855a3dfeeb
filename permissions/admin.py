"""The permission table and traffic restrictions in the back-office, through their services.

Saves and deletes go through the rule tables' one service path (``rule_create``,
``rule_update``, ``rule_delete`` in permissions/services.py): the admin API's checks, the
same audit rows, and the authz tables of every worker refreshed after commit.
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from barong.admin_site import ServiceAdminMixin
from barong.api.errors import ApiError
from permissions import services
from permissions.models import Permission, Restriction
from permissions.selectors import role_exists
from permissions.services import (
    PERMISSIONS,
    RESTRICTIONS,
    STEP_UP_MAX_AGE_LIMIT,
    RuleTable,
    permission_step_up,
    rule_create,
    rule_delete,
    rule_update,
)


class RuleAdmin(ServiceAdminMixin, admin.ModelAdmin):
    """Saves and deletes of a rule table through its one service path (``rule_*``)."""

    table: RuleTable

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data.get(name) for name in self.table.fields}
        if change:
            row = self.table.model.objects.get(pk=obj.pk)
            saved = rule_update(self.table, admin=request.user, row=row, request=request, **fields)
        else:
            saved = rule_create(self.table, admin=request.user, request=request, **fields)
        obj.pk, obj.created_at, obj.updated_at = saved.pk, saved.created_at, saved.updated_at

    def delete_model(self, request, obj):
        rule_delete(self.table, admin=request.user, row=obj, request=request)

    def delete_queryset(self, request, queryset):
        for row in queryset:
            self.delete_model(request, row)


class PermissionForm(forms.ModelForm):
    """The permission checks as form errors: a known role, a verb and an action from their sets."""

    class Meta:
        model = Permission
        fields = PERMISSIONS.fields

    def clean_role(self):
        role = self.cleaned_data["role"].strip()
        if not role_exists(role):
            raise ValidationError(
                "No rule uses this role yet; new roles are not introduced here "
                "(admin.permission.role_doesnt_exist)."
            )
        return role

    def clean_path(self):
        path = self.cleaned_data["path"].strip().lstrip("/")
        if not path:
            raise ValidationError("A path prefix is required, e.g. api/v2/barong/admin.")
        return path

    def clean_topic(self):
        return (self.cleaned_data.get("topic") or "").strip() or None

    def clean_step_up_max_age(self):
        """Empty is 0, which the service stores as no requirement (None would mean "leave
        it as it is" to ``rule_update``)."""
        try:
            return permission_step_up(self.cleaned_data.get("step_up_max_age")) or 0
        except ApiError as exc:
            raise ValidationError(
                f"From 1 to {STEP_UP_MAX_AGE_LIMIT} seconds, or empty ({exc.keys[0]})."
            ) from exc


@admin.register(Permission)
class PermissionAdmin(RuleAdmin):
    table = PERMISSIONS
    form = PermissionForm
    list_display = (
        "id",
        "role",
        "verb",
        "path",
        "action",
        "topic",
        "security_lock",
        "step_up_max_age",
        "updated_at",
    )
    list_filter = ("role", "verb", "action", "security_lock")
    search_fields = ("path", "role", "topic")
    ordering = ("role", "path", "id")
    list_per_page = 200


class RestrictionForm(forms.ModelForm):
    """The value must fit its scope: IPv4/IPv6 address, CIDR subnet, ISO country/continent."""

    class Meta:
        model = Restriction
        fields = RESTRICTIONS.fields
        help_texts = {
            "value": "ip: 203.0.113.7 or 2001:db8::1 · ip_subnet: 203.0.113.0/24 · "
            "country: ISO code (JP) · continent: ISO code (EU) · all: all",
            "code": "HTTP status answered on a match (100 to 599); empty = the scope's default.",
        }

    def clean_code(self):
        code = self.cleaned_data.get("code")
        if code is not None and not 100 <= code <= 599:
            raise ValidationError("An HTTP status is between 100 and 599.")
        return code

    def clean(self):
        cleaned = super().clean()
        scope, value = cleaned.get("scope"), cleaned.get("value")
        if scope and value:
            try:
                cleaned["value"] = services.restriction_value(scope=scope, value=value)
            except ApiError as exc:
                self.add_error("value", f"Not a valid {scope} value ({', '.join(exc.keys)}).")
        return cleaned


@admin.register(Restriction)
class RestrictionAdmin(RuleAdmin):
    table = RESTRICTIONS
    form = RestrictionForm
    list_display = ("id", "category", "scope", "value", "code", "state", "updated_at")
    list_filter = ("category", "scope", "state")
    search_fields = ("value",)
    ordering = ("category", "scope", "id")
    actions = ("enable_restrictions", "disable_restrictions")

    def _set_state(self, request, queryset, state: str) -> None:
        changed = 0
        for restriction in queryset.exclude(state=state):
            services.restriction_update(
                admin=request.user, restriction=restriction, request=request, state=state
            )
            changed += 1
        self.message_user(request, f"{changed} restriction(s) {state}.")

    @admin.action(description="Enable selected restrictions", permissions=["change"])
    def enable_restrictions(self, request, queryset):
        self._set_state(request, queryset, Restriction.State.ENABLED)

    @admin.action(description="Disable selected restrictions", permissions=["change"])
    def disable_restrictions(self, request, queryset):
        self._set_state(request, queryset, Restriction.State.DISABLED)
