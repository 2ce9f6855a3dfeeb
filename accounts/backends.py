"""Django-admin access derived from the Barong role (the back-office follows the same roles)."""

from django.conf import settings
from django.contrib.auth.backends import BaseBackend
from django.contrib.auth.hashers import check_password

# What each operator role may do in the back-office, per Django permission action.
# Mirrors the seeded permission table: support reads, compliance reviews KYC,
# admin runs everything but the permission table, superadmin everything.
ROLE_ADMIN_RIGHTS: dict[str, dict[str, set[str]]] = {
    "superadmin": {"*": {"view", "add", "change", "delete"}},
    "admin": {
        "*": {"view", "add", "change", "delete"},
        "permissions.permission": {"view"},
    },
    "compliance": {
        "*": {"view"},
        "kyc": {"view", "add", "change", "delete"},
        "accounts.user": {"view", "change"},
        "permissions": set(),
    },
    "accountant": {"*": {"view"}, "permissions": set()},
    "technical": {"*": {"view"}, "permissions.permission": set()},
    "support": {"*": {"view"}, "permissions": set()},
}


def _rights(role: str, app_label: str, model: str) -> set[str]:
    table = ROLE_ADMIN_RIGHTS.get(role, {})
    for key in (f"{app_label}.{model}", app_label, "*"):
        if key in table:
            return table[key]
    return set()


def operator_has_perm(user, perm: str) -> bool:
    """``app.action_model`` → allowed by the operator's role."""
    if not user.is_staff or "." not in perm:
        return False
    app_label, codename = perm.split(".", 1)
    action, _, model = codename.partition("_")
    return action in _rights(user.role, app_label, model)


def operator_has_module_perms(user, app_label: str) -> bool:
    if not user.is_staff:
        return False
    table = ROLE_ADMIN_RIGHTS.get(user.role, {})
    rights = table.get(app_label, table.get("*", set()))
    models_for_app = [k for k in table if k.startswith(f"{app_label}.")]
    return bool(rights) or any(table[k] for k in models_for_app)


class OperatorBackend(BaseBackend):
    """Back-office login: e-mail and password of an active user with an operator role."""

    def authenticate(self, request, username=None, password=None, email=None, **kwargs):
        from accounts.models import User

        address = (email or username or "").strip().lower()
        user = User.objects.filter(email=address).first()
        if user is None:
            User().set_password(password or "")  # same cost whether or not the user exists
            return None
        if not check_password(password or "", user.password, setter=None):
            return None
        if user.role not in settings.BARONG_OPERATOR_ROLES or not user.is_staff:
            return None
        return user

    def get_user(self, user_id):
        from accounts.models import User

        user = User.objects.filter(pk=user_id).first()
        return user if user is not None and user.is_staff else None

    def has_perm(self, user_obj, perm, obj=None):
        return operator_has_perm(user_obj, perm)

    def has_module_perms(self, user_obj, app_label):
        return operator_has_module_perms(user_obj, app_label)
