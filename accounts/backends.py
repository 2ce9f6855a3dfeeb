"""Django-admin access derived from the Barong role (the back-office follows the same roles).

Only an active user whose role is one of ``BARONG_OPERATOR_ROLES`` is staff; what each role
may see and change mirrors the admin API's seeded permission table (``permissions/seeds``):

- superadmin: everything;
- admin: everything but the permission table and the admin audit log (both DROP rules);
- compliance: reviews KYC (documents, profiles, labels, data storage) and user state, and
  reads the user activity log (no levels, restrictions or permissions);
- accountant, technical: read-only, without the permission table;
- support: read-only on users, KYC and the user activity log.

Users are never deleted and activities never written from the back-office, whatever the
role: their ModelAdmins refuse those actions outright.
"""

from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.backends import BaseBackend
from django.contrib.auth.hashers import check_password

if TYPE_CHECKING:
    from accounts.models import User

ALL = frozenset({"view", "add", "change", "delete"})
VIEW = frozenset({"view"})
NONE: frozenset[str] = frozenset()

# ``activities.adminactivity`` is not a model: it guards the admin-category rows of the
# activity log (``/admin/activities/admin`` in the API), which only a superadmin reads.
ROLE_ADMIN_RIGHTS: dict[str, dict[str, frozenset[str]]] = {
    "superadmin": {"*": ALL},
    "admin": {
        "*": ALL,
        "permissions.permission": NONE,
        "activities.adminactivity": NONE,
    },
    "compliance": {
        "*": NONE,
        "accounts.user": frozenset({"view", "change"}),
        "accounts.label": ALL,
        "kyc.document": frozenset({"view", "change"}),
        "kyc.profile": frozenset({"view", "change"}),
        "kyc.phone": VIEW,
        "kyc.datastorage": frozenset({"view", "delete"}),
        "apikeys.apikey": VIEW,
        "activities.activity": VIEW,
    },
    "accountant": {
        "*": VIEW,
        "permissions.permission": NONE,
        "activities.adminactivity": NONE,
    },
    "technical": {
        "*": VIEW,
        "permissions.permission": NONE,
        "activities.adminactivity": NONE,
    },
    "support": {
        "*": NONE,
        "accounts.user": VIEW,
        "accounts.label": VIEW,
        "kyc.document": VIEW,
        "kyc.profile": VIEW,
        "kyc.phone": VIEW,
        "apikeys.apikey": VIEW,
        "activities.activity": VIEW,
    },
}


def role_rights(role: str, app_label: str, model: str) -> frozenset[str]:
    """The actions ``role`` may take on ``app_label.model``: the most specific entry wins."""
    table = ROLE_ADMIN_RIGHTS.get(role, {})
    for key in (f"{app_label}.{model}", app_label, "*"):
        if key in table:
            return table[key]
    return NONE


def operator_has_perm(user, perm: str) -> bool:
    """``app.action_model`` (Django's permission naming) → allowed by the operator's role."""
    if not getattr(user, "is_staff", False) or "." not in perm:
        return False
    app_label, codename = perm.split(".", 1)
    action, _, model = codename.partition("_")
    return bool(model) and action in role_rights(user.role, app_label, model)


def operator_has_module_perms(user, app_label: str) -> bool:
    """Whether the app shows on the admin index: any right on the app or one of its models."""
    if not getattr(user, "is_staff", False):
        return False
    table = ROLE_ADMIN_RIGHTS.get(user.role, {})
    if table.get(app_label, table.get("*", NONE)):
        return True
    return any(rights for key, rights in table.items() if key.startswith(f"{app_label}."))


def operator_credentials_check(*, email: str, password: str | None) -> tuple["User | None", bool]:
    """(the operator, whether the password was right) for a back-office login.

    The user is None unless the password is right and the account is an active operator.
    An unknown e-mail costs one hash, as a known one does, and counts as a wrong password:
    the login policy counts only those as failures (accounts/login_policy.py).
    """
    from accounts.models import User
    from accounts.services.users import email_normalize

    user = User.objects.filter(email=email_normalize(email or "")).first()
    if user is None:
        User().set_password(password or "")  # same cost whether or not the user exists
        return None, False
    if not check_password(password or "", user.password, setter=None):
        return None, False
    if user.role not in settings.BARONG_OPERATOR_ROLES or not user.is_staff:
        return None, True
    return user, True


class OperatorBackend(BaseBackend):
    """Back-office login: e-mail and password of an active user with an operator role."""

    def authenticate(self, request, username=None, password=None, email=None, **kwargs):
        user, _ = operator_credentials_check(email=email or username or "", password=password)
        return user

    def get_user(self, user_id):
        from accounts.models import User

        user = User.objects.filter(pk=user_id).first()
        # Re-checked on every request: a banned or demoted operator is out at once.
        return user if user is not None and user.is_staff else None

    def has_perm(self, user_obj, perm, obj=None):
        return operator_has_perm(user_obj, perm)

    def has_module_perms(self, user_obj, app_label):
        return operator_has_module_perms(user_obj, app_label)
