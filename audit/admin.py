"""The access log in the admin: searched and filtered, exported as CSV, never changed."""

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from actionplan.exports import streamed_csv
from portal.admin import RecordAdmin

from .models import AccessEvent
from .services import record


def csv_response(events, filename: str) -> StreamingHttpResponse:
    """Stream the events as CSV (``streamed_csv``)."""
    columns = [_("When (UTC)"), _("User"), _("What"), _("Object type"), _("Object"), _("Label"), _("Address")]
    rows = (
        [
            event.at.isoformat(),
            event.username,
            event.get_kind_display(),
            event.object_type,
            event.object_id,
            event.label,
            event.address,
        ]
        for event in events.iterator(chunk_size=2_000)
    )
    return streamed_csv(columns, rows, filename)


@admin.register(AccessEvent)
class AccessEventAdmin(RecordAdmin):
    """Read the log; nobody adds, changes or deletes an event here (the purge command removes old ones)."""

    list_display = ["at", "username", "kind", "object_type", "object_id", "label", "address"]
    list_filter = ["kind", ("at", admin.DateFieldListFilter), "object_type"]
    search_fields = ["username", "object_type", "object_id", "label", "address"]
    date_hierarchy = "at"
    actions = ["export_selected"]
    list_per_page = 100
    # The user may be gone (no database constraint): show the username kept with the event instead.
    exclude = ["user"]

    def get_urls(self):
        export = path("export/", self.admin_site.admin_view(self.export_view), name="audit_accessevent_export")
        return [export, *super().get_urls()]

    def export_view(self, request):
        """Export the list as filtered and searched on the change list (its query string carried over)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            events = self.get_changelist_instance(request).get_queryset(request)
        except IncorrectLookupParameters:
            return HttpResponseBadRequest(_("Unknown filter in the address: export from the list's own filters."))
        return _logged_export(request, events, label=request.GET.urlencode())

    @admin.action(description=gettext_lazy("Export the selected events to CSV"))
    def export_selected(self, request, queryset):
        # The selection is named by its size: its ids would not fit the label.
        return _logged_export(request, queryset.order_by("-at", "-id"), label=f"selection of {queryset.count()}")


def _logged_export(request, events, *, label: str) -> StreamingHttpResponse:
    """Stream the export, and log it first (an export of the log is an export like any other)."""
    filename = f"access-log-{timezone.localdate():%Y-%m-%d}"
    kind = AccessEvent.Kind.EXPORT
    logged = record(request, kind, object_type="access log", object_id=f"{filename}.csv", label=label)
    # Written before the rows are read (a download cut short is still logged), and left out of them.
    return csv_response(events.exclude(pk=logged.pk), filename)
