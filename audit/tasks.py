"""The access log's daily purge, run by Celery beat."""

from celery import shared_task
from django.conf import settings

from .services import purge_access_log


@shared_task
def purge_old_access_events() -> int:
    """Keep the last ``ACCESS_LOG_DAYS`` days of the access log."""
    return purge_access_log(days=settings.ACCESS_LOG_DAYS)
