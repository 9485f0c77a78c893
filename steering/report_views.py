"""Pages of the progress reports: ask for one, watch it compile, download it, compare two."""

import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal import ratelimit
from portal.errors import DomainError, NotAllowed

from .models import ProgressReport
from .report_forms import ReportRequestForm
from .reports import compare, services
from .reports.files import download
from .reports.labels import labels
from .selectors import current_plan_or_404
from .views import committee_only

PAGE_SIZE = 50
# The compare page lists at most this many rows per table; the workbooks hold the rest.
COMPARE_ROWS = 200
LIGHT = ("snapshot",)


def _visible(request):
    return ProgressReport.objects.visible_to(request.user).select_related("period", "focus_area", "requested_by")


@committee_only
@ratelimit.limit("report")
def report_list(request):
    """List the reports, newest first, and ask for a new one."""
    plan = current_plan_or_404()
    form = ReportRequestForm(request.POST or None, plan=plan)
    if request.method == "POST" and form.is_valid():
        try:
            report, created = services.request_report(
                by=request.user,
                plan=plan,
                period=form.cleaned_data["period"],
                focus_area=form.cleaned_data["focus_area"],
            )
        except NotAllowed as error:
            raise PermissionDenied(error.message) from error
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            if created:
                messages.success(request, _("Report requested: it compiles in the background."))
            else:
                messages.info(request, _("An identical report is already being compiled: here it is."))
            return redirect(report)
    reports = _visible(request).defer(*LIGHT).order_by("-created_at", "pk")
    page = Paginator(reports, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request, "steering/report_list.html", {"form": form, "page": page}, status=400 if form.errors else 200
    )


@committee_only
def report_detail(request, pk):
    """Show a report's state, a live progress bar while it compiles, then its summary and downloads."""
    report = get_object_or_404(_visible(request).defer(*LIGHT), pk=pk)
    parts = {}
    if report.state == ProgressReport.State.SUCCEEDED:
        # Only the summary parts of the snapshot: at scale the whole of it is megabytes.
        parts = (
            ProgressReport.objects.filter(pk=report.pk)
            .values("snapshot__summary", "snapshot__totals", "snapshot__changes__previous", "snapshot__compiled_at")
            .get()
        )
    others = (
        _visible(request)
        .defer(*LIGHT)
        .filter(plan=report.plan_id, focus_area=report.focus_area_id, state=ProgressReport.State.SUCCEEDED)
        .exclude(pk=report.pk)
        .order_by("-finished_at")[:20]
    )
    return render(
        request,
        "steering/report_detail.html",
        {
            "report": report,
            "summary": parts.get("snapshot__summary") or [],
            "totals": parts.get("snapshot__totals"),
            "previous": parts.get("snapshot__changes__previous"),
            "compiled_at": parse_datetime(parts.get("snapshot__compiled_at") or ""),
            "others": others if report.state == ProgressReport.State.SUCCEEDED else [],
            "names": labels(),
        },
    )


@committee_only
def report_state(request, pk):
    """Answer the state card alone, for htmx to poll while the report compiles."""
    report = get_object_or_404(_visible(request).defer(*LIGHT), pk=pk)
    response = render(request, "steering/includes/report_state.html", {"report": report})
    if not report.is_in_progress() and request.headers.get("HX-Request"):
        # Done: reload the whole page, which now shows the summary and the downloads.
        response["HX-Refresh"] = "true"
    return response


@committee_only
def report_download(request, pk, kind):
    """Send the report's frozen PDF or XLSX."""
    report = get_object_or_404(_visible(request).defer(*LIGHT), pk=pk)
    stored = report.pdf if kind == "pdf" else report.xlsx
    if report.state != ProgressReport.State.SUCCEEDED or not stored:
        raise Http404(_("This report has no file yet."))
    return download(request, report, stored)


@committee_only
@require_POST
@ratelimit.limit("report")
def report_retry(request, pk):
    """Queue a failed report again."""
    report = get_object_or_404(_visible(request).defer(*LIGHT), pk=pk)
    try:
        report = services.retry_report(by=request.user, report=report)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Report queued again."))
    return redirect(report)


@committee_only
def report_compare(request):
    """Compare two succeeded reports of the same scope: RAG changes, completions, indicator movement."""
    ids = [request.GET.get("a", ""), request.GET.get("b", "")]
    if not _are_uuids(ids):
        raise Http404(_("Choose two compiled reports you may see."))
    found = list(_visible(request).filter(pk__in=ids, state=ProgressReport.State.SUCCEEDED))
    if len(found) != 2:
        raise Http404(_("Choose two compiled reports you may see."))
    old, new = sorted(found, key=lambda report: report.finished_at)
    context = {"old": old, "new": new, "names": labels(), "limit": COMPARE_ROWS}
    if (old.plan_id, old.focus_area_id) != (new.plan_id, new.focus_area_id):
        context["error"] = _("These reports cover different scopes; only reports of the same scope compare.")
        return render(request, "steering/report_compare.html", context, status=400)
    changes = compare.diff(old.snapshot, new.snapshot)
    context["changes"] = changes
    context["counts"] = {key: len(value) for key, value in changes.items()}
    context["shown"] = {key: value[:COMPARE_ROWS] for key, value in changes.items()}
    return render(request, "steering/report_compare.html", context)


def _are_uuids(values) -> bool:
    try:
        for value in values:
            uuid.UUID(value)
    except ValueError:
        return False
    return True
