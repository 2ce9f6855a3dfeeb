"""Logging in (``POST /identity/sessions`` and the passkey login): the password, then the
second factor when the account has one: a TOTP code or a recovery code."""

import functools

from django.contrib.auth.hashers import make_password
from django.db import connection
from django.db.models import Model

from accounts.events import session_event_created
from accounts.full_info import collections
from accounts.models import User, WebAuthnCredential
from accounts.notifications import (
    DEVICE_SEEN_FILTER,
    device_seen_values,
    login_from_new_device,
    security_notify,
)
from accounts.services.constant_work import login_failure_queue
from accounts.services.security_lock import security_lock_record
from accounts.services.users import email_normalize
from accounts.sessions import ACTIVE_STATES, AMR_OTP, AMR_PWD, AMR_RECOVERY
from activities.models import Activity
from activities.services import activity_failure_record, activity_record
from barong.api.errors import ApiError

STATE_ERRORS = {
    User.State.BANNED: ("identity.session.banned", "Your account is banned"),
    User.State.DELETED: ("identity.session.deleted", "Your account is deleted"),
}


def login_failure_record(user: User, action: str, reason: str, request) -> None:
    """A refused login of a known account, after its password was right: the activity row
    every door writes (``session``/``action``/``failed``, the reason in ``data``)."""
    activity_failure_record(
        user=user, topic="session", action=action, reason=reason, request=request
    )


def user_login(
    *,
    email: str,
    password: str,
    otp_code: str | None,
    request,
    recovery_code: str | None = None,
) -> User:
    """Password first: until it is verified, an unknown, wrong or blocked login looks the same.

    With 2FA on, a recovery code may stand in for the TOTP code (``user_login_second_factor``).
    """
    user = user_password_login(email=email, password=password, request=request)
    return user_login_complete(
        user=user, otp_code=otp_code, recovery_code=recovery_code, request=request
    )


def user_login_complete(
    *, user: User, otp_code: str | None, recovery_code: str | None, request
) -> User:
    """After the password (``user_password_login``), the second factor the account has:
    none, a TOTP or recovery code, or a passkey, which only the passkey login completes.

    The API login and the back-office (``accounts.services.operator_login``) both finish here, so
    they refuse the same logins with the same activity rows and record the same success
    (the row, the ``system.session.create`` event, the new-device e-mail).
    """
    if not user.otp and user_has_passkey(user):
        # A passkey is this account's second factor: it completes the login, not this call.
        login_failure_record(user, "login::2fa", "The account logs in with a passkey", request)
        raise ApiError("identity.session.webauthn_required", 403)
    if not user.otp:
        new_device = login_from_new_device(user=user, request=request)
        activity_record(user=user, topic="session", action="login", request=request)
        session_event_created(user=user, request=request, new_device=new_device)
        return user
    return user_login_second_factor(
        user=user, otp_code=otp_code, recovery_code=recovery_code, request=request
    )


def _recovery_chosen(otp_code: str | None, recovery_code: str | None) -> bool:
    """A recovery code stands in for the TOTP code only when no TOTP code was given."""
    return not (otp_code or "").strip() and bool((recovery_code or "").strip())


def login_methods(*, user: User, otp_code: str | None, recovery_code: str | None) -> list[str]:
    """The session's ``amr`` after ``user_login_complete`` let ``user`` in with these inputs:
    the password, and the factor ``user_login_second_factor`` checked."""
    if not user.otp:
        return [AMR_PWD]
    if _recovery_chosen(otp_code, recovery_code):
        return [AMR_PWD, AMR_RECOVERY]
    return [AMR_PWD, AMR_OTP]


def user_has_passkey(user: User) -> bool:
    """A registered passkey makes the password alone insufficient (see user_login)."""
    known = getattr(user, "has_passkey", None)  # read with the user by user_password_login
    if known is not None:
        return bool(known)
    return WebAuthnCredential.objects.filter(user=user).exists()


def _exists(model: type[Model], condition: str = "") -> str:
    """``EXISTS`` rows of ``model`` owned by the user of the outer query (quoted names from
    the models' metadata; values stay parameters)."""
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    owner = quote(model._meta.get_field("user").column)
    users = quote(User._meta.db_table)
    outer = f"{users}.{quote(User._meta.pk.column)}"
    return f"EXISTS (SELECT 1 FROM {table} WHERE {table}.{owner} = {outer}{condition})"  # noqa: S608


def login_user_sql(vendor: str) -> tuple[str, tuple[str, ...]]:
    """The login's one user query, written once: the ORM spent more CPU compiling it on
    every login (five ``Exists`` annotations) than the database spent running it.

    Returns the statement and the names of its columns after the user's own: ``has_passkey``,
    ``device_seen`` (the filter of ``device_seen_activities``) and, for the full-info
    answer (accounts/full_info.py), every list as JSON on PostgreSQL (``list_<name>``),
    elsewhere whether each probed list has rows (``has_<name>``). Every name comes from the
    models' metadata and the answer's shape, so a new field or list shows here by itself.
    """
    return _login_user_statement(vendor, collections())


