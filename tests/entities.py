"""The fields (and their order) of the API's user entities, written out once for the tests.

Literal on purpose: the tests compare what the API answers with these lists, not with the
serializers' own declarations, so a field added or moved in a serializer shows up here.
"""

# Entities::User: lists, labels' users, the admin's plain search.
USER = ["email", "uid", "role", "level", "otp", "state", "referral_uid", "data"]
# Entities::UserWithProfile: the extended lists.
USER_WITH_PROFILE = [
    "email",
    "uid",
    "role",
    "level",
    "otp",
    "state",
    "data",
    "profiles",
    "referral_uid",
    "created_at",
    "updated_at",
]
# Entities::UserWithKYC: one user's whole file (admin, management).
USER_WITH_KYC = [
    *USER_WITH_PROFILE[:8],
    "labels",
    "phones",
    "documents",
    "data_storages",
    *USER_WITH_PROFILE[8:],
]
# Entities::UserWithFullInfo: the resource API's "me".
USER_WITH_FULL_INFO = [
    *USER,
    "created_at",
    "updated_at",
    "labels",
    "phones",
    "profiles",
    "data_storages",
]

# What every activity entity shows of the row (Entities::Activity and its admin forms).
ACTIVITY = ["user_ip", "user_agent", "topic", "action", "result", "data"]
# The admin's activities: the row and its user.
ACTIVITY_WITH_USER = [*ACTIVITY, "user", "created_at"]
# The admin's audit log: the row, the operator and the user acted on.
ADMIN_ACTIVITY = [*ACTIVITY, "admin", "target", "created_at"]
# The resource API's own activities (a user's history, with its category).
OWN_ACTIVITY = ["id", "user_id", "target_uid", "category", *ACTIVITY, "created_at"]
