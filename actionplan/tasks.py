"""Celery tasks of the actionplan app: run a large spreadsheet import; fail those no worker finishes.

Acknowledgement is late and a task whose worker dies is delivered again; running an import twice does
no harm (the second finds every row unchanged).
"""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from . import import_runs


@shared_task(autoretry_for=(OperationalError, InterfaceError), retry_backoff=5, retry_backoff_max=120,
             retry_jitter=True, max_retries=5, soft_time_limit=1800, time_limit=1900)  # fmt: skip
def run_import(run_id: int) -> str:
    """Check or import one queued spreadsheet; return the run's state afterwards."""
    return import_runs.run_job(run_id=run_id)


def enqueue_import(*, run_id: int):
    """Send a queued import to a worker (called by the outbox once the upload committed)."""
    run_import.apply_async(args=[run_id], ignore_result=True)


@shared_task(soft_time_limit=300, time_limit=360)
def fail_stale_imports() -> int:
    """Fail imports queued or running with no sign of life for IMPORT_STALE_MINUTES; return how many."""
    return import_runs.fail_stale()
