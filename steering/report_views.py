"""Pages of the progress reports: ask for one, watch it compile, download it in any language, compare two."""

import uuid

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal import ratelimit
from portal.errors import DomainError, NotAllowed

from . import signoff
from .forms import DeclineForm
from .models import ProgressReport, ReportRendering
from .report_forms import ReportRequestForm
from .reports import compare, endorsement, languages, renderings, services
from .reports.files import download
from .reports.labels import labels
from .selectors import current_plan_or_404
from .views import committee_only

PAGE_SIZE = 50
# The compare page lists at most this many rows per table; the workbooks hold the rest.
COMPARE_ROWS = 200
LIGHT = ("snapshot",)


def _visible(request):
    return (
        ProgressReport.objects.visible_to(request.user)
        .select_related("period", "focus_area", "requested_by", "version")
        .defer("version__snapshot")
    )


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
                version=form.cleaned_data["version"],
                language=form.cleaned_data["language"] or languages.active(),
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
    # The plan's committee: its co-chairs sign the report's endorsement.
    report = get_object_or_404(_visible(request).select_related("plan__committee").defer(*LIGHT), pk=pk)
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
    succeeded = report.state == ProgressReport.State.SUCCEEDED
    return render(
        request,
        "steering/report_detail.html",
        {
            "report": report,
            "signoff": signoff.panel(report, request.user, kind=endorsement.REPORT.key) if succeeded else None,
            "decline_form": DeclineForm(),
            "may_submit": succeeded and endorsement.may_submit(request.user),
            "summary": parts.get("snapshot__summary") or [],
            "totals": parts.get("snapshot__totals"),
            "previous": parts.get("snapshot__changes__previous"),
            "compiled_at": parse_datetime(parts.get("snapshot__compiled_at") or ""),
            "others": others if report.state == ProgressReport.State.SUCCEEDED else [],
            "names": labels(),
            **(_languages(report) if report.state == ProgressReport.State.SUCCEEDED else {}),
        },
    )


def _languages(report) -> dict:
    """Each of the portal's languages with the state of the report's files in it, and links to them."""
    found = {rendering.language: rendering for rendering in report.renderings.all()}
    rows = []
    for code, name in settings.LANGUAGES:
        rendering = found.get(code)
        state = ProgressReport.State.SUCCEEDED if code == report.language else rendering and rendering.state
        rows.append(
            {
                "code": code,
                "name": name,
                "state": state or "",
                "error": rendering.error if rendering and code != report.language else "",
                "pdf": f"{reverse('report-pdf', args=[report.pk])}?language={code}",
                "xlsx": f"{reverse('report-xlsx', args=[report.pk])}?language={code}",
            }
        )
    return {
        "languages": rows,
        "languages_in_progress": any(row["state"] in ReportRendering.IN_PROGRESS for row in rows),
    }


@committee_only
def report_languages(request, pk):
    """Answer the languages card alone, for htmx to poll while a language is being rendered."""
    report = get_object_or_404(_visible(request).defer(*LIGHT), pk=pk, state=ProgressReport.State.SUCCEEDED)
    return render(request, "steering/includes/report_languages.html", {"report": report, **_languages(report)})


@committee_only
@require_POST
@ratelimit.limit("report")
def report_render(request, pk):
    """Ask for the report's files in another language; the languages card shows them being rendered."""
    report = get_object_or_404(_visible(request).defer(*LIGHT), pk=pk, state=ProgressReport.State.SUCCEEDED)
    _ask_rendering(request, report, languages.or_english(request.POST.get("language")))
    if request.htmx:
        return render(request, "steering/includes/report_languages.html", {"report": report, **_languages(report)})
    return redirect(reverse("report-detail", args=[report.pk]) + "#report-languages")


def _ask_rendering(request, report, language):
    try:
        rendering = renderings.request_rendering(report=report, language=language)
    except DomainError as error:
        messages.error(request, error.message)
        return
    if rendering is not None and rendering.state != ReportRendering.State.SUCCEEDED:
        messages.info(
            request,
            _("The report is being prepared in %(language)s: its files appear below in a moment.")
            % {"language": dict(settings.LANGUAGES)[language]},
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
    """Send the report's frozen PDF or XLSX, in the language asked for (``?language=``; English when it is unknown,
    the report's own when none is named). One not rendered yet is asked for, and the report's page shows it coming.
    """
    report = get_object_or_404(_visible(request).defer(*LIGHT), pk=pk)
    if report.state != ProgressReport.State.SUCCEEDED:
        raise Http404(_("This report has no file yet."))
    language = languages.or_english(request.GET["language"]) if "language" in request.GET else report.language
    stored = renderings.stored_file(report, language, kind)
    if not stored:
        _ask_rendering(request, report, language)
        return redirect(reverse("report-detail", args=[report.pk]) + "#report-languages")
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
@require_POST
def report_submit(request, pk):
    """Submit a compiled report for the endorsement of both parties."""
    report = get_object_or_404(_visible(request).defer(*LIGHT), pk=pk)
    try:
        endorsement.submit_for_endorsement(by=request.user, report=report)
    except NotAllowed as error:
        raise PermissionDenied(error.message) from error
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Report submitted for endorsement: the co-chairs are told."))
    return redirect(reverse("report-detail", args=[report.pk]) + "#signoff")


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
