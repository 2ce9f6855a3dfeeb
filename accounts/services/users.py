"""A user's own state machine: creation, password, state, role, 2FA flag, labels → level.

Every change to a user goes through ``accounts.services``: views, admin, commands and tasks
alike. Private labels decide level and state (``user_level_sync``); the authz caches drop a
changed user through the ``post_save`` signal that ``permissions`` connects.
"""

import json
import re
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from accounts.events import (
    document_label_event,
    label_event_json,
    label_event_saved,
    user_event_created,
    user_event_json,
    user_event_system,
    user_event_updated,
)
from accounts.hashers import barong_digest_encoded, barong_digest_valid
from accounts.labels import label_normalize
from accounts.models import Label, Level, RecoveryCode, User
from accounts.notifications import security_notify
from accounts.passwords import password_error
from accounts.selectors import role_exists
from accounts.services.guards import last_superadmin_guard
from accounts.services.security_lock import security_lock_record, security_lock_start
from accounts.sessions import ACTIVE_STATES, users_sessions_revoke
from accounts.signals import api_access_lost
from barong.api.errors import ApiError, model_error_keys

# A Barong uid: letters and digits only (``ID30DD0DD986``), as imported from another server.
UID_RE = re.compile(r"\A[A-Z0-9]{4,32}\Z")
# Barong's strict rule: 1 to 64 of letters, digits, - + . _ ; labels ; a TLD of ≥ 2 letters.
EMAIL_RE = re.compile(r"\A[\w\-+.]{1,64}@(?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_]{2,}\Z", re.UNICODE)


def email_normalize(email: str) -> str:
    """Stored and compared lower-case; surrounding whitespace is not part of the address."""
    return email.strip().lower()


def _email_errors(email: str) -> list[str]:
    if not email:
        return ["email.blank"]
    if len(email) > 255:
        return ["email.too_long"]
    if not EMAIL_RE.match(email):
        return ["email.invalid"]
    if User.objects.filter(email=email).exists():
        return ["email.taken"]
    return []


def password_key(password: str) -> str | None:
    """The first broken password rule, ``password.blank`` included."""
    return "password.blank" if not password else password_error(password)


def _not_json(constant: str) -> None:
    raise ValueError(f"{constant} is not JSON")


def _data_errors(data: str | None) -> list[str]:
    """``data`` is JSON text of at most 1024 characters (``NaN`` and ``Infinity``, which
    Python alone would read, are not JSON)."""
    if data in (None, ""):
        return []
    if len(data) > 1024:
        return ["data.too_long"]
    try:
        json.loads(data, parse_constant=_not_json)
    except ValueError:
        return ["data.invalid_format"]
    return []


def user_create(
    *,
    email: str,
    password: str,
    data: str | None = None,
    referral: User | None = None,
    role: str = "member",
    state: str = User.State.PENDING,
    password_digest: str | None = None,
    uid: str | None = None,
) -> User:
    """Register a user; every broken rule is reported at once, in Barong's order.

    ``password_digest`` (instead of ``password``) keeps a bcrypt hash moved over from Barong,
    re-hashed with argon2id at the user's first login; ``uid`` keeps their Barong uid.
    """
    email = email_normalize(email)
    errors = _email_errors(email)
    if password_digest is not None:
        if not barong_digest_valid(password_digest):
            errors.append("password_digest.invalid")
    elif key := password_key(password):
        errors.append(key)
    errors += _data_errors(data)
    if not role_exists(role):
        errors.append("role.doesnt_exist")
    if uid is not None and not UID_RE.match(uid):
        errors.append("uid.invalid")
    elif uid is not None and User.objects.filter(uid=uid).exists():
        errors.append("uid.taken")
    if errors:
        raise ApiError(errors)
    user = User(email=email, data=data or None, referral=referral, role=role, state=state)
    if uid is not None:
        user.uid = uid
    if password_digest is not None:
        user.password = barong_digest_encoded(password_digest)
    else:
        user.set_password(password)
    for _ in range(5):  # a uid collision is astronomically rare; a new uid fixes it
        try:
            with transaction.atomic():
                user.save()
                user_event_created(user=user)
            return user
        except IntegrityError as exc:
            if User.objects.filter(email=email).exists():
                raise ApiError("email.taken") from exc  # a concurrent sign-up won
            if uid is not None:
                raise ApiError("uid.taken") from exc
            user.uid = f"{user.uid[:-10]}{secrets.token_hex(5).upper()}"
    raise ApiError("uid.taken")


@transaction.atomic
def superuser_create(*, email: str, password: str | None) -> User:
    """``createsuperuser``: an active superadmin with a verified e-mail."""
    if not password:
        raise ApiError("password.blank")
    user = user_create(email=email, password=password, role="superadmin", state="active")
    label_set(user=user, key="email", value="verified", scope="private")
    return user


