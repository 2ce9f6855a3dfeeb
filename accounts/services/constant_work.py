"""Requests whose work must not depend on whether an account exists.

A password-reset or e-mail-resend request, and a login's failure path, answer the same
thing for a registered e-mail and an unknown one; they also do the same work (no query
or one, one hash, one enqueue), so their timing does not tell either. The worker looks
the user up and does the rest: the activity row, the e-mail.
"""

import logging

from celery import shared_task
from django.db import transaction
from kombu.exceptions import OperationalError as BrokerError

from accounts.models import User
from accounts.services.users import email_normalize
from activities.services import activity_record
from barong.api.net import remote_ip, user_agent

logger = logging.getLogger(__name__)
LOGIN_FAILED = "Invalid Email or Password"
EMAIL_REQUESTS = ("email_confirmation", "password_reset")


def _task_email(email: str) -> str:
    """The address the worker looks up; one no account can have is sent as "" (bounded)."""
    normalized = email_normalize(email)
    return normalized if len(normalized) <= 255 else ""


def email_request_queue(*, email: str, name: str, lang: str | None, request) -> None:
    """One task, whatever the e-mail: the worker looks the user up (``user_email_request``).

    The request does the same work, no query and one enqueue, for a registered address
    and an unknown one, so neither its answer nor its timing tells which it was.
    """
    args = (
        _task_email(email),
        name,
        lang,
        remote_ip(request) if request is not None else "127.0.0.1",
        user_agent(request) if request is not None else "system",
    )
    try:  # no transaction to wait for: the request itself wrote nothing
        user_email_request.delay(*args)
    except BrokerError:  # logged; the answer stays the same 201 either way
        logger.warning("e-mail request not queued: broker unavailable")


@transaction.atomic
def user_email_request_handle(
    *, email: str, name: str, lang: str | None, user_ip: str, user_agent_text: str
) -> User | None:
    """The worker's half of a reset or resend request: a fresh token goes out in an event
    (and its e-mail) to a registered user; a confirmation only to one not active yet."""
    from accounts import tokens
    from accounts.events import confirmation_token_event, user_event_system

    user = User.objects.filter(email=email_normalize(email)).first()
    if user is None:
        return None
    if name == "email_confirmation":
        if user.state == User.State.ACTIVE:
            return None
        confirmation_token_event(user=user, lang=lang)
        return user
    activity_record(
        user=user,
        topic="password",
        action="request password reset",
        user_ip=user_ip,
        user_agent_text=user_agent_text,
    )
    token = tokens.token_issue(user=user, purpose=tokens.RESET)
    user_event_system(user=user, name="system.user.password.reset.token", lang=lang, token=token)
    return user


def login_failure_queue(*, email: str, request) -> None:
    """The failed-login activity is written by the worker, which looks the user up: the
    request's work does not depend on whether the account exists."""
    try:
        user_login_failure_record.delay(_task_email(email), remote_ip(request), user_agent(request))
    except BrokerError:  # the audit row is lost, the answer stays the same 401
        logger.warning("failed-login activity not queued: broker unavailable")


def user_login_failure_handle(*, email: str, user_ip: str, user_agent_text: str) -> None:
    """The worker's half of a failed login: the activity row, when the account exists."""
    user = User.objects.filter(email=email_normalize(email)).first()
    if user is not None:
        activity_record(
            user=user,
            topic="session",
            action="login",
            result="failed",
            user_ip=user_ip,
            user_agent_text=user_agent_text,
            data={"reason": LOGIN_FAILED},
        )


# The tasks keep the names they had when they lived in accounts/tasks.py: requests already
# queued in a broker across an upgrade still find them.
@shared_task(name="accounts.tasks.user_email_request")
def user_email_request(
    email: str, name: str, lang: str | None, user_ip: str, user_agent_text: str
) -> bool:
    """A reset or resend request; True when a registered user gets a token and an e-mail."""
    if name not in EMAIL_REQUESTS:
        return False
    user = user_email_request_handle(
        email=email, name=name, lang=lang, user_ip=user_ip, user_agent_text=user_agent_text
    )
    return user is not None


@shared_task(name="accounts.tasks.user_login_failure_record")
def user_login_failure_record(email: str, user_ip: str, user_agent_text: str) -> None:
    """The failed-login activity row, when the e-mail belongs to an account."""
    user_login_failure_handle(email=email, user_ip=user_ip, user_agent_text=user_agent_text)
