"""The activity log in the back-office: append-only, so read-only for every role."""

from django.contrib import admin
from django.db.models import Q

from activities.models import Activity
from barong.admin_lists import ScaleListMixin, exact_filter, fixed_filter, users_matching
from barong.admin_site import ReadOnlyAdminMixin

# Topics the code records (users' own and operators'); an audit topic from a permission
# rule can still be filtered on with ``?topic=<name>``.
TOPICS = (
    "account",
    "session",
    "password",
    "otp",
    "users",
    "levels",
    "profiles",
    "permissions",
    "restrictions",
)
# ``?target_uid=<uid>``: operator actions on one user (linked from the user page).
TargetUidFilter = exact_filter("target_uid", "target")


@admin.register(Activity)
class ActivityAdmin(ReadOnlyAdminMixin, ScaleListMixin, admin.ModelAdmin):
    """User and admin audit rows; the admin category only for roles that may read it.

    Newest first from the ``(…, created_at, id)`` indexes; no date hierarchy and no
    filter list built from the table (millions of rows).
    """

    list_display = (
        "created_at",
        "category",
        "user",
        "topic",
        "action",
        "result",
        "target_uid",
        "user_ip",
    )
    list_filter = (
        "category",
        fixed_filter("topic", "topic", lambda: [(topic, topic) for topic in TOPICS]),
        "result",
        exact_filter("action", "action"),
        TargetUidFilter,
    )
    search_fields = ("user__email", "user__uid", "target_uid")
    search_help_text = (
        "A uid (who acted, or who was acted on), or part of an e-mail (3 characters or more)."
    )
    list_select_related = ("user",)
    ordering = ("-created_at", "-id")
    fields = (
        "created_at",
        "category",
        "user",
        "target_uid",
        "topic",
        "action",
        "result",
        "user_ip",
        "user_agent",
        "data",
        "request_id",
    )
    readonly_fields = fields

    def search_q(self, term: str) -> Q:
        return Q(user__in=users_matching(term)) | Q(target_uid=term.upper())

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        # The admin audit log is /admin/activities/admin in the API: a DROP for most roles.
        if not request.user.has_perm("activities.view_adminactivity"):
            queryset = queryset.filter(category=Activity.Category.USER)
        return queryset

    def get_list_filter(self, request):
        if request.user.has_perm("activities.view_adminactivity"):
            return self.list_filter
        return tuple(item for item in self.list_filter if item != "category")
