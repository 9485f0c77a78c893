from django.contrib import admin
from django.db import models

from .models import Delivery, Webhook


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    """Show the partner endpoints, whose they are, and whether they still answer."""

    # An address typed without a scheme is read as https (Django 6's default), never as plain http.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    list_display = ("name", "url", "owner", "active", "failure_count", "switched_off_at")
    list_filter = ("active",)
    exclude = ("secret",)


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """Show each delivery, its state and the endpoint's last answer."""

    list_display = (
        "created_at", "webhook", "event", "record_kind", "record_id", "state", "attempts", "last_status_code",
    )  # fmt: skip
    list_filter = ("state", "event")
    readonly_fields = [field.name for field in Delivery._meta.fields]

    def has_add_permission(self, request):
        return False
