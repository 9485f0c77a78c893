"""Celery tasks of the outbox."""

from celery import shared_task

from . import services


@shared_task
def drain_outbox() -> int:
    """Send to the queue the jobs that could not be sent when they were asked for; return how many."""
    return services.drain()
