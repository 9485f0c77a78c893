"""Partner endpoints told of changes in the portal, and each delivery made to them."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.models import TimeStampedModel


class Event(models.TextChoices):
    UPDATE_SUBMITTED = "update.submitted", _("Update submitted")
    UPDATE_APPROVED = "update.approved", _("Update approved")
    UPDATE_RETURNED = "update.returned", _("Update returned")
    REPORT_SUCCEEDED = "report.succeeded", _("Report compiled")
    ACTION_ITEM_CHANGED = "action_item.changed", _("Action item changed")


class WebhookQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Keep the webhooks the user may read and change: its own (each holds its owner's secret)."""
        return self.filter(owner=user) if user.is_authenticated else self.none()


class Webhook(TimeStampedModel):
    """Send a partner's endpoint the events it chose, on the records its owner may see, signed with its secret.

    The secret is kept as it is (an HMAC needs it), shown once when the webhook is made and masked after.
    ``failure_count`` counts the failed attempts since the last success; at ``WEBHOOK_MAX_FAILURES``
    the webhook is switched off and its owner told.
    """

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.CASCADE, related_name="webhooks"
    )
    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("URL"), max_length=500)
    secret = models.CharField(_("secret"), max_length=100)
    # A list of ``Event`` values: JSON rather than an array, so that SQLite keeps it too.
    events = models.JSONField(_("events"), default=list)
    active = models.BooleanField(_("active"), default=True)
    failure_count = models.PositiveIntegerField(_("failures in a row"), default=0)
    switched_off_at = models.DateTimeField(_("switched off at"), null=True, blank=True)

    objects = WebhookQuerySet.as_manager()

    class Meta:
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")
        ordering = ["name", "pk"]

    def __str__(self):
        return f"{self.name} ({self.url})"

    @property
    def masked_secret(self) -> str:
        return f"{self.secret[:4]}…"

    def event_labels(self) -> list[str]:
        return [Event(value).label for value in self.events if value in Event.values]


class DeliveryQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(state=Delivery.State.PENDING)

    def visible_to(self, user):
        """Keep the deliveries of the webhooks the user may read."""
        return self.filter(webhook__in=Webhook.objects.visible_to(user))


class Delivery(TimeStampedModel):
    """Carry one event on one record to one webhook, until the endpoint answers 2xx or the retry window ends.

    States: ``pending`` (waiting for its first or next attempt, at ``next_attempt_at``) →
    ``succeeded`` (a 2xx answer) or ``failed`` (no 2xx within ``WEBHOOK_RETRY_HOURS``). A
    delivery is sent only when no earlier one of the same webhook and record is pending, so a
    partner gets a record's events in order. ``claimed_until`` is set while a worker sends it.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("pending")
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")

    # An increasing key: "earlier" for the order per record.
    id = models.BigAutoField(primary_key=True)
    webhook = models.ForeignKey(Webhook, verbose_name=_("webhook"), on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(_("event"), max_length=40, choices=Event.choices)
    record_kind = models.CharField(_("record kind"), max_length=40)
    record_id = models.CharField(_("record id"), max_length=64)
    payload = models.JSONField(_("payload"))
    delivery_id = models.UUIDField(_("delivery id"), default=uuid.uuid4, unique=True, editable=False)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("last status code"), null=True, blank=True)
    last_response = models.TextField(_("last response"), blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        indexes = [
            models.Index(
                fields=["webhook", "record_kind", "record_id", "id"],
                name="delivery_pending_per_record",
                condition=models.Q(state="pending"),
            ),
            models.Index(fields=["next_attempt_at"], name="delivery_due", condition=models.Q(state="pending")),
        ]

    def __str__(self):
        return f"{self.event} {self.record_kind} {self.record_id} → {self.webhook_id}"
