from django.contrib import admin

from .models import ApiToken, Country, HealthPing, IdempotencyKey, Membership, Office, Organization


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
    """Review and revoke tokens; keys are created on the user's token page, where they are shown once."""

    list_display = ["name", "user", "token_key", "created", "expiry"]
    list_select_related = ["user"]
    search_fields = ["name", "user__username", "token_key"]
    readonly_fields = ["digest", "token_key", "user", "created"]

    def has_add_permission(self, request):
        return False


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(admin.ModelAdmin):
    list_display = ["key", "user", "status_code", "created_at"]
    list_select_related = ["user"]
    list_filter = ["status_code"]
    search_fields = ["key", "user__username"]
    readonly_fields = ["user", "key", "fingerprint", "status_code", "body", "headers", "created_at"]

    def has_add_permission(self, request):
        return False
