"""Celery tasks of the webhooks."""

from celery import shared_task
from django.conf import settings

from . import services


@shared_task(ignore_result=True, time_limit=120, soft_time_limit=90)
def send_delivery(delivery_id: int) -> str:
    """Send one delivery to its endpoint; return what happened."""
    return services.deliver(delivery_id=delivery_id)


def enqueue_delivery(*, delivery_id: int):
    """Send a delivery to a worker (called by the outbox once the transaction that wrote it committed)."""
    send_delivery.apply_async(args=[delivery_id], ignore_result=True)


@shared_task(ignore_result=True, time_limit=120, soft_time_limit=90)
def send_due_deliveries() -> int:
    """Hand the workers the deliveries due for another attempt; return how many."""
    return services.send_due()


@shared_task(ignore_result=True, time_limit=600, soft_time_limit=570)
def purge_old_deliveries() -> int:
    """Delete the deliveries finished more than ``WEBHOOK_KEEP_DAYS`` days ago; return how many."""
    return services.purge_deliveries(days=settings.WEBHOOK_KEEP_DAYS)
