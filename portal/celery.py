"""The portal's Celery app: configured from Django settings (``CELERY_*``)."""

import os

from celery import Celery, signals
from django_structlog.celery.steps import DjangoStructLogInitStep

from portal import logs

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Each task's lines carry the request id of the request that started it (django-structlog).
app.steps["worker"].add(DjangoStructLogInitStep)


@signals.after_setup_logger.connect
@signals.after_setup_task_logger.connect
def _write_portal_lines(logger, **kwargs):
    from django.conf import settings

    logs.format_celery_lines(logger, settings.LOG_FORMAT)
