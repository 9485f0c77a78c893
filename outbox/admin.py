from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import Message


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    """Show what waits to be sent to the workers, why it has not gone yet, and what was given up."""

    list_display = ("created_at", "sender", "kwargs", "sent_at", "attempts", "failures", "failed_at", "last_error")
    list_filter = (("sent_at", admin.EmptyFieldListFilter), ("failed_at", admin.EmptyFieldListFilter))
    readonly_fields = (
        "sender", "kwargs", "created_at", "claimed_until", "sent_at", "attempts", "failures", "failed_at", "last_error",
    )  # fmt: skip
    actions = ["try_again"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Try the selected given-up messages again (once their fault is fixed)"))
    def try_again(self, request, queryset):
        count = queryset.filter(sent_at__isnull=True, failed_at__isnull=False).update(failed_at=None, failures=0)
        self.message_user(
            request,
            ngettext("%d message will be sent by the next drain.", "%d messages will be sent by the next drain.", count)
            % count,
            messages.SUCCESS,
        )
