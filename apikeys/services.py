"""API keys: creation with an encrypted secret, state changes, and deactivation rules."""

import datetime
import json
import secrets
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import User
from accounts.notifications import security_notify
from accounts.services.operators import user_admin_guard
from accounts.services.otp import otp_attempt
from accounts.sessions import ACTIVE_STATES
from activities.services import activity_record, admin_activity_record
from apikeys.models import APIKey
from apikeys.scopes import cidrs_normalise, scopes_enforced
from apikeys.signatures import api_key_cache_invalidate, api_key_secret_context
from barong.api.errors import ApiError
from barong.crypto import column_reencrypt, decrypt, encrypt
from barong.db.sets import filter_ids

SCOPE_MAX_LENGTH = 255
KID_MAX_LENGTH = APIKey._meta.get_field("kid").max_length
# Other words clients send for a state. Barong stored any string, and OpenDAX's front ends
# switch a key off with ``disabled``; this server keeps one word per state in the database.
STATE_SYNONYMS = {"disabled": APIKey.State.INACTIVE}
# The longest a key may be set to live (a bound, so no date overflows anything downstream).
MAX_EXPIRY = datetime.timedelta(days=3660)
MAX_EXPIRY_TEXT = 40
# ``api_key_update``'s "leave this limit as it is".
KEEP: Any = object()
# The limits an operator may take over (``operator_restricted``): the owner then cannot
# change them.
LIMITS = ("scope", "allowed_cidrs", "expires_at")


def _scope_errors(scope: list[str]) -> list[str]:
    """The stored list must fit Barong's ``varchar(255)`` column."""
    return ["scope.too_long"] if len(json.dumps(scope)) > SCOPE_MAX_LENGTH else []


