"""Labels and levels in the back-office, through the same services as the admin API.

Labels change through ``label_admin_*`` (guards, level/state recomputation, audit row);
levels through ``level_admin_save``, whose users are recomputed by a resync job in the
background (accounts/services/resync.py).
"""

from django import forms
from django.conf import settings
from django.contrib import admin, messages

from accounts import services
from accounts.labels import label_normalize
from accounts.models import LABEL_RE, Label, Level
from barong.admin_lists import ScaleListMixin, exact_filter, fixed_filter
from barong.admin_site import ServiceAdminMixin


# ---------------------------------------------------------------- labels
def _label_keys() -> list[tuple[str, str]]:
    keys = {*services.FLOW_LABEL_KEYS, services.BAN_LABEL, *settings.BARONG_USER_STORAGE_TITLES}
    keys.update(Level.objects.values_list("key", flat=True))
    return [(key, key) for key in sorted(keys)]


class LabelForm(forms.ModelForm):
    """Keys and values are normalised as the service does before the model rules run."""

    class Meta:
        model = Label
        fields = ("user", "key", "value", "scope", "description")

    def clean_key(self):
        return label_normalize(self.cleaned_data["key"])

    def clean_value(self):
        return label_normalize(self.cleaned_data["value"])


@admin.register(Label)
class LabelAdmin(ScaleListMixin, ServiceAdminMixin, admin.ModelAdmin):
    """Labels through ``label_admin_*``: guards, level/state recomputation and audit."""

    form = LabelForm
    list_display = ("user", "key", "value", "scope", "description", "updated_at")
    list_filter = (
        "scope",
        fixed_filter("key", "key", _label_keys),
        exact_filter("value", "value"),
    )
    search_fields = ("user__email", "user__uid")
    # Read backwards along the (key, value, user_id) index, so a key filter stays cheap.
    ordering = ("-key", "-value", "-user")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    readonly_fields = ("created_at", "updated_at")

    def get_readonly_fields(self, request, obj=None):
        # A label is identified by (user, key, scope): changing those is a delete and an add.
        if obj is not None:
            return ("user", "key", "scope", *self.readonly_fields)
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        write = services.label_admin_update if change else services.label_admin_create
        label = write(
            admin=request.user,
            user=obj.user,
            key=obj.key,
            value=obj.value,
            scope=obj.scope,
            description=obj.description or None,
            request=request,
        )
        obj.pk, obj.created_at, obj.updated_at = label.pk, label.created_at, label.updated_at

    def delete_model(self, request, obj):
        services.label_admin_delete(
            admin=request.user, user=obj.user, key=obj.key, scope=obj.scope, request=request
        )

    def delete_queryset(self, request, queryset):
        for label in queryset.select_related("user"):
            self.delete_model(request, label)


# ---------------------------------------------------------------- levels
def _label_text(raw: str) -> str:
    """A level's key or value must be a possible label key or value, or no one reaches it."""
    text = label_normalize(raw)
    if len(text) < 3 or not LABEL_RE.regex.match(text):
        raise forms.ValidationError("3 to 255 characters of a-z, 0-9, _ and - (as label keys).")
    return text


class LevelForm(forms.ModelForm):
    """A level names the private label that reaches it; the id is the level number."""

    class Meta:
        model = Level
        fields = ("id", "key", "value", "description")

    def clean_key(self):
        return _label_text(self.cleaned_data["key"])

    def clean_value(self):
        return _label_text(self.cleaned_data["value"])

    def clean_id(self):
        level_id = self.cleaned_data["id"]
        if level_id is None or level_id < 1:
            raise forms.ValidationError("Levels are numbered from 1.")
        if self.instance._state.adding and Level.objects.filter(pk=level_id).exists():
            raise forms.ValidationError("This level already exists.")
        below = Level.objects.filter(pk__lt=level_id).count()
        if self.instance._state.adding and below != level_id - 1:
            raise forms.ValidationError("Levels are consecutive: add the next number.")
        return level_id


@admin.register(Level)
class LevelAdmin(ServiceAdminMixin, admin.ModelAdmin):
    """Levels through ``level_admin_save``: recomputed users and an admin audit row."""

    form = LevelForm
    list_display = ("id", "key", "value", "description", "updated_at")
    ordering = ("id",)
    bulk_delete = False

    def get_readonly_fields(self, request, obj=None):
        return ("id", "created_at", "updated_at") if obj is not None else ()

    def has_delete_permission(self, request, obj=None):
        # Removing a level would renumber every user's level; not an operator's click.
        return False

    def save_model(self, request, obj, form, change):
        level = services.level_admin_save(
            admin=request.user,
            id=obj.pk,
            key=obj.key,
            value=obj.value,
            description=obj.description,
            request=request,
        )
        obj.created_at, obj.updated_at = level.created_at, level.updated_at
        self.message_user(
            request,
            "The users this level concerns are recomputed in the background: "
            "follow the job on the Resync jobs page.",
            messages.INFO,
        )