@transaction.atomic
def user_password_set(*, user: User, password: str, reason: str = "password_changed") -> User:
    """Set a new password that meets the rules; the security lock starts (``reason``:
    ``password_changed`` or ``password_reset``, accounts/services/security_lock.py)."""
    if key := password_key(password):
        raise ApiError(key)
    before = user_event_json(user)
    user.set_password(password)
    user.save(update_fields=["password", "updated_at"])
    user_event_updated(user=user, before=before, changed=True)
    security_lock_start(user=user, reason=reason)
    return user


def user_password_replace(
    *, user: User, password: str, event: str, lang: str | None, reason: str = "password_changed"
) -> User:
    """``user_password_set`` and the event of the change, whose one e-mail tells the security
    lock too: a change and a reset say it alike. Run it in the caller's transaction."""
    user_password_set(user=user, password=password, reason=reason)
    user_event_system(user=user, name=event, lang=lang, hints=security_lock_record(user))
    return user


@transaction.atomic
def user_state_set(*, user: User, state: str) -> User:
    """Move a user to ``state``; any state but active switches off their API keys, and any
    but active or pending (a ban, a lock, a deletion) ends their sessions."""
    if user.state == state:
        return user
    last_superadmin_guard(user=user, role=user.role, state=state)
    before = user_event_json(user)
    user.state = state
    user.save(update_fields=["state", "updated_at"])
    user_event_updated(user=user, before=before)
    if state != User.State.ACTIVE:
        api_access_lost.send(sender=User, user=user)
    if state not in ACTIVE_STATES:
        users_sessions_end(uids=[user.uid])
    return user


def users_sessions_end(*, uids: list[str]) -> None:
    """Users leaving active/pending (banned, locked, deleted) lose every session, so that
    reactivation brings none back. Ended now (a Redis failure fails the change) and again
    after the commit, for a session a login opened meanwhile on the state it read before."""
    users_sessions_revoke(uids)
    transaction.on_commit(lambda: users_sessions_revoke(uids), robust=True)


@transaction.atomic
def user_state_import(*, user: User, state: str) -> User:
    """A state moved over from Barong that the user's labels do not give (Barong's operators
    set states directly): kept as manual, so no label change or level resync lifts it."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.state != state:
        user = user_state_set(user=user, state=state)
    if not user.state_manual:
        User.objects.filter(pk=user.pk).update(state_manual=True)
        user.state_manual = True
    return user


@transaction.atomic
def user_otp_set(*, user: User, enabled: bool) -> User:
    """Switch 2FA and its private ``otp`` label (2.4.17); off also switches off API keys
    and starts the security lock."""
    before = user_event_json(user)
    user.otp = enabled
    user.save(update_fields=["otp", "updated_at"])
    user_event_updated(user=user, before=before)
    if enabled:
        security_notify(user=user, notice="security_otp_enabled")
        label_set(user=user, key="otp", value="enabled", scope="private")
    else:
        api_access_lost.send(sender=User, user=user)
        RecoveryCode.objects.filter(user=user).delete()  # recovery codes belong to this 2FA
        security_lock_start(user=user, reason="otp_disabled")
        # One e-mail tells the change and the lock it started.
        security_notify(user=user, notice="security_otp_disabled", hints=security_lock_record(user))
        for label in user.labels.filter(key="otp", scope="private"):
            label_delete(label=label)
    return user


@transaction.atomic
def user_role_set(*, user: User, role: str) -> User:
    """Give a user another role that exists in the permission table."""
    if not role_exists(role):
        raise ApiError("role.doesnt_exist")
    last_superadmin_guard(user=user, role=role, state=user.state)
    before = user_event_json(user)
    user.role = role
    user.save(update_fields=["role", "updated_at"])
    user_event_updated(user=user, before=before)
    return user


@transaction.atomic
def user_data_set(*, user: User, data: str) -> User:
    """Replace the user's free ``data`` document: JSON text of at most 1024 characters."""
    if errors := _data_errors(data):
        raise ApiError(errors)
    if user.data == (data or None):
        return user  # nothing changes, nothing to report (as Rails skips an unchanged save)
    before = user_event_json(user)
    user.data = data or None
    user.save(update_fields=["data", "updated_at"])
    user_event_updated(user=user, before=before, changed=True)  # data is not in the snapshot
    return user


# The states labels may lift. Any other (banned, locked, deleted, or a state moved over from
# Barong) is lifted only by a label change of a user whose state is not manual.
OPEN_STATES = (User.State.ACTIVE, User.State.PENDING)