def api_key_cidrs_parse(text: str) -> list[str]:
    """A comma-separated list of networks or addresses (blank: none), in canonical form;
    ``allowed_cidrs.invalid`` or ``allowed_cidrs.too_many``."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    try:
        return cidrs_normalise(parts)
    except ValueError as exc:
        key = "too_many" if str(exc) == "too many networks" else "invalid"
        raise ApiError(f"allowed_cidrs.{key}") from exc


def api_key_expiry_parse(text: str) -> datetime.datetime | None:
    """An ISO 8601 time (UTC when it names no zone) or unix seconds; blank: no expiry.
    ``expires_at.invalid`` for anything else."""
    text = text.strip()
    if not text:
        return None
    if len(text) > MAX_EXPIRY_TEXT or not text.isascii():
        raise ApiError("expires_at.invalid")
    try:
        if text.isdigit():
            moment = datetime.datetime.fromtimestamp(int(text), tz=datetime.UTC)
        else:
            moment = datetime.datetime.fromisoformat(text)
    except (ValueError, OverflowError, OSError) as exc:
        raise ApiError("expires_at.invalid") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment


def _cidrs_errors(cidrs: Any) -> list[str]:
    """Networks given to a service directly (not through ``api_key_cidrs_parse``) are
    checked too: a bad one is a 422, never a 500 half-way through the save."""
    if cidrs is KEEP:
        return []
    try:
        cidrs_normalise(list(cidrs))
    except (ValueError, TypeError, AttributeError):
        return ["allowed_cidrs.invalid"]
    return []


def _expiry_errors(expires_at: datetime.datetime | None) -> list[str]:
    """A key expires in the future and within ``MAX_EXPIRY``."""
    if expires_at is None:
        return []
    now = timezone.now()
    if expires_at <= now:
        return ["expires_at.in_the_past"]
    if expires_at > now + MAX_EXPIRY:
        return ["expires_at.too_far"]
    return []


def _limits_data(api_key: APIKey) -> dict[str, Any]:
    """The limits as the audit rows record them."""
    return {
        "kid": api_key.kid,
        "scope": list(api_key.scope),
        "allowed_cidrs": list(api_key.allowed_cidrs),
        "expires_at": api_key.expires_at.isoformat() if api_key.expires_at else None,
        "operator_restricted": api_key.operator_restricted,
        "state": api_key.state,
    }


def api_key_enforced_scope(api_key: APIKey) -> list[str] | None:
    """The configured scopes the key is limited to; None: unrestricted (apikeys/scopes.py)."""
    enforced = scopes_enforced(api_key.scope or [])
    return None if enforced is None else list(enforced)


def api_key_secrets_reencrypt() -> dict[str, int]:
    """Every key's secret sealed again under the current encryption key (the second step
    of a key rotation, docs/operations.md); cached copies of a moved key are dropped."""
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
    *,
    user,
    algorithm: str = "HS256",
    kid: str | None = None,
    scope: list[str] | None = None,
    allowed_cidrs: list[str] | None = None,
    expires_at: datetime.datetime | None = None,
    request: HttpRequest | None = None,
) -> tuple[APIKey, str]:
    """A new active key with a 32-hex-char secret, stored encrypted; returns (key, secret).

    HS keys always get a random 16-hex-char kid (Barong ignores a client kid for them).
    ``allowed_cidrs`` (canonical, ``api_key_cidrs_parse``) and ``expires_at`` limit it.
    """
    errors: list[str] = []
    if "HS" in algorithm:
        kid = secrets.token_hex(8)
    if algorithm != "HS256":
        errors.append("algorithm.inclusion")
    if not kid:
        errors.append("kid.blank")
    errors += _scope_errors(scope or [])
    errors += _cidrs_errors(allowed_cidrs or [])
    errors += _expiry_errors(expires_at)
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
                allowed_cidrs=cidrs_normalise(allowed_cidrs or []),
                expires_at=expires_at,
                state=APIKey.State.ACTIVE,
                encrypted_secret=encrypt(secret, context=api_key_secret_context(kid)),
            )
    except IntegrityError as exc:
        raise ApiError("kid.taken") from exc
    security_notify(user=user, notice="security_api_key_created", record={"kid": kid})
    activity_record(
        user=user, topic="api_keys", action="api key create", request=request,
        data=_limits_data(api_key),
    )  # fmt: skip
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
    *,
    api_key: APIKey,
    scope: list[str] | None = None,
    state: str | None = None,
    allowed_cidrs: Any = KEEP,
    expires_at: Any = KEEP,
    request: HttpRequest | None = None,
) -> APIKey:
    """The owner changes scope, state, networks or expiry; an omitted field keeps its value
    (unlike Barong's scope reset). ``allowed_cidrs``/``expires_at``: ``KEEP``, or the new
    value (``[]``/None: none).

    Only ``active``/``inactive`` are states (``api_key_state_from_client`` maps the other
    words clients send), and a key turns active only for an owner who may use keys: 2FA on
    and the account active or pending. Limits an operator took over stay theirs.
    """
    api_key = APIKey.objects.select_for_update().get(pk=api_key.pk)
    limits = scope is not None or allowed_cidrs is not KEEP or expires_at is not KEEP
    errors: list[str] = []
    if scope is not None:
        errors += _scope_errors(scope)
    if state is not None and state not in APIKey.State.values:
        errors.append("state.inclusion")
    errors += _cidrs_errors(allowed_cidrs)
    if expires_at is not KEEP:
        errors += _expiry_errors(expires_at)
    if errors:
        raise ApiError(errors)
    if limits and api_key.operator_restricted:
        raise ApiError("resource.api_key.restricted_by_operator", 403)
    if state == APIKey.State.ACTIVE and state != api_key.state:
        owner = User.objects.get(pk=api_key.user_id)
        if not owner.otp:
            raise ApiError("resource.api_key.2fa_disabled", 400)
        if owner.state not in ACTIVE_STATES:
            raise ApiError("resource.api_key.user_not_active")
    before = _limits_data(api_key)
    fields = _limits_apply(api_key, scope=scope, allowed_cidrs=allowed_cidrs, expires_at=expires_at)
    if state is not None:
        api_key.state = state
        fields.append("state")
    api_key.save(update_fields=fields)
    activity_record(
        user=api_key.user, topic="api_keys", action="api key update", request=request,
        data={**_limits_data(api_key), "previous": before},
    )  # fmt: skip
    return api_key


def _limits_apply(
    api_key: APIKey, *, scope: list[str] | None, allowed_cidrs: Any, expires_at: Any
) -> list[str]:
    """Set the given limits on the row; the columns to save."""
    fields = ["updated_at"]
    if scope is not None:
        api_key.scope = list(scope)
        fields.append("scope")
    if allowed_cidrs is not KEEP:
        api_key.allowed_cidrs = cidrs_normalise(allowed_cidrs)
        fields.append("allowed_cidrs")
    if expires_at is not KEEP:
        api_key.expires_at = expires_at
        fields.append("expires_at")
    return fields


@transaction.atomic
def api_key_restrict(
    *,
    admin: User,
    api_key: APIKey,
    scope: list[str] | None = None,
    allowed_cidrs: Any = KEEP,
    expires_at: Any = KEEP,
    restricted: bool | None = None,
    state: str | None = None,
    request: HttpRequest | None = None,
) -> APIKey:
    """An operator sets a key's limits (and may switch it off); ``restricted`` True makes
    scope, networks and expiry the operator's: the owner can no longer change them (they
    may still switch the key off or delete it). Audited in the admin log."""
    api_key = APIKey.objects.select_for_update().get(pk=api_key.pk)
    owner = User.objects.get(pk=api_key.user_id)
    # The rank rule of every operator action on a user (their own keys included: those
    # are restricted by another operator).
    user_admin_guard(admin=admin, user=owner, prefix="admin.api_key", topic="api_keys")
    errors: list[str] = []
    if scope is not None:
        errors += _scope_errors(scope)
    errors += _cidrs_errors(allowed_cidrs)
    if expires_at is not KEEP:
        errors += _expiry_errors(expires_at)
    if state is not None and state != APIKey.State.INACTIVE:
        errors.append("state.inclusion")  # an operator switches keys off, never on
    if errors:
        raise ApiError(errors)
    before = _limits_data(api_key)
    fields = _limits_apply(api_key, scope=scope, allowed_cidrs=allowed_cidrs, expires_at=expires_at)
    if restricted is not None:
        api_key.operator_restricted = restricted
        fields.append("operator_restricted")
    if state is not None:
        api_key.state = state
        fields.append("state")
    api_key.save(update_fields=fields)
    admin_activity_record(
        admin=admin, topic="api_keys", action="update", target=owner, request=request,
        data={**_limits_data(api_key), "previous": before},
    )  # fmt: skip
    return api_key


def api_key_delete(*, api_key: APIKey) -> None:
    """Remove the key; its encrypted secret lives in the row and goes with it."""
    APIKey.objects.filter(pk=api_key.pk).delete()
