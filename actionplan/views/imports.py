"""Spreadsheet import of updates in the browser: template, upload and dry run, confirmation, summary."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from actionplan import figures, import_runs, imports
from actionplan.models import ActionPlan, ImportRun, ReportingPeriod
from portal.errors import DomainError, WrongState
from portal.models import Office
from portal.roles import is_officer


class ImportForm(forms.Form):
    """The office and period of a template, and the filled-in file to check."""

    office = forms.ModelChoiceField(label=gettext_lazy("Office"), queryset=Office.objects.none(), to_field_name="code")
    period = forms.ModelChoiceField(
        label=gettext_lazy("Reporting period"), queryset=ReportingPeriod.objects.none(), to_field_name="code"
    )
    file = forms.FileField(label=gettext_lazy("Filled-in template (XLSX)"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        offices = Office.objects.order_by("code")
        self.fields["office"].queryset = offices if is_officer(user) else offices.filter(memberships__user=user)
        plan = ActionPlan.objects.current().first()
        self.fields["period"].queryset = ReportingPeriod.objects.filter(plan=plan).order_by("-starts_on")
        if not self.is_bound:
            # What a reporter of one office would choose anyway: its office, and the period figures stand at.
            only = list(self.fields["office"].queryset[:2])
            self.initial.setdefault("office", only[0].code if len(only) == 1 else None)
            current = figures.current_period(self.fields["period"].queryset.order_by("starts_on"))
            self.initial.setdefault("period", current.code if current else None)


@login_required
def import_start(request):
    """Download a template, or upload a filled-in one for its dry run."""
    form = ImportForm(request.POST or request.GET or None, request.FILES or None, user=request.user)
    if form.is_bound and form.is_valid():
        office, period = form.cleaned_data["office"], form.cleaned_data["period"]
        try:
            if request.method == "GET":
                content = imports.template(by=request.user, office=office, period=period)
                response = HttpResponse(content, content_type=XLSX)
                response["Content-Disposition"] = f'attachment; filename="updates-{office.code}-{period.code}.xlsx"'
                return response
            if form.cleaned_data["file"] is None:
                form.add_error("file", gettext_lazy("Choose the filled-in template."))
            else:
                held = import_runs.receive(by=request.user, upload=form.cleaned_data["file"], office=office,
                                           period=period)  # fmt: skip
                return redirect("import-detail", pk=held.pk)
        except DomainError as error:
            form.add_error("file" if error.field == "file" else None, error.message)
    return render(request, "actionplan/import_start.html", {"form": form})


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _visible_run(request, pk) -> ImportRun:
    return get_object_or_404(ImportRun.objects.visible_to(request.user).select_related("office", "period"), pk=pk)


@login_required
def import_detail(request, pk):
    """Show an import's summary: the dry run's, with the button that imports, or the import's."""
    held = _visible_run(request, pk)
    summary = held.summary
    labels = import_runs.status_labels(dry_run=summary.get("dry_run", held.is_dry_run()))
    context = {
        "run": held,
        "summary": summary,
        "counts": [(labels[status], summary.get("counts", {}).get(status, 0)) for status in imports.Status.ALL],
        "rows": [{**row, "label": labels.get(row["status"], row["status"])} for row in summary.get("rows", [])],
        "may_confirm": held.user_id == request.user.pk and held.state == ImportRun.State.CHECKED,
    }
    if request.htmx and held.is_in_progress():
        return render(request, "actionplan/includes/import_progress.html", context)
    response = render(request, "actionplan/import_detail.html", context)
    if request.htmx:
        # Done while the page polled its progress: show the whole summary.
        response["HX-Refresh"] = "true"
    return response


@login_required
@require_POST
def import_confirm(request, pk):
    """Import the updates of a file checked by its dry run."""
    held = _visible_run(request, pk)
    try:
        import_runs.confirm(by=request.user, held=held)
    except DomainError as error:
        if error.status == 403:
            raise Http404 from None
        messages.error(request, error.message)
    return redirect("import-detail", pk=held.pk)


@login_required
def import_summary_csv(request, pk):
    """Download an import's summary as CSV."""
    held = _visible_run(request, pk)
    try:
        text = import_runs.summary_csv(held)
    except WrongState as error:
        messages.error(request, error.message)
        return redirect("import-detail", pk=held.pk)
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{held.pk}-summary.csv"'
    return response
