"""API keys: creation with an encrypted secret, state changes, and deactivation rules."""

import json
import secrets

from django.db import IntegrityError, transaction

from accounts.models import User
from accounts.notifications import security_notify
from accounts.otp import otp_attempt
from accounts.sessions import ACTIVE_STATES
from apikeys.models import APIKey
from barong.api.errors import ApiError
from barong.crypto import column_reencrypt, decrypt, encrypt
from barong.db.sets import filter_ids

SCOPE_MAX_LENGTH = 255
KID_MAX_LENGTH = APIKey._meta.get_field("kid").max_length
# Other words clients send for a state. Barong stored any string, and OpenDAX's front ends
# switch a key off with ``disabled``; this server keeps one word per state in the database.
STATE_SYNONYMS = {"disabled": APIKey.State.INACTIVE}


def api_key_secret_context(kid: str) -> str:
    """What binds an encrypted secret to its key's row (barong.crypto ``context``)."""
    return f"apikey:{kid}"


def _scope_errors(scope: list[str]) -> list[str]:
    """The stored list must fit Barong's ``varchar(255)`` column."""
    return ["scope.too_long"] if len(json.dumps(scope)) > SCOPE_MAX_LENGTH else []


def api_key_secrets_reencrypt() -> dict[str, int]:
    """Every key's secret sealed again under the current encryption key (the second step
    of a key rotation, docs/operations.md); cached copies of a moved key are dropped."""
    from apikeys.signatures import api_key_cache_invalidate

    return column_reencrypt(
        APIKey.objects.all(),
        column="encrypted_secret",
        fields=("kid",),
        context_of=api_key_secret_context,
        changed=api_key_cache_invalidate,
    )


def api_key_secret(*, api_key: APIKey) -> str:
    """The plaintext HMAC secret, decrypted for a signature check only."""
    return decrypt(api_key.encrypted_secret, context=api_key_secret_context(api_key.kid))


@transaction.atomic
def api_key_create(
    *, user, algorithm: str = "HS256", kid: str | None = None, scope: list[str] | None = None
) -> tuple[APIKey, str]:
    """A new active key with a 32-hex-char secret, stored encrypted; returns (key, secret).

    HS keys always get a random 16-hex-char kid (Barong ignores a client kid for them).
    """
    errors: list[str] = []
    if "HS" in algorithm:
        kid = secrets.token_hex(8)
    if algorithm != "HS256":
        errors.append("algorithm.inclusion")
    if not kid:
        errors.append("kid.blank")
    errors += _scope_errors(scope or [])
    if errors:
        raise ApiError(errors)
    secret = secrets.token_hex(16)
    try:
        with transaction.atomic():
            api_key = APIKey.objects.create(
                user=user,
                kid=kid,
                algorithm=algorithm,
                scope=list(scope or []),
                state=APIKey.State.ACTIVE,
                encrypted_secret=encrypt(secret, context=api_key_secret_context(kid)),
            )
    except IntegrityError as exc:
        raise ApiError("kid.taken") from exc
    security_notify(user=user, notice="security_api_key_created", record={"kid": kid})
    return api_key, secret


def api_keys_deactivate(*, user) -> int:
    """A banned user, or one who turned 2FA off, keeps no working key, as in Barong."""
    return APIKey.objects.filter(user=user, state=APIKey.State.ACTIVE).update(
        state=APIKey.State.INACTIVE
    )


def api_keys_user_access_lost(sender, *, user, **kwargs) -> None:
    """``accounts.signals.api_access_lost``: the user's keys stop working with the change."""
    api_keys_deactivate(user=user)


def api_keys_users_access_lost(sender, *, ids: list[int], **kwargs) -> int:
    """``accounts.signals.users_api_access_lost``: ``api_keys_deactivate`` for many users in
    one ``UPDATE`` (a resync that bans thousands would otherwise run one each)."""
    keys = filter_ids(APIKey.objects.filter(state=APIKey.State.ACTIVE), "user", ids)
    return keys.update(state=APIKey.State.INACTIVE)


def api_key_scope_parse(text: str) -> list[str]:
    """Barong's comma-separated ``scope`` parameter as a list, blank entries dropped."""
    return [part.strip() for part in text.split(",") if part.strip()]


def api_key_totp_check(*, user: User, totp_code: str) -> None:
    """Every key change needs 2FA on and a fresh code from it (Barong's ``otp_protected!``)."""
    if not user.otp:
        raise ApiError("resource.api_key.2fa_disabled", 400)
    if not totp_code.strip():
        raise ApiError("resource.api_key.missing_totp")
    if not otp_attempt(user=user, code=totp_code, error_key="resource.api_key.too_many_requests"):
        raise ApiError("resource.api_key.invalid_totp")


def api_key_get(*, user: User, kid: str) -> APIKey:
    """One of ``user``'s keys by kid; someone else's kid is as unknown as a made-up one."""
    found = "\x00" not in kid and len(kid) <= KID_MAX_LENGTH  # no stored kid could match
    api_key = APIKey.objects.filter(user=user, kid=kid).first() if found else None
    if api_key is None:
        raise ApiError("record.not_found", 404)
    return api_key


def api_key_state_from_client(state: str | None) -> str | None:
    """The stored word for a state a client sent (``disabled`` is ``inactive``); any other
    text is passed on for ``api_key_update`` to refuse."""
    return None if state is None else STATE_SYNONYMS.get(state, state)


@transaction.atomic
def api_key_update(
    *, api_key: APIKey, scope: list[str] | None = None, state: str | None = None
) -> APIKey:
    """Change scope and/or state; an omitted field keeps its value (unlike Barong's scope reset).

    Only ``active``/``inactive`` are states (``api_key_state_from_client`` maps the other
    words clients send), and a key turns active only for an owner who may use keys: 2FA on
    and the account active or pending.
    """
    api_key = APIKey.objects.select_for_update().get(pk=api_key.pk)
    errors: list[str] = []
    if scope is not None:
        errors += _scope_errors(scope)
    if state is not None and state not in APIKey.State.values:
        errors.append("state.inclusion")
    if errors:
        raise ApiError(errors)
    if state == APIKey.State.ACTIVE and state != api_key.state:
        owner = User.objects.get(pk=api_key.user_id)
        if not owner.otp:
            raise ApiError("resource.api_key.2fa_disabled", 400)
        if owner.state not in ACTIVE_STATES:
            raise ApiError("resource.api_key.user_not_active")
    fields = ["updated_at"]
    if scope is not None:
        api_key.scope = list(scope)
        fields.append("scope")
    if state is not None:
        api_key.state = state
        fields.append("state")
    api_key.save(update_fields=fields)
    return api_key


def api_key_delete(*, api_key: APIKey) -> None:
    """Remove the key; its encrypted secret lives in the row and goes with it."""
    APIKey.objects.filter(pk=api_key.pk).delete()
