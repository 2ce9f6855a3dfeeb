"""The events accounts records (user and label snapshots, identity system events).

Payload shapes follow Barong's Event API; docs/operations.md lists every event.
"""

from datetime import datetime
from typing import Any

from django.conf import settings

from accounts import tokens
from accounts.models import User
from barong.api.net import remote_ip, user_agent
from events.services import (
    event_record,
    event_record_created,
    event_record_updated,
    event_time,
)


def user_aggregate(user: User) -> str:
    """Events about one user are delivered in the order they were recorded."""
    return uid_aggregate(user.uid)


def uid_aggregate(uid: str) -> str:
    """``user_aggregate`` from the uid alone (a resync builds events from rows)."""
    return f"user:{uid}"


def user_event_json(user: User) -> dict[str, Any]:
    """The user snapshot every event carries (``referral_uid`` null when none)."""
    return user_event_record(
        uid=user.uid,
        email=user.email,
        role=user.role,
        level=user.level,
        otp=user.otp,
        state=user.state,
        referral_uid=user.referral_uid,
        created_at=user.created_at,
        updated_at=user.updated_at,
    )


def user_event_record(
    *,
    uid: str,
    email: str,
    role: str,
    level: int,
    otp: bool,
    state: str,
    referral_uid: str | None,
    created_at: datetime | None,
    updated_at: datetime | None,
) -> dict[str, Any]:
    """``user_event_json`` from column values: a level resync builds thousands of events
    from the rows it read, without a model instance each, and they stay the same."""
    return {
        "uid": uid,
        "email": email,
        "role": role,
        "level": int(level),
        "otp": bool(otp),
        "state": state,
        "referral_uid": referral_uid,
        "created_at": event_time(created_at),
        "updated_at": event_time(updated_at),
    }


def event_language(lang: str | None) -> str:
    """Barong's ``language``: the request's ``lang`` upper-cased, ``EN`` when absent."""
    text = str(lang or "").strip()
    return text.upper()[:16] if text else "EN"


def user_event_created(*, user: User) -> None:
    """``model.user.created``."""
    event_record_created(
        name="model.user.created", record=user_event_json(user), aggregate=user_aggregate(user)
    )


def user_event_updated(*, user: User, before: dict[str, Any], changed: bool = False) -> None:
    """``model.user.updated`` against the snapshot taken before the change (none if equal;
    ``changed`` reports a change the snapshot does not show, such as the password)."""
    event_record_updated(
        name="model.user.updated",
        before=before,
        after=user_event_json(user),
        aggregate=user_aggregate(user),
        changed=changed,
    )


def user_event_system(
    *,
    user: User,
    name: str,
    lang: str | None = None,
    token: str | None = None,
    identity: bool = True,
    extra: dict[str, Any] | None = None,
    hints: dict[str, Any] | None = None,
) -> None:
    """A ``system.*`` event about ``user``: identity ones add ``language`` and ``domain``.
    ``hints``: for its e-mail only, never in the event (``OutboxEvent.context``)."""
    record: dict[str, Any] = {"user": user_event_json(user)}
    if identity:
        record["language"] = event_language(lang)
        record["domain"] = settings.BARONG_DOMAIN
    if token is not None:
        record["token"] = token
    record.update(extra or {})
    context = {"lang": str(lang or "").strip().lower()[:16]} if lang else {}
    event_record(
        name=name,
        record=record,
        aggregate=user_aggregate(user),
        context={**context, **(hints or {})} or None,
    )


def confirmation_token_event(*, user: User, lang: str | None) -> None:
    """A fresh confirmation token (now the only valid one) goes out in an event and e-mail."""
    token = tokens.token_issue(user=user, purpose=tokens.CONFIRMATION)
    user_event_system(
        user=user, name="system.user.email.confirmation.token", lang=lang, token=token
    )


def session_event_created(*, user: User, request, new_device: bool | None = None) -> None:
    """``system.session.create``: where the login came from (drives "New Login" e-mails).

    ``new_device`` (an addition to Barong's record): no success from this address and
    browser in the last 30 days; only such logins are mailed.
    """
    extra: dict[str, Any] = {
        "user_ip": remote_ip(request) if request is not None else None,
        "user_agent": user_agent(request) if request is not None else None,
    }
    if new_device is not None:
        extra["new_device"] = new_device
    user_event_system(user=user, name="system.session.create", identity=False, extra=extra)


def label_event_json(label) -> dict[str, Any]:
    """A label as events show it (no scope, as Barong)."""
    return {
        "id": label.pk,
        "key": label.key,
        "value": label.value,
        "description": label.description,
        "user": user_event_json(label.user),
    }


def user_record_event_saved(
    *,
    model: str,
    user: User,
    after: dict[str, Any],
    before: dict[str, Any] | None,
    changed: bool = False,
) -> None:
    """``model.<model>.created`` (``before`` None) or ``model.<model>.updated`` of a record
    of ``user`` (labels, profiles); ``changed``: updated even when no shown field moved."""
    aggregate = user_aggregate(user)
    if before is None:
        event_record_created(name=f"model.{model}.created", record=after, aggregate=aggregate)
        return
    before = {**before, "user": after["user"]}  # the user is the same record on both sides
    event_record_updated(
        name=f"model.{model}.updated",
        before=before,
        after=after,
        aggregate=aggregate,
        changed=changed,
    )


def label_event_saved(*, label, before: dict[str, Any] | None) -> None:
    """``model.label.created`` (``before`` None) or ``model.label.updated``."""
    user_record_event_saved(
        model="label", user=label.user, after=label_event_json(label), before=before
    )


def document_label_event(*, label) -> None:
    """A private ``document`` label saved or removed as verified/rejected tells the user so."""
    private_document = label.key == "document" and label.scope == "private"
    if private_document and label.value in ("verified", "rejected"):
        event_record(
            name=f"system.document.{label.value}",
            record=label_event_json(label),
            aggregate=user_aggregate(label.user),
        )
