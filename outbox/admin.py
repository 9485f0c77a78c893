from django.contrib import admin

from .models import Message


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    """Show what waits to be sent to the workers, and why it has not gone yet."""

    list_display = ("created_at", "sender", "kwargs", "sent_at", "attempts", "last_error")
    list_filter = (("sent_at", admin.EmptyFieldListFilter),)
    readonly_fields = ("sender", "kwargs", "created_at", "claimed_until", "sent_at", "attempts", "last_error")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
