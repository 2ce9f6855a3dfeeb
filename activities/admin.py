"""The activity log in the back-office: append-only, so read-only for every role."""

from django.contrib import admin

from activities.models import Activity


class TargetUidFilter(admin.SimpleListFilter):
    """``?target_uid=<uid>``: operator actions on one user (linked from the user page)."""

    title = "target"
    parameter_name = "target_uid"

    def lookups(self, request, model_admin):
        return ()

    def has_output(self):
        return True

    def choices(self, changelist):
        value = self.value()
        yield {
            "selected": value is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "All",
        }
        if value:
            yield {
                "selected": True,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": value,
            }

    def queryset(self, request, queryset):
        value = (self.value() or "").strip()
        return queryset.filter(target_uid=value) if value else queryset


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    """User and admin audit rows; the admin category only for roles that may read it."""

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
    list_filter = ("category", "topic", "result", "action", TargetUidFilter)
    search_fields = ("user__email", "user__uid", "target_uid", "user_ip")
    list_select_related = ("user",)
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")
    show_full_result_count = False
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
    )
    readonly_fields = fields

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

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
