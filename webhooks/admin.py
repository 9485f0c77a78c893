from django import forms
from django.contrib import admin
from django.db import models

from portal.errors import InvalidInput

from . import services
from .models import Delivery, Webhook


class WebhookAdminForm(forms.ModelForm):
    """Refuse, as the webhooks page does (``services.check_url``), an address no webhook is sent to.

    No ``Meta``: the admin makes the form from the model (with its ``formfield_overrides``) on this base.
    """

    def clean_url(self):
        url = self.cleaned_data["url"].strip()
        try:
            services.check_url(url)
        except InvalidInput as error:
            raise forms.ValidationError(error.message) from None
        return url


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    """Show the partner endpoints, whose they are, and whether they still answer."""

    # An address typed without a scheme is read as https (Django 6's default), never as plain http.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    form = WebhookAdminForm

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
