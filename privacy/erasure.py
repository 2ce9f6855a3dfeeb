"""Erasure of a deleted account's personal data, ``BARONG_ERASURE_DELAY_DAYS`` after deletion.

Self-deletion (``DELETE /resource/users/me``) only moves the user to ``deleted``, so
an operator can still look into a fraud report for a while. Once the delay has passed
since the private ``delete`` label was set, the periodic task (or the
``erase_deleted_users`` command) erases: profiles, phones, documents with their
files, data storage, API keys, passkeys, recovery codes and the TOTP seed go; the
e-mail becomes ``<uid>@erased.invalid``, the password unusable and ``data`` empty.
The user row (its uid), labels and activity rows stay, the activities with their
address, agent and data blanked, so the audit trail still adds up.
"""

import datetime
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import OTPDevice, RecoveryCode, User, WebAuthnCredential
from accounts.sessions import user_sessions_revoke
from activities.models import Activity
from activities.services import activity_record
from apikeys.models import APIKey
from kyc.models import DataStorage, Document, Phone, Profile

logger = logging.getLogger(__name__)

ERASED_DOMAIN = "erased.invalid"
PERSONAL_MODELS = (
    Profile,
    Phone,
    Document,
    DataStorage,
    APIKey,
    WebAuthnCredential,
    RecoveryCode,
    OTPDevice,
)


def user_erased(user: User) -> bool:
    """Erased accounts are known by their e-mail: no extra column to keep in step."""
    return user.email.endswith(f"@{ERASED_DOMAIN}")


def users_erasure_due(*, now: datetime.datetime | None = None) -> QuerySet[User]:
    """Deleted users whose ``delete`` label is older than the delay and not yet erased."""
    cutoff = (now or timezone.now()) - datetime.timedelta(days=settings.BARONG_ERASURE_DELAY_DAYS)
    return (
        User.objects.filter(
            state=User.State.DELETED,
            labels__key="delete",
            labels__scope="private",
            labels__created_at__lte=cutoff,
        )
        .exclude(email__endswith=f"@{ERASED_DOMAIN}")
        .distinct()
        .order_by("id")
    )


def user_personal_data_erase(*, user: User) -> User:
    """Erase one deleted user's personal data (see the module docstring); idempotent."""
    files: list[str] = []
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if user.state != User.State.DELETED:
            raise ValueError(f"{user.uid} is {user.state}, not deleted")
        if user_erased(user):
            return user
        files = [
            name
            for name in Document.objects.filter(user=user).values_list("upload", flat=True)
            if name
        ]
        for model in PERSONAL_MODELS:
            model.objects.filter(user=user).delete()
        Activity.objects.filter(user=user).update(user_ip="", user_agent="", data=None)
        user.email = f"{user.uid.lower()}@{ERASED_DOMAIN}"
        user.data = None
        user.set_unusable_password()
        user.save(update_fields=["email", "data", "password", "updated_at"])
        activity_record(
            user=user,
            topic="account",
            action="erase personal data",
            user_agent_text="system",
        )
    # Files go once the rows are gone for good: a rolled-back erasure keeps them.
    transaction.on_commit(lambda: [_file_delete(name) for name in files], robust=True)
    user_sessions_revoke(user.uid)
    return user


def _file_delete(name: str) -> None:
    from django.core.files.storage import default_storage

    try:
        default_storage.delete(name)
    except OSError:  # a missing file is already erased; the storage's other errors are logged
        logger.exception("document file %s not deleted", name)


def users_erase_due(*, now: datetime.datetime | None = None, limit: int = 500) -> int:
    """Erase up to ``limit`` users whose delay has passed; answers how many were erased."""
    erased = 0
    for user in users_erasure_due(now=now)[:limit]:
        user_personal_data_erase(user=user)
        erased += 1
    return erased
