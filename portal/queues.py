"""Which Celery queue each kind of job waits in, so that a burst of one kind never delays another.

Reports (and spreadsheet imports, the other long job) wait in ``reports``; e-mails and reminders
in ``email``; webhook deliveries in ``webhooks``; the sweepers and purges in ``housekeeping``.
Each queue's name starts with ``CELERY_QUEUE_PREFIX``, so that two portals (or two test runs) can
share one Redis. A worker takes the queues named by ``-Q`` (README, "Deployment"); any task not
listed here goes to ``housekeeping`` (a test asks that every task of the portal be listed).
"""

from django.conf import settings

REPORTS = "reports"
EMAIL = "email"
WEBHOOKS = "webhooks"
HOUSEKEEPING = "housekeeping"
KINDS = (REPORTS, EMAIL, WEBHOOKS, HOUSEKEEPING)

QUEUE_OF_TASK = {
    "steering.tasks.compile_report": REPORTS,
    "steering.tasks.render_report": REPORTS,
    "steering.tasks.compile_period_reports": REPORTS,
    "steering.tasks.compile_meeting_reports": REPORTS,
    "actionplan.tasks.run_import": REPORTS,
    "steering.tasks.remind_due_updates": EMAIL,
    "steering.tasks.send_overdue_digest": EMAIL,
    "portal.tasks.send_batched_notifications": EMAIL,
    "portal.tasks.send_notification_digests": EMAIL,
    "webhooks.tasks.send_delivery": WEBHOOKS,
    "webhooks.tasks.send_due_deliveries": WEBHOOKS,
    "portal.tasks.ping": HOUSEKEEPING,
    "portal.tasks.purge_idempotency_keys": HOUSEKEEPING,
    "portal.tasks.purge_tombstones": HOUSEKEEPING,
    "portal.tasks.purge_expired_tokens": HOUSEKEEPING,
    "audit.tasks.purge_old_access_events": HOUSEKEEPING,
    "outbox.tasks.drain_outbox": HOUSEKEEPING,
    "webhooks.tasks.purge_old_deliveries": HOUSEKEEPING,
    "steering.tasks.fail_stale_reports": HOUSEKEEPING,
    "actionplan.tasks.fail_stale_imports": HOUSEKEEPING,
}


def queue_name(kind: str, prefix: str | None = None) -> str:
    """The queue's name for a kind of job, with the configured prefix (or the one given, while settings load)."""
    return f"{settings.CELERY_QUEUE_PREFIX if prefix is None else prefix}{kind}"


def route(name, args, kwargs, options, task=None, **kw):
    """Celery's router (``CELERY_TASK_ROUTES``): the queue of the task's kind, read at sending time."""
    return {"queue": queue_name(QUEUE_OF_TASK.get(name, HOUSEKEEPING))}
