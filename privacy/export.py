"""``users/me/export``: everything the server holds about a user, as one JSON document.

It reads every app, so it lives in the top layer. Secrets never leave: no password
hash, TOTP seed, API-key secret, recovery-code digest, passkey public key or phone
verification code; documents come with freshly signed links.
"""

from typing import Any

from django.utils import timezone

from accounts.models import User
from accounts.resource_serializers import ActivityRowSerializer
from accounts.security_serializers import WebAuthnCredentialSerializer
from accounts.serializers import LabelSerializer, UserSerializer
from accounts.sessions import user_sessions_list
from activities.selectors import user_operator_actions, user_own_activities
from apikeys.serializers import APIKeySerializer
from barong.ratelimit import rate_limit_hit
from kyc.serializers import (
    DataStorageSerializer,
    DocumentSerializer,
    PhoneSerializer,
    ProfileSerializer,
)

# 2: ``activities`` holds only what the user did; ``operator_actions`` what was done to them.
FORMAT_VERSION = 2


def user_data_export(*, user: User, current_session: str | None = None) -> dict[str, Any]:
    """The user's account, KYC file, keys, sessions, activity log (newest first) and what
    operators and services did to the account: the fact, the time and the change, without
    the operator's identity, the signers or any address (the right of access covers the
    processing of the user's data, not other people's or the infrastructure's)."""
    rate_limit_hit("export_account", user.uid, error_key="resource.user.too_many_requests")
    account = UserSerializer(user).data
    account["created_at"] = user.created_at.isoformat()
    account["updated_at"] = user.updated_at.isoformat()
    return {
        "format_version": FORMAT_VERSION,
        "exported_at": timezone.now().isoformat(),
        "account": account,
        "profiles": ProfileSerializer(user.profiles.order_by("id"), many=True).data,
        "phones": PhoneSerializer(user.phones.order_by("id"), many=True).data,
        "labels": LabelSerializer(user.labels.order_by("id"), many=True).data,
        "documents": DocumentSerializer(user.documents.order_by("id"), many=True).data,
        "data_storages": DataStorageSerializer(user.data_storages.order_by("id"), many=True).data,
        "api_keys": APIKeySerializer(user.api_keys.order_by("id"), many=True).data,
        "passkeys": WebAuthnCredentialSerializer(
            user.webauthn_credentials.order_by("id"), many=True
        ).data,
        "recovery_codes_left": user.recovery_codes.filter(used_at__isnull=True).count(),
        "sessions": user_sessions_list(user.uid, current=current_session),
        "activities": ActivityRowSerializer(
            user_own_activities(user).order_by("-id").iterator(chunk_size=2000), many=True
        ).data,
        "operator_actions": user_operator_actions(user),
    }
