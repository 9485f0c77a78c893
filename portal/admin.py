from django.contrib import admin
from django.db import transaction

from audit import services as audit

from .models import (
    ApiToken,
    Country,
    EmailFailure,
    HealthPing,
    IdempotencyKey,
    Membership,
    Notification,
    Office,
    Organization,
    Profile,
    Tombstone,
)


class RecordAdmin(admin.ModelAdmin):
    """A record the portal writes and keeps (access events, sent e-mails, renderings): the admin reads it,
    and nobody adds, changes or deletes it here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind"]
    list_filter = ["kind"]
    search_fields = ["code", "name"]


@admin.register(Country)
class CountryAdmin(admin.ModelAdmin):
    list_display = ["iso3", "name", "region", "continent"]
    list_filter = ["continent", "region"]
    search_fields = ["iso3", "iso2", "name"]


@admin.register(Office)
class OfficeAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "organization", "kind", "country", "city"]
    list_filter = ["organization", "kind", "country__region"]
    list_select_related = ["organization", "country"]
    search_fields = ["code", "name", "city", "country__name"]
    autocomplete_fields = ["country"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "office", "role"]
    list_filter = ["role", "office__organization"]
    list_select_related = ["user", "office"]
    search_fields = ["user__username", "office__code", "office__name"]
    autocomplete_fields = ["user", "office"]


@admin.register(HealthPing)
class HealthPingAdmin(admin.ModelAdmin):
    list_display = ["created_at", "note", "worker"]
    search_fields = ["note", "worker"]
    date_hierarchy = "created_at"


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Review and revoke tokens; keys are created on the user's token page, where they are shown once.

    The expiry is shown, never changed: no token may outlive ``API_TOKEN_DAYS`` or never expire. Each
    token revoked here (one, or a selection) is written to the access log.
    """

    list_display = ["name", "user", "token_key", "created", "expiry"]
    list_select_related = ["user"]
    search_fields = ["name", "user__username", "token_key"]
    readonly_fields = ["digest", "token_key", "user", "created", "expiry"]

    def has_add_permission(self, request):
        return False

    def delete_model(self, request, obj):
        with transaction.atomic():
            audit.record_tokens_revoked([obj], why="revoked in the admin", request=request)
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            audit.record_tokens_revoked(queryset.select_related("user"), why="revoked in the admin", request=request)
            super().delete_queryset(request, queryset)


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(admin.ModelAdmin):
    list_display = ["key", "user", "status_code", "created_at"]
    list_select_related = ["user"]
    list_filter = ["status_code"]
    search_fields = ["key", "user__username"]
    readonly_fields = ["user", "key", "fingerprint", "status_code", "body", "headers", "created_at"]

    def has_add_permission(self, request):
        return False


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "language"]
    list_filter = ["organization"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    autocomplete_fields = ["user"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["subject", "recipient", "kind", "delivery", "created_at", "read_at", "emailed_at"]
    list_filter = ["kind", "delivery"]
    list_select_related = ["recipient"]
    search_fields = ["subject", "recipient__username"]
    readonly_fields = ["created_at"]
    autocomplete_fields = ["recipient"]


@admin.register(Tombstone)
class TombstoneAdmin(RecordAdmin):
    """The deletions the API's feed reports (written by the deletes themselves, purged after TOMBSTONE_DAYS)."""

    list_display = ["kind", "identifier", "deleted_at", "everyone", "office"]
    list_filter = ["kind", "everyone"]
    search_fields = ["identifier"]
    date_hierarchy = "deleted_at"


@admin.register(EmailFailure)
class EmailFailureAdmin(RecordAdmin):
    """The e-mails the mail server refused or could not take, kept a week for the metrics."""

    list_display = ["kind", "failed_at"]
    list_filter = ["kind"]
    date_hierarchy = "failed_at"
