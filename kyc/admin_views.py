"""Admin API, KYC: profiles (labels and levels are accounts', accounts/views/labels.py)."""

from rest_framework.response import Response

from barong.api.errors import ApiError
from barong.api.views import ADMIN_ACCESS_ERRORS, AdminViewSet, barong_schema
from kyc import services
from kyc.models import Profile
from kyc.serializers import ProfileAdminUpdateInput, ProfileSerializer


class AdminProfileViewSet(AdminViewSet):
    """``/admin/profiles``: every profile, and an operator's edit of a submitted one."""

    error_prefix = "admin.profile"

    @barong_schema(
        summary="All profiles, in table order (paginated)",
        output=ProfileSerializer,
        many=True,
        errors={**ADMIN_ACCESS_ERRORS, 422: "Bad pagination"},
    )
    def list(self, request):
        return self.paginated(Profile.objects.order_by("id"), ProfileSerializer)

    @barong_schema(
        summary="Edit a user's submitted profile and decide it (state verified/rejected)",
        input=ProfileAdminUpdateInput,
        output=ProfileSerializer,
        errors={
            **ADMIN_ACCESS_ERRORS,
            404: "admin.profiles.doesnt_exist_or_not_editable",
            422: "Missing uid, rank guards, or profile validation (state.inclusion, ...)",
        },
    )
    def update_by_id(self, request):
        data = self.parse(ProfileAdminUpdateInput)
        uid = data.pop("uid")
        profile = (
            Profile.objects.filter(user__uid=uid.upper(), state=Profile.State.SUBMITTED)
            .order_by("-id")
            .first()
        )
        if profile is None:
            raise ApiError("admin.profiles.doesnt_exist_or_not_editable", 404)
        profile = services.profile_admin_update(
            admin=request.user, profile=profile, fields=data, request=request
        )
        return Response(ProfileSerializer(profile).data)
