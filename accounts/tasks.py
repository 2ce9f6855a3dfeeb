"""Celery tasks of accounts.

- The worker's half of requests that must not reveal accounts: a password-reset or resend
  request, and a failed login, only enqueue one of these (the same work whether or not the
  e-mail is registered); the worker looks the user up and does the rest
  (accounts/services/constant_work.py).
- Level resync jobs (accounts/services/resync.py): run one, and resume stalled ones.
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


@shared_task(name="accounts.resync_run", acks_late=True)
def resync_run(job_id: int) -> int:
    """Run a level resync job to its end (accounts/services/resync.py); resumes where it stopped."""
    from accounts.services.resync import resync_run as run

    job = run(job_id=job_id)
    return job.changed if job is not None else 0


@shared_task(name="accounts.resync_resume")
def resync_resume() -> int:
    """Beat: queue again the resync jobs a dead worker or a failed batch left unfinished."""
    from accounts.services.resync import resync_stalled

    stalled = resync_stalled()
    for job_id in stalled:
        resync_run.delay(job_id)
    return len(stalled)
