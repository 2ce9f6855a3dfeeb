"""Django-admin access derived from the Barong role (the back-office follows the same roles).

Only an active user of an operator role is staff; what each role may see and change is
declared with the roles (``accounts.roles``, printed in docs/operations.md by
``manage.py roles_table``). Users are never deleted and activities never written from the
back-office, whatever the role: their ModelAdmins refuse those actions outright.
"""

from typing import TYPE_CHECKING

from django.contrib.auth.backends import BaseBackend
from django.contrib.auth.hashers import check_password

from accounts.roles import OPERATOR_ROLES, role_has_module_rights, role_rights

if TYPE_CHECKING:
    from accounts.models import User


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
    return role_has_module_rights(user.role, app_label)


def operator_password_only(*, email: str, password: str | None) -> "User | None":
    """The active operator whose password this is, if the password alone may sign it in.

    Django's ``authenticate()`` knows no second factor, so it never answers an account
    with TOTP or a passkey: the back-office login is ``accounts.services.operator_login`` (the API
    login's policy, password step and second factors), which does not come here. An
    unknown e-mail costs one hash, as a known one does.
    """
    from accounts.models import User
    from accounts.services.login import user_has_passkey
    from accounts.services.users import email_normalize

    user = User.objects.filter(email=email_normalize(email or "")).first()
    if user is None:
        User().set_password(password or "")  # same cost whether or not the user exists
        return None
    if not check_password(password or "", user.password, setter=None):
        return None
    if user.role not in OPERATOR_ROLES or not user.is_staff:
        return None
    if user.otp or user_has_passkey(user):
        return None
    return user


class OperatorBackend(BaseBackend):
    """Sessions of the back-office: ``get_user`` re-checks the operator on every request.

    ``authenticate`` (Django's password-only entry, which no page of ours calls) answers
    only operators without a second factor (``operator_password_only``).
    """

    def authenticate(self, request, username=None, password=None, email=None, **kwargs):
        return operator_password_only(email=email or username or "", password=password)

    def get_user(self, user_id):
        from accounts.models import User

        user = User.objects.filter(pk=user_id).first()
        # Re-checked on every request: a banned or demoted operator is out at once.
        return user if user is not None and user.is_staff else None

    def has_perm(self, user_obj, perm, obj=None):
        return operator_has_perm(user_obj, perm)

    def has_module_perms(self, user_obj, app_label):
        return operator_has_module_perms(user_obj, app_label)
