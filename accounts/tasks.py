"""Celery tasks of accounts, named here where Celery's autodiscovery and the beat schedule
look for them.

The tasks a service queues live beside the code they run, so that nothing below this module
imports it:

- The worker's half of requests that must not reveal accounts: a password-reset or resend
  request, and a failed login, only enqueue one of these (the same work whether or not the
  e-mail is registered); the worker looks the user up and does the rest
  (accounts/services/constant_work.py).
- Level resync jobs (accounts/services/resync.py): run one, and resume stalled ones.
"""

from celery import shared_task

from accounts.services.constant_work import user_email_request, user_login_failure_record
from accounts.services.resync import resync_job_run, resync_stalled

__all__ = ["resync_job_run", "resync_resume", "user_email_request", "user_login_failure_record"]


@shared_task(name="accounts.resync_resume")
def resync_resume() -> int:
    """Beat: queue again the resync jobs a dead worker or a failed batch left unfinished."""
    stalled = resync_stalled()
    for job_id in stalled:
        resync_job_run.delay(job_id)
    return len(stalled)
