from django.contrib import admin

from .models import Country, HealthPing, Membership, Office, Organization


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
