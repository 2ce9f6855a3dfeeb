"""Users in the back-office: search, labels, recent activity and the admin API's operator actions.

State, role, 2FA, bans, labels and passkeys change only through the services the admin API
uses (``user_state_admin_set``, ``user_role_admin_set``, ``user_otp_admin_disable``,
``user_ban_admin_set``, ``label_admin_*``, ``webauthn_credentials_admin_delete``), with the
same guards and audit rows. Users are
never deleted from here: self-deletion is the ``delete`` label, a ban the ``ban`` label.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.forms.models import BaseInlineFormSet
from django.urls import reverse
from django.utils.html import format_html

from accounts import (
    admin_labels,  # noqa: F401  (registers the label and level admins)
    services,
)
from accounts.admin_labels import LabelForm
from accounts.admin_security import UserSecurityAdminMixin, users_action
from accounts.models import USER_ID_BLOCK, Label, Level, ResyncJob, User
from accounts.roles import ROLES
from accounts.selectors import role_exists, roles_known, user_ids_page
from accounts.services import (
    role_grant_guard,
    user_admin_guard,
    user_otp_admin_disable,
    user_role_admin_set,
    user_state_admin_release,
    user_state_admin_set,
)
from activities.models import Activity
from barong.admin_lists import (
    SEARCH_USERS_MAX,
    EstimatedCountPaginator,
    ScaleListMixin,
    fixed_filter,
    users_matching,
)
from barong.admin_site import ReadOnlyAdminMixin, ServiceAdminMixin
from barong.api.errors import ApiError
from barong.db.counting import rows_in_order

RECENT_ACTIVITIES = 20
ROLE_UNKNOWN = "No permission rule uses this role (role.doesnt_exist)."

# Barong's roles are the back-office's groups; Django's own groups would be a second system.
if admin.site.is_registered(Group):
    admin.site.unregister(Group)


class ReadOnlyInline(ReadOnlyAdminMixin):
    """An inline that shows rows and never writes them."""

    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False


class LabelInline(admin.TabularInline):
    """Labels are edited in place; ``UserAdmin.save_formset`` sends them to the services."""

    model = Label
    form = LabelForm
    fields = ("key", "value", "scope", "description")
    extra = 0
    ordering = ("scope", "key")


class RecentActivityFormSet(BaseInlineFormSet):
    """Only the newest rows: a busy account has thousands."""

    def get_queryset(self):
        if not hasattr(self, "_recent"):
            self._recent = super().get_queryset().order_by("-created_at", "-id")[:RECENT_ACTIVITIES]
        return self._recent


class ActivityInline(ReadOnlyInline, admin.TabularInline):
    model = Activity
    formset = RecentActivityFormSet
    fk_name = "user"
    verbose_name_plural = f"Recent activities (newest {RECENT_ACTIVITIES})"
    fields = ("created_at", "category", "topic", "action", "result", "user_ip", "target_uid")
    readonly_fields = fields

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if not request.user.has_perm("activities.view_adminactivity"):
            queryset = queryset.filter(category=Activity.Category.USER)
        return queryset


class UserChangeForm(forms.ModelForm):
    """State and role are the only fields an operator sets; the guards run before saving."""

    state = forms.ChoiceField(
        choices=User.State.choices,
        help_text="A state set here is manual: label changes and level resyncs keep it until "
        "an operator changes it or hands it back to the labels (action on the user list).",
    )
    role = forms.ChoiceField(
        choices=(),
        help_text="The roles the permission rules name (Permissions).",
        error_messages={"invalid_choice": ROLE_UNKNOWN},
    )

    class Meta:
        model = User
        fields = ("state", "role")

    operator: User | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        state = self.instance.state
        if "state" in self.fields and state not in User.State.values:
            # A custom state set through the API stays selectable instead of failing.
            self.fields["state"].choices = [*User.State.choices, (state, state)]
        if "role" in self.fields:
            roles = roles_known()
            if self.instance.role and self.instance.role not in roles:
                roles.append(self.instance.role)  # its rules were removed: keep it shown
            self.fields["role"].choices = [(role, role) for role in roles]

    def clean_role(self):
        role = (self.cleaned_data.get("role") or "").strip()
        if role != self.instance.role and not role_exists(role):
            raise ValidationError(ROLE_UNKNOWN)
        return role

    def clean(self):
        cleaned = super().clean()
        if self.operator is not None and set(self.changed_data) & {"state", "role"}:
            try:
                user_admin_guard(admin=self.operator, user=self.instance)
                if "role" in self.changed_data and cleaned.get("role"):
                    role_grant_guard(admin=self.operator, role=cleaned["role"], user=self.instance)
            except ApiError as exc:
                raise ValidationError(f"Not allowed: {', '.join(exc.keys)}") from exc
        return cleaned


def _levels() -> list[tuple[int, str]]:
    return [
        (0, "0"),
        *((pk, str(pk)) for pk in Level.objects.order_by("id").values_list("pk", flat=True)),
    ]


def _roles() -> list[tuple[str, str]]:
    return [(role.name, role.name) for role in ROLES]


class UserListPaginator(EstimatedCountPaginator):
    """All users, newest first: a page is located through the per-block user counts
    (``user_ids_page``, as the admin API's list), so page 100,000 at 10M users walks one
    block of ids instead of skipping 5M index entries (306 ms). A filtered or searched list,
    another order, or no counts (SQLite) pages as any list does."""

    def page(self, number):
        users = self.object_list
        newest_first = isinstance(users, QuerySet) and not users.query.where
        if not newest_first or set(users.query.order_by) - {"-id", "-pk"}:
            return super().page(number)
        number = self.validate_number(number)
        if (number - 1) * self.per_page < USER_ID_BLOCK:
            return super().page(number)  # near the newest: the walk is shorter than the counts
        found = user_ids_page(start=0, size=0)
        if found is None:
            return super().page(number)
        # Position p from the newest is position total - 1 - p from the oldest.
        end = found[0] - (number - 1) * self.per_page
        start = max(end - self.per_page, 0)
        found = user_ids_page(start=start, size=max(end - start, 0))
        ids = found[1][::-1] if found else []
        return self._get_page(rows_in_order(users, ids), number, self)


@admin.register(User)
class UserAdmin(UserSecurityAdminMixin, ScaleListMixin, ServiceAdminMixin, admin.ModelAdmin):
    form = UserChangeForm
    bulk_delete = False
    # Narrow columns, so the list fits beside the sidebar and the filters at 1400 px.
    list_display = ("email", "uid", "role", "level", "state_shown", "otp", "created")
    # Fixed choices: a DISTINCT over a million users would cost more than the page.
    list_filter = (
        fixed_filter("state", "state", lambda: User.State.choices),
        fixed_filter("role", "role", _roles),
        fixed_filter("level", "level", _levels),
        "otp",
        "state_manual",
    )
    search_fields = ("email", "uid")
    search_help_text = "An exact uid or e-mail, or part of an e-mail (3 characters or more)."
    ordering = ("-id",)
    list_per_page = 50
    paginator = UserListPaginator
    fields = (
        "uid",
        "email",
        "role",
        "state",
        "state_manual",
        "level",
        "otp",
        "referral_uid",
        "data",
        "created_at",
        "updated_at",
        "activity_links",
        "live_sessions",
        "passkeys",
    )
    # Shown, never edited on the form: all but the state and the role (rights of their own).
    derived = tuple(name for name in fields if name not in ("role", "state"))
    actions = (
        "ban_users",
        "unban_users",
        "release_manual_state",
        "disable_2fa",
        "end_sessions",
        "remove_passkeys",
    )
    # Apps above accounts add the inlines of their rows with ``inlines_add`` (kyc: profiles,
    # phones, documents; apikeys: API keys), so accounts imports none of them.
    inlines = (LabelInline, ActivityInline)
    # Apps above accounts add searches over their rows (kyc: profile names): each takes the
    # search term and returns at most ``SEARCH_USERS_MAX`` user ids.
    search_extra: tuple = ()

    @classmethod
    def inlines_add(cls, *inlines: type, before: type | None = None) -> None:
        """Show ``inlines`` on the user page, in front of ``before`` (else at the end)."""
        current = list(cls.inlines)
        at = current.index(before) if before in current else len(current)
        cls.inlines = (*current[:at], *inlines, *current[at:])

    def get_readonly_fields(self, request, obj=None):
        if not self.has_change_permission(request, obj):
            return (*self.derived, "state", "role")
        # Roles are a right of their own (accounts.roles: superadmin only by default).
        if not request.user.has_perm("accounts.change_userrole"):
            return (*self.derived, "role")
        return self.derived

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"operator": request.user})

    def search_q(self, term: str) -> Q:
        # Each part reads its own index; an OR over a join would scan every user.
        ids = users_matching(term)
        for search in self.search_extra:
            ids += search(term)[:SEARCH_USERS_MAX]
        return Q(pk__in=ids)

    @admin.display(description="State", ordering="state")
    def state_shown(self, obj: User) -> str:
        return f"{obj.state} (manual)" if obj.state_manual else obj.state

    @admin.display(description="Created", ordering="created_at")
    def created(self, obj: User) -> str:
        return obj.created_at.strftime("%Y-%m-%d")

    @admin.display(description="Referral")
    def referral_uid(self, obj: User):
        return obj.referral_uid or "—"

    @admin.display(description="Activity log")
    def activity_links(self, obj: User):
        url = reverse("admin:activities_activity_changelist")
        return format_html(
            '<a href="{0}?q={1}">Actions by this user</a> · '
            '<a href="{0}?target_uid={1}">Operator actions on this user</a>',
            url,
            obj.uid,
        )

    def has_add_permission(self, request):
        # Accounts come from sign-up, the management API or ``createsuperuser``.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if "state" in form.changed_data:
            user_state_admin_set(
                admin=request.user, user=obj, state=form.cleaned_data["state"], request=request
            )
        if "role" in form.changed_data:
            user_role_admin_set(
                admin=request.user, user=obj, role=form.cleaned_data["role"], request=request
            )
        obj.refresh_from_db()

    def save_formset(self, request, form, formset, change):
        if formset.model is not Label:
            # The other inlines are read-only: nothing is written, nothing to log.
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
            return
        formset.save(commit=False)
        user = form.instance
        for label in formset.deleted_objects:
            services.label_admin_delete(
                admin=request.user, user=user, key=label.key, scope=label.scope, request=request
            )
        for label, changed in formset.changed_objects:
            original = Label.objects.get(pk=label.pk)
            if {"key", "scope"} & set(changed):
                services.label_admin_delete(
                    admin=request.user,
                    user=user,
                    key=original.key,
                    scope=original.scope,
                    request=request,
                )
                self._label_save(services.label_admin_create, request, user, label)
            else:
                self._label_save(services.label_admin_update, request, user, label)
        for label in formset.new_objects:
            self._label_save(services.label_admin_create, request, user, label)

    def _label_save(self, service, request, user: User, label: Label) -> None:
        """The inline's label through ``service`` (the admin API's create or update)."""
        service(
            admin=request.user,
            user=user,
            key=label.key,
            value=label.value,
            scope=label.scope,
            description=label.description or None,
            request=request,
        )

    def _each(self, request, queryset, done_message: str, call) -> None:
        """Run one service per user; refusals are reported per user and change nothing."""
        done = 0
        for user in queryset:
            try:
                call(user)
            except ApiError as exc:
                self.message_user(
                    request, f"{user.email}: not changed ({', '.join(exc.keys)})", messages.ERROR
                )
            else:
                done += 1
        if done:
            self.message_user(request, done_message.format(count=done), messages.SUCCESS)

    ban_users = users_action(
        "Ban selected users (private ban label)",
        "{count} user(s) banned.",
        services.user_ban_admin_set,
        banned=True,
    )
    unban_users = users_action(
        "Unban selected users (remove the ban label)",
        "{count} user(s) unbanned.",
        services.user_ban_admin_set,
        banned=False,
    )
    release_manual_state = users_action(
        "Hand a manually set state back to the labels",
        "{count} user(s) follow their labels again.",
        user_state_admin_release,
    )
    disable_2fa = users_action(
        "Disable 2FA of selected users", "2FA disabled for {count} user(s).", user_otp_admin_disable
    )


@admin.register(ResyncJob)
class ResyncJobAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Level resyncs and their progress; they are started by level edits, never here."""

    list_display = (
        "id",
        "reason",
        "state",
        "progress",
        "processed",
        "changed",
        "created_at",
        "finished_at",
    )
    list_filter = ("state",)
    fields = (
        "reason",
        "from_level",
        "state",
        "progress",
        "last_user_id",
        "max_user_id",
        "processed",
        "changed",
        "error",
        "created_at",
        "updated_at",
        "finished_at",
    )
    readonly_fields = fields

    @admin.display(description="Progress")
    def progress(self, obj: ResyncJob) -> str:
        return f"{obj.progress_percent}%"
