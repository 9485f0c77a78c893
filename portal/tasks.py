"""Celery tasks of the shell app."""

import socket
import time

from celery import shared_task
from django.conf import settings

from . import notifications
from .idempotency import purge_expired_keys
from .models import HealthPing, Notification
from .tokens import purge_expired_tokens as purge_old_tokens
from .tombstones import purge_tombstones as purge_old_tombstones


@shared_task
def ping(note: str = "", hold_seconds: float = 0) -> int:
    """Write a row that proves a worker ran; return its id.

    ``hold_seconds`` keeps the task busy first, to check that a task whose worker dies
    is delivered again.
    """
    time.sleep(hold_seconds)
    return HealthPing.objects.create(note=note, worker=socket.gethostname()).pk


@shared_task
def purge_idempotency_keys() -> int:
    """Forget idempotency keys past their retention; return how many."""
    return purge_expired_keys()


@shared_task
def purge_expired_tokens() -> int:
    """Delete the API tokens past their expiry; return how many."""
    return purge_old_tokens()


@shared_task
def purge_tombstones() -> int:
    """Forget the deletions older than ``TOMBSTONE_DAYS`` days; return how many."""
    return purge_old_tombstones(days=settings.TOMBSTONE_DAYS)


@shared_task
def send_batched_notifications() -> int:
    """E-mail, one e-mail per person, the notifications waiting to go out within the hour, and those
    that should have gone at once but the mail server refused."""
    return notifications.send_due(Notification.Delivery.HOURLY) + notifications.send_due(Notification.Delivery.NOW)


@shared_task
def send_notification_digests() -> int:
    """E-mail each person's daily digest of notifications."""
    return notifications.send_due(Notification.Delivery.DAILY)
