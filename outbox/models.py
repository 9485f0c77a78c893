"""A job for the workers, written in the transaction of the change that asks for it."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

# A message neither sent nor given up: the drain still sends it.
PENDING = Q(sent_at__isnull=True, failed_at__isnull=True)


class Message(models.Model):
    """Hand a job to the workers' queue once the change that asks for it is committed.

    ``sender`` is the dotted path of a function that publishes one Celery task (its
    ``apply_async``), called with ``kwargs``. A message is pending until ``sent_at`` is
    set, or until ``failed_at`` is: given up after it failed ``MAX_FAILURES`` times for a
    reason of its own (not the queue being down). ``claimed_until`` is set while one process
    sends it, so that another process leaves it alone, and lapses if that process dies
    before it finishes.
    """

    sender = models.CharField(_("sender"), max_length=200)
    kwargs = models.JSONField(_("arguments"), default=dict)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    # Failures of the message itself (a sender no longer importable, arguments it refuses);
    # the queue being unreachable is not one.
    failures = models.PositiveIntegerField(_("failures"), default=0)
    failed_at = models.DateTimeField(_("given up at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        indexes = [models.Index(fields=["created_at"], name="outbox_pending", condition=PENDING)]

    def __str__(self):
        return f"{self.sender} {self.kwargs}"

    @property
    def is_pending(self) -> bool:
        return self.sent_at is None and self.failed_at is None
