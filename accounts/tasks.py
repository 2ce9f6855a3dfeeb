"""E-mails with confirmation and reset links, sent by Celery after the request commits.

The token is minted inside the task, so it never travels through the broker and the
newest e-mail a user receives always carries the one valid token.
"""

import logging
import smtplib

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template import TemplateDoesNotExist
from django.template.loader import get_template, render_to_string

from accounts import tokens

logger = logging.getLogger(__name__)

# Template name, token purpose, link path, link parameter, subjects by language.
EMAILS = {
    "email_confirmation": {
        "purpose": tokens.CONFIRMATION,
        "path": "accounts/confirmation",
        "param": "confirmation_token",
    },
    "password_reset": {
        "purpose": tokens.RESET,
        "path": "accounts/password_reset",
        "param": "reset_token",
    },
}
FALLBACK_LANGUAGE = "en"


def _has_templates(name: str, lang: str) -> bool:
    try:
        for part in ("subject.txt", "txt", "html"):
            get_template(f"emails/{name}.{lang}.{part}")
    except TemplateDoesNotExist:
        return False
    return True


def email_language(name: str, *candidates: str | None) -> str:
    """The first candidate language that has templates for ``name``, else English."""
    for candidate in candidates:
        lang = str(candidate or "").strip().lower()[:16]
        if lang.isascii() and lang.replace("-", "").isalpha() and _has_templates(name, lang):
            return lang
    return FALLBACK_LANGUAGE


@shared_task(
    bind=True,
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=True,
    retry_kwargs={"max_retries": 5},
)
def user_email_send(self, user_id: int, name: str, lang: str | None = None) -> bool:
    """Render and send e-mail ``name`` (with a fresh token) to user ``user_id``."""
    from accounts.models import User

    spec = EMAILS[name]
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        logger.warning("e-mail %s not sent: user %s is gone", name, user_id)
        return False
    language = email_language(name, lang, user.language, settings.BARONG_DEFAULT_LANGUAGE)
    token = tokens.token_issue(user=user, purpose=spec["purpose"])
    link = (
        f"https://{settings.BARONG_DOMAIN}/{spec['path']}?{spec['param']}={token}&lang={language}"
    )
    context = {
        "user": user,
        "link": link,
        "domain": settings.BARONG_DOMAIN,
        "lang": language,
        "minutes": max(1, settings.BARONG_JWT_EXPIRE_TIME // 60),
    }
    subject = render_to_string(f"emails/{name}.{language}.subject.txt", context)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=render_to_string(f"emails/{name}.{language}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
    )
    message.attach_alternative(
        render_to_string(f"emails/{name}.{language}.html", context), "text/html"
    )
    message.send()
    logger.info("e-mail %s (%s) sent to %s", name, language, user.uid)
    return True
