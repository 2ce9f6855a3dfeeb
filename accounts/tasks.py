"""Celery tasks of accounts: the worker's half of requests that must not reveal accounts.

A password-reset or resend request, and a failed login, only enqueue one of these (the
same work whether or not the e-mail is registered); the worker looks the user up and
does the rest (accounts/services/constant_work.py).
"""

from celery import shared_task

EMAIL_REQUESTS = ("email_confirmation", "password_reset")


@shared_task
def user_email_request(
    email: str, name: str, lang: str | None, user_ip: str, user_agent_text: str
) -> bool:
    """A reset or resend request; True when a registered user gets a token and an e-mail."""
    from accounts.services.constant_work import user_email_request_handle

    if name not in EMAIL_REQUESTS:
        return False
    user = user_email_request_handle(
        email=email, name=name, lang=lang, user_ip=user_ip, user_agent_text=user_agent_text
    )
    return user is not None


@shared_task
def user_login_failure_record(email: str, user_ip: str, user_agent_text: str) -> None:
    """The failed-login activity row, when the e-mail belongs to an account."""
    from accounts.services.constant_work import user_login_failure_handle

    user_login_failure_handle(email=email, user_ip=user_ip, user_agent_text=user_agent_text)