@functools.cache
def _login_user_statement(vendor: str, lists: tuple) -> tuple[str, tuple[str, ...]]:
    quote = connection.ops.quote_name
    activity = quote(Activity._meta.db_table)
    seen = "".join(
        f" AND {activity}.{quote(Activity._meta.get_field(name).column)} {op} %s"
        for name, op in DEVICE_SEEN_FILTER
    )
    users = quote(User._meta.db_table)
    flags = {"has_passkey": _exists(WebAuthnCredential), "device_seen": _exists(Activity, seen)}
    if vendor == "postgresql":  # every list of the answer, as JSON
        outer = f"{users}.{quote(User._meta.pk.column)}"
        flags |= {f"list_{item.name}": item.json_sql(outer) for item in lists}
    else:  # which lists have rows
        flags |= {f"has_{item.name}": _exists(item.model) for item in lists if item.probe}
    columns = [f"{users}.{quote(field.column)}" for field in _user_fields()]
    columns += [f"{sql} AS {name}" for name, sql in flags.items()]
    statement = (
        f"SELECT {', '.join(columns)} FROM {users}"  # noqa: S608
        f" WHERE {users}.{quote(User._meta.get_field('email').column)} = %s LIMIT 1"
    )
    return statement, tuple(flags)


def _user_fields() -> list:
    return User._meta.concrete_fields


@functools.cache
def _user_converters(alias: str) -> dict:
    """The converters the ORM applies to the user's columns as read (``from_db_value``:
    JSON, and dates on SQLite), found once."""
    compiler = User.objects.none().query.get_compiler(using=alias)
    return compiler.get_converters([field.get_col(User._meta.db_table) for field in _user_fields()])


def login_user_find(email: str, request) -> User | None:
    """The user of ``email`` with the flags of ``login_user_sql`` as attributes."""
    values = device_seen_values(request=request)
    params = [
        connection.ops.adapt_datetimefield_value(value) if name == "created_at" else value
        for (name, _), value in zip(DEVICE_SEEN_FILTER, values, strict=True)
    ]
    sql, flags = login_user_sql(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, email_normalize(email)])
        row = cursor.fetchone()
    if row is None:
        return None
    fields = _user_fields()
    own = list(row[: len(fields)])
    for at, (functions, expression) in _user_converters(connection.alias).items():
        for function in functions:
            own[at] = function(own[at], expression, connection)
    user = User.from_db(connection.alias, [field.attname for field in fields], own)
    for name, value in zip(flags, row[len(fields) :], strict=True):
        setattr(user, name, value)
    return user


def user_password_login(*, email: str, password: str, request) -> User:
    """The first step of every login: the user whose password this is, in a state to log in.

    The same query tells whether they have a passkey, whether this address and browser
    were seen lately (the "New Login" e-mail) and which lists of the answer are empty, so
    a login reads the user once.
    """
    user = login_user_find(email, request)
    if user is None:
        make_password(password)  # the same hashing cost whether or not the account exists
    # Unknown e-mail or wrong password: one query, one hash, one enqueue either way.
    if user is None or not user.check_password(password):  # re-hashes an old hash on success
        login_failure_queue(email=email, request=request)
        raise ApiError("identity.session.invalid_params", 401)
    if user.state not in ACTIVE_STATES:
        key, reason = STATE_ERRORS.get(
            user.state, ("identity.session.not_active", "Your account is not active")
        )
        login_failure_record(user, "login", reason, request)
        raise ApiError(key, 401)
    return user


def user_login_second_factor(
    *, user: User, otp_code: str | None, recovery_code: str | None, request
) -> User:
    """2FA on: a TOTP code, or else a recovery code, completes the login."""
    from accounts.services.otp import otp_attempt

    if _recovery_chosen(otp_code, recovery_code):
        return _login_with_recovery_code(user=user, code=recovery_code, request=request)
    if not (otp_code or "").strip():
        # The first step of every 2FA login (front ends ask for the code on this answer):
        # 401 and no failed-login row, as Barong from 2.4.6 on.
        raise ApiError("identity.session.missing_otp", 401)
    if not otp_attempt(user=user, code=otp_code, error_key="identity.session.too_many_requests"):
        login_failure_record(user, "login::2fa", "OTP code is invalid", request)
        raise ApiError("identity.session.invalid_otp", 403)
    new_device = login_from_new_device(user=user, request=request)
    activity_record(user=user, topic="session", action="login::2fa", request=request)
    session_event_created(user=user, request=request, new_device=new_device)
    return user


def _login_with_recovery_code(*, user: User, code: str | None, request) -> User:
    from accounts.services.recovery import recovery_code_use

    left = recovery_code_use(user=user, code=code, error_key="identity.session.too_many_requests")
    if left is None:
        login_failure_record(user, "login::recovery_code", "Recovery code is invalid", request)
        raise ApiError("identity.session.invalid_recovery_code", 403)
    new_device = login_from_new_device(user=user, request=request)
    security_notify(
        user=user,
        notice="security_recovery_code_used",
        request=request,
        record={"recovery_codes_left": left},
        hints=security_lock_record(user),  # one e-mail tells the code's use and the lock
    )
    activity_record(
        user=user,
        topic="session",
        action="login::recovery_code",
        request=request,
        data={"recovery_codes_left": left},
    )
    session_event_created(user=user, request=request, new_device=new_device)
    return user