def user_state_next(
    *, state: str, manual: bool, computed: str, lift: bool = True
) -> tuple[str, bool]:
    """(state, manual) of a user whose private labels give ``computed``, both paths alike.

    A blocked state stays when it is manual, and in a level resync (``lift`` False: a
    level edit changes levels, never lifts a ban, lock or deletion). A manual active or
    pending state stays too, but a blocking label still blocks; the state then follows the
    labels again (manual off), so removing that label lifts it.
    """
    if state not in OPEN_STATES and (manual or not lift):
        return state, manual
    if manual and computed in OPEN_STATES:
        return state, manual
    return computed, False


def user_level_save(*, user: User, level: int, state: str) -> User:
    """Store a recomputed level/state (called by the label service inside its transaction).

    A state an operator set by hand (``state_manual``) stays until an operator changes it,
    or a blocking label blocks (``user_state_next``).
    """
    state, manual = user_state_next(state=user.state, manual=user.state_manual, computed=state)
    changed_state = user.state != state
    if user.level == level and not changed_state:
        return user
    if manual != user.state_manual:
        User.objects.filter(pk=user.pk).update(state_manual=manual)
        user.state_manual = manual
    if changed_state:
        user_state_set(user=user, state=state)
    before = user_event_json(user)
    user.level = level
    user.save(update_fields=["level", "updated_at"])
    user_event_updated(user=user, before=before)
    return user


# ---------------------------------------------------------------- labels → level and state


def user_level_compute(*, private: dict[str, str], levels: list[Level]) -> int:
    """Highest N such that levels 1…N each have their private label (walk stops at a gap)."""
    level = 0
    for row in levels:
        if private.get(row.key) != row.value:
            break
        level = row.id
    return level


def user_state_compute(*, private: dict[str, str]) -> str:
    """pending → active on activation labels; trigger prefixes override (private labels only)."""
    requirements = settings.BARONG_ACTIVATION_REQUIREMENTS
    state = "active" if all(private.get(k) == v for k, v in requirements.items()) else "pending"
    for trigger_state, prefixes in settings.BARONG_STATE_TRIGGERS.items():
        if any(key.startswith(tuple(prefixes)) for key in private):
            state = trigger_state
    return state


def user_level_sync(*, user: User) -> User:
    """Recompute and store level and state from the user's private labels."""
    private = dict(
        Label.objects.filter(user=user, scope=Label.Scope.PRIVATE).values_list("key", "value")
    )
    levels = list(Level.objects.order_by("id"))
    level = user_level_compute(private=private, levels=levels)
    state = user_state_compute(private=private)
    return user_level_save(user=user, level=level, state=state)


@transaction.atomic
def label_set(
    *,
    user: User,
    key: str,
    value: str,
    scope: str = Label.Scope.PUBLIC,
    description: str | None = None,
    keep_description: bool = False,
) -> Label:
    """Create or change one label; a private label moves the user's level and state."""
    user = User.objects.select_for_update().get(pk=user.pk)
    key, value = label_normalize(key), label_normalize(value)
    label = Label.objects.filter(user=user, key=key, scope=scope).first()
    label = label or Label(user=user, key=key, scope=scope)
    label.user = user  # the locked row: events show the level and state it ends with
    before = label_event_json(label) if label.pk else None
    label.value = value
    if not keep_description:
        label.description = description
    try:
        label.full_clean()
        with transaction.atomic():
            label.save()
    except ValidationError as exc:
        raise ApiError(model_error_keys(exc)) from exc
    except IntegrityError as exc:
        raise ApiError("key.taken") from exc
    if scope == Label.Scope.PRIVATE:
        user_level_sync(user=user)  # changes ``label.user`` in place
        document_label_event(label=label)
    # Recorded last, as Barong publishes it (after the user's events): its snapshot of the
    # user, and the e-mail built from it, show the level and state the change led to.
    label_event_saved(label=label, before=before)
    return label


@transaction.atomic
def label_delete(*, label: Label) -> None:
    """Remove a label; removing a private one recomputes level and state."""
    user = User.objects.select_for_update().get(pk=label.user_id)
    private = label.scope == Label.Scope.PRIVATE
    label_id = label.pk
    label.delete()
    if private:
        user_level_sync(user=user)
        label.pk, label.user = label_id, user  # the event names the removed label
        document_label_event(label=label)


@transaction.atomic
def user_id_blocks_rebuild() -> int:
    """Count the users per id block again (``UserIdBlock``), after rows were loaded with
    triggers off (``session_replication_role = replica``, ``pg_restore --disable-triggers``).
    Inserts wait for the recount; returns the users counted (0 where no counts are kept)."""
    if connection.vendor != "postgresql":
        return 0
    with connection.cursor() as cursor:
        cursor.execute("LOCK TABLE users IN SHARE MODE")
        cursor.execute("SELECT user_id_blocks_rebuild()")
        cursor.execute("SELECT COALESCE(SUM(users), 0) FROM user_id_blocks")
        return int(cursor.fetchone()[0])
