"""E-mails driven by events: the mailer mapping, rendering, and sending once per event.

To mail users on another event, add one entry to ``MAILS`` and two templates per
language, ``templates/emails/<template>.<lang>.txt`` and ``.html`` (context: ``record``,
``changes``, ``user``, ``event``, ``domain``, ``lang``, ``link``, ``minutes``, ``hints``:
the event's delivery hints, e.g. ``lock_until``).
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.core.mail.utils import DNS_NAME
from django.db import transaction
from django.template import TemplateDoesNotExist
from django.template.loader import get_template, render_to_string
from django.utils import timezone

from barong.metrics import EMAILS_SENT
from events.models import OutboxEvent

logger = logging.getLogger(__name__)

FALLBACK_LANGUAGE = "en"
KYC_LABEL_KEYS = ("phone", "profile", "document")


@dataclass(frozen=True)
class Mail:
    """One e-mail of the mapping: its templates, subjects by language, and an optional link."""

    template: str
    subjects: dict[str, str]
    # (page path, query parameter): a link carrying the event record's ``token``.
    link: tuple[str, str] | None = None
    # Which records of the event get the e-mail (all when None).
    when: Callable[[dict[str, Any]], bool] | None = None

    def wanted(self, record: dict[str, Any]) -> bool:
        return self.when is None or self.when(record)


def _kyc_label(record: dict[str, Any]) -> bool:
    """Label e-mails tell about KYC steps (phone, profile, documents), not every tag."""
    return record.get("key") in KYC_LABEL_KEYS


def _new_device(record: dict[str, Any]) -> bool:
    """ "New Login" only for an address and browser not seen lately (absent: every login)."""
    return bool(record.get("new_device", True))


# A password changed by the user or reset by e-mail: the same notice.
_PASSWORD_CHANGED = Mail(
    template="security_password_changed",
    subjects={"en": "Your password was changed", "ru": "Пароль изменён"},
)

# Event name → e-mail (Barong's default mailer configuration).
MAILS: dict[str, Mail] = {
    "system.user.email.confirmation.token": Mail(
        template="email_confirmation",
        subjects={"en": "Registration Confirmation", "ru": "Подтверждение регистрации"},
        link=("accounts/confirmation", "confirmation_token"),
    ),
    "system.user.password.reset.token": Mail(
        template="password_reset",
        subjects={"en": "Password Reset", "ru": "Сброс пароля"},
        link=("accounts/password_reset", "reset_token"),
    ),
    "model.label.created": Mail(
        template="label",
        subjects={"en": "Phone verified", "ru": "Телефон подтверждён"},
        when=_kyc_label,
    ),
    "model.label.updated": Mail(
        template="label",
        subjects={"en": "Label Updated", "ru": "Метка обновлена"},
        when=_kyc_label,
    ),
    "system.session.create": Mail(
        template="session_create",
        subjects={"en": "New Login", "ru": "Новый вход"},
        when=_new_device,
    ),
    # Account-security notices (accounts/notifications.py).
    "system.user.password.change": _PASSWORD_CHANGED,
    "system.user.password.reset": _PASSWORD_CHANGED,
    "system.user.otp.enabled": Mail(
        template="security_otp_enabled",
        subjects={
            "en": "Two-factor authentication enabled",
            "ru": "Двухфакторная аутентификация включена",
        },
    ),
    "system.user.otp.disabled": Mail(
        template="security_otp_disabled",
        subjects={
            "en": "Two-factor authentication disabled",
            "ru": "Двухфакторная аутентификация отключена",
        },
    ),
    "system.user.recovery_code.used": Mail(
        template="security_recovery_code_used",
        subjects={"en": "A recovery code was used", "ru": "Использован код восстановления"},
    ),
    "system.user.api_key.created": Mail(
        template="security_api_key_created",
        subjects={"en": "New API key created", "ru": "Создан новый API-ключ"},
    ),
    "system.user.passkey.added": Mail(
        template="security_passkey_added",
        subjects={"en": "Passkey added", "ru": "Добавлен ключ входа (passkey)"},
    ),
}


def _has_templates(template: str, lang: str) -> bool:
    try:
        for part in ("txt", "html"):
            get_template(f"emails/{template}.{lang}.{part}")
    except TemplateDoesNotExist:
        return False
    return True


def mail_language(mail: Mail, *candidates: str | None) -> str:
    """The first candidate language the e-mail has a subject and templates for, else English."""
    for candidate in candidates:
        lang = str(candidate or "").strip().lower()[:16]
        if (
            lang in mail.subjects
            and lang.isascii()
            and lang.isalpha()
            and _has_templates(mail.template, lang)
        ):
            return lang
    return FALLBACK_LANGUAGE


def site_url(path: str) -> str:
    """``BARONG_DOMAIN`` is a host name (https assumed) or a base URL with its scheme."""
    domain = settings.BARONG_DOMAIN.rstrip("/")
    base = domain if domain.startswith(("http://", "https://")) else f"https://{domain}"
    return f"{base}/{path}"


def mail_build(event: OutboxEvent) -> EmailMultiAlternatives | None:
    """The message for ``event``, addressed to its user as they are now; None if they are gone."""
    mail = MAILS[event.name]
    record = event.payload.get("record", {})
    uid = (record.get("user") or {}).get("uid")
    user = get_user_model().objects.filter(uid=uid).first() if uid else None
    if user is None:
        logger.warning("e-mail for event %s not sent: no user %s", event.jti, uid)
        return None
    lang = mail_language(
        mail,
        event.context.get("lang"),
        getattr(user, "language", None),
        settings.BARONG_DEFAULT_LANGUAGE,
    )
    context = {
        "record": record,
        "changes": event.payload.get("changes"),
        "user": user,
        "event": event.name,
        "domain": site_url("").rstrip("/").partition("://")[2],  # the host, as the text says
        "lang": lang,
        "minutes": max(1, settings.BARONG_JWT_EXPIRE_TIME // 60),
        "link": None,
        "hints": event.context,
    }
    if mail.link is not None:
        path, param = mail.link
        context["link"] = site_url(f"{path}?{param}={record.get('token', '')}&lang={lang}")
    message = EmailMultiAlternatives(
        subject=mail.subjects[lang],
        body=render_to_string(f"emails/{mail.template}.{lang}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
        # The same id on a resend, so a duplicate after a crash is recognisable as one.
        headers={"Message-ID": f"<{event.jti}@{DNS_NAME}>"},
    )
    message.attach_alternative(
        render_to_string(f"emails/{mail.template}.{lang}.html", context), "text/html"
    )
    return message


def event_email_deliver(*, event_id: int) -> bool:
    """Send the e-mail of outbox row ``event_id`` unless it went already (idempotent).

    The row stays locked while the message is handed to the mail server, so a second
    copy of the task waits and then finds it sent. Only a crash between the server's
    acceptance and the commit can repeat it (same Message-ID).
    """
    with transaction.atomic():
        event = OutboxEvent.objects.select_for_update().filter(pk=event_id).first()
        if event is None or not event.mail or event.mailed_at is not None:
            return False
        message = mail_build(event) if event.name in MAILS else None
        if message is not None:
            message.send()
            EMAILS_SENT.labels(template=MAILS[event.name].template).inc()
        event.mailed_at = timezone.now()
        if event.publish_done:
            event.settle(event.mailed_at)
        event.save(update_fields=["mailed_at", "delivered_at", "payload"])
    if message is not None:
        logger.info("e-mail for %s (%s) sent to user %s", event.name, event.jti, user_uid(event))
    return message is not None


def user_uid(event: OutboxEvent) -> str | None:
    return (event.payload.get("record", {}).get("user") or {}).get("uid")


@shared_task(ignore_result=True, name="events.tasks.event_email_send")
def event_email_send(event_id: int) -> bool:
    """Send the e-mail of one event; a repeat of this task sends nothing twice (the name is
    the one it had in events.tasks, for tasks queued across an upgrade)."""
    try:
        return event_email_deliver(event_id=event_id)
    except Exception as exc:  # the relay queues the task again after its backoff
        OutboxEvent.objects.filter(pk=event_id).update(last_error=f"e-mail failed: {exc!r}"[:1000])
        raise
