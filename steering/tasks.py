"""Celery tasks of the steering app: compile reports, sweep stale ones, and the scheduled jobs.

Tasks take ids, call one service and return. Acknowledgement is late and a task whose
worker dies is delivered again (``CELERY_TASK_ACKS_LATE``,
``CELERY_TASK_REJECT_ON_WORKER_LOST``); the services make a second run harmless.
"""

import logging

from celery import Task, shared_task
from django.db import InterfaceError, OperationalError
from django.utils.translation import gettext as _

from . import schedules
from .reports import renderings, services

logger = logging.getLogger(__name__)


class CompileReportTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        # Reached when retries of a transient error ran out: fail this task's attempt for
        # the user to see (not a newer one the user asked for meanwhile). If the database
        # is still down, the sweeper sends the report again or fails it later.
        report_id = kwargs.get("report_id") or (args[0] if args else None)
        try:
            services.mark_failed(
                report_id=report_id,
                task_id=task_id,
                message=_("The database or the queue was unavailable while the report compiled. Try again later."),
            )
        except Exception:
            logger.exception("Could not mark report %s failed", report_id)


# A database that is briefly away (a failover, a dropped connection) is waited out, ever longer apart.
RETRIED_WHILE_THE_DATABASE_IS_AWAY = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": 5,
    "retry_backoff_max": 120,
    "retry_jitter": True,
}


@shared_task(
    bind=True, base=CompileReportTask, max_retries=services.MAX_ATTEMPTS - 1, **RETRIED_WHILE_THE_DATABASE_IS_AWAY
)
def compile_report(self, report_id: str) -> str:
    """Compile one progress report; return what happened (succeeded, failed, skipped, busy)."""
    return services.compile_report(report_id=report_id, task_id=self.request.id or "")


def enqueue_compilation(*, report_id, task_id: str):
    """Send the report to a worker (called once the transaction that queued it has committed).

    The report's state is kept in the database, never read from Celery's results: asking
    for none spares the request a subscription to the result backend, which retries for
    some 20 seconds while Redis is down (the outbox sends the job again in any case).
    """
    compile_report.apply_async(args=[str(report_id)], task_id=task_id, ignore_result=True)


@shared_task(bind=True, max_retries=renderings.MAX_ATTEMPTS - 1, **RETRIED_WHILE_THE_DATABASE_IS_AWAY)
def render_report(self, rendering_id: str) -> str:
    """Render a succeeded report's files in another language; return what happened."""
    return renderings.render(rendering_id=rendering_id, task_id=self.request.id or "")


def enqueue_rendering(*, rendering_id, task_id: str):
    """Send a rendering to a worker (called by the outbox once the transaction that asked for it committed)."""
    render_report.apply_async(args=[str(rendering_id)], task_id=task_id, ignore_result=True)


@shared_task
def fail_stale_reports() -> int:
    """Fail reports and renderings stuck running (their worker died) or queued too long; send again those
    waiting; return how many failed."""
    return services.fail_stale_reports() + renderings.fail_stale_renderings()


@shared_task
def compile_period_reports(catch_up_days: int = 30) -> int:
    """Compile the whole-plan report of each period that ended (once per period); return how many were queued."""
    return schedules.compile_period_reports(catch_up_days=catch_up_days)


@shared_task
def compile_meeting_reports(days_before: int = 7) -> int:
    """Compile a report for each meeting a week away and e-mail it to the committee once it is ready."""
    return schedules.compile_meeting_reports(days_before=days_before)


@shared_task
def remind_due_updates(days_before: int = 7) -> int:
    """E-mail reporters whose updates are due within the week and still missing; return e-mails sent."""
    return schedules.remind_due_updates(days_before=days_before)


@shared_task
def send_overdue_digest() -> int:
    """E-mail officers this week's digest of overdue updates; return e-mails sent."""
    return schedules.send_overdue_digest()
