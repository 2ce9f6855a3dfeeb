"""Everything an operator could change about a user, read back so that a test can compare it
before and after actions that must be refused."""

from accounts.models import Label, User, WebAuthnCredential
from accounts.sessions import user_sessions_list
from activities.models import Activity
from kyc.models import DataStorage, Profile


def user_everything(user: User) -> tuple:
    """State, 2FA, role, labels, sessions, passkeys, profiles, storage and the operators'
    successful actions on ``user``, as the database holds them now."""
    user.refresh_from_db()
    return (
        user.state,
        user.state_manual,
        user.otp,
        user.role,
        sorted(Label.objects.filter(user=user).values_list("key", "value", "scope")),
        len(user_sessions_list(user.uid)),
        WebAuthnCredential.objects.filter(user=user).count(),
        list(Profile.objects.filter(user=user).values_list("state", flat=True)),
        DataStorage.objects.filter(user=user).count(),
        Activity.objects.filter(category="admin", target_uid=user.uid, result="succeed").count(),
    )
