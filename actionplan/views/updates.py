"""Progress updates in the browser: write, submit, review, attach evidence."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import F, Q
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe

from actionplan import evidence as evidence_files
from actionplan import services
from actionplan.files import served_as
from actionplan.forms import TEXT_MAX_LENGTH, ApproveForm, CommentForm, EvidenceForm, ReturnForm, UpdateForm
from actionplan.models import Activity, Evidence, Indicator, ProgressUpdate, ReportingPeriod
from audit import services as audit
from portal import ratelimit, storage
from portal.errors import DomainError, NeedsConfirmation
from portal.home_data import due_pairs, period_due
from portal.models import Office
from portal.roles import is_officer

PAGE_SIZE = 50


class ReportingContextForm(forms.Form):
    """Which period and which of its offices an update is for."""

    period = forms.ModelChoiceField(
        label=gettext_lazy("Reporting period"), queryset=ReportingPeriod.objects.none(), to_field_name="code"
    )
    office = forms.ModelChoiceField(label=gettext_lazy("Office"), queryset=Office.objects.none(), to_field_name="code")

    def __init__(self, *args, activity, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["period"].queryset = ReportingPeriod.objects.filter(
            plan=activity.objective.focus_area.plan, state=ReportingPeriod.State.OPEN
        ).order_by("-starts_on")
        offices = activity.implementing_offices.order_by("code")
        if not is_officer(user):
            offices = offices.filter(memberships__user=user)
        self.fields["office"].queryset = offices
        # Preselect what leaves no choice: the only office, the current (latest open) period.
        if len(offices) == 1 and not self.initial.get("office"):
            self.initial["office"] = offices[0].code
        latest = self.fields["period"].queryset.first()
        if latest is not None and not self.initial.get("period"):
            self.initial["period"] = latest.code


def _show_error(form, error: DomainError):
    """Show a refusal beside the field at fault: the indicator's own field for a measurement rule."""
    if isinstance(error, NeedsConfirmation):
        form.warnings = error.extra["warnings"]
        return
    field = error.field if error.field in form.fields else None
    if error.extra.get("indicator") and hasattr(form, "field_of"):
        field = form.field_of(error.extra["indicator"]) or field
    form.add_error(field, error.message)


def _update_form(request, activity, **kwargs) -> UpdateForm:
    """The update form of an activity: its own indicators, then its objective's, with its countries for breakdowns."""
    indicators = Indicator.objects.filter(Q(activity=activity) | Q(objective=activity.objective_id)).order_by(
        F("activity").asc(nulls_last=True), "code"
    )
    return UpdateForm(
        request.POST or None,
        request.FILES or None,
        indicators=indicators,
        countries=activity.beneficiary_countries.order_by("name"),
        **kwargs,
    )


def _asks_to_confirm(form) -> bool:
    return not form.cleaned_data.get("confirm_warnings")


def visible_update(request, pk):
    """The update, if the user may see it; else 404."""
    queryset = ProgressUpdate.objects.visible_to(request.user).with_details()
    try:
        return queryset.get(pk=pk)
    except (ProgressUpdate.DoesNotExist, ValueError, forms.ValidationError):
        raise Http404 from None


@login_required
def update_create(request, code):
    """Write an office's update on an activity: save it as a draft or submit it."""
    activity = get_object_or_404(
        Activity.objects.visible_to(request.user).select_related("objective__focus_area__plan"), code=code
    )
    if not services.may_report_on(request.user, activity):
        raise PermissionDenied(
            _("Only the offices that implement this activity, and the programme officers, report on it.")
        )
    if request.method == "GET":
        audit.record_restricted_view(request, activity)
    context_form = ReportingContextForm(
        request.POST or None,
        activity=activity,
        user=request.user,
        initial={"period": request.GET.get("period"), "office": request.GET.get("office")},
    )
    form = _update_form(request, activity)
    if request.method == "POST" and context_form.is_valid() and form.is_valid():
        existing = ProgressUpdate.objects.filter(
            activity=activity, period=context_form.cleaned_data["period"], office=context_form.cleaned_data["office"]
        ).first()
        if existing is not None:
            messages.info(request, _("This office already has an update for this period; here it is."))
            return redirect("update-detail", pk=existing.pk)
        try:
            with transaction.atomic():
                update = services.create_update(
                    by=request.user,
                    activity=activity,
                    period=context_form.cleaned_data["period"],
                    office=context_form.cleaned_data["office"],
                    measurements=form.measurements(),
                    source=ProgressUpdate.Source.WEB,
                    ask_to_confirm=_asks_to_confirm(form),
                    **form.changes(),
                )
                # Evidence goes with the draft; only then is the whole submitted.
                if form.cleaned_data["evidence"]:
                    evidence_files.add_evidence(by=request.user, update=update, upload=form.cleaned_data["evidence"])
                if "submit" in request.POST:
                    update = services.submit_update(by=request.user, update=update)
        except DomainError as error:
            _show_error(context_form if error.field in ("period", "office") else form, error)
        else:
            messages.success(
                request,
                _("Update submitted for review.")
                if update.state == ProgressUpdate.State.SUBMITTED
                else _("Draft saved."),
            )
            return redirect("update-detail", pk=update.pk)
    return render(
        request,
        "actionplan/update_form.html",
        {
            "activity": activity,
            "context_form": context_form,
            "form": form,
            "update": None,
            "file_to_choose_again": _file_not_kept(request),
        },
    )


@login_required
def update_edit(request, pk):
    update = visible_update(request, pk)
    if not services.may_edit(request.user, update):
        raise PermissionDenied(_("Only the office that wrote this update, and the programme officers, change it."))
    if request.method == "GET":
        audit.record_restricted_view(request, update.activity, update)
    form = _update_form(request, update.activity, initial=UpdateForm.initial_for(update))
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                update = services.edit_update(
                    by=request.user,
                    update=update,
                    expected_version=form.cleaned_data["version"] or 0,
                    changes=form.changes(),
                    measurements=form.measurements(),
                    ask_to_confirm=_asks_to_confirm(form),
                )
                if form.cleaned_data["evidence"]:
                    evidence_files.add_evidence(by=request.user, update=update, upload=form.cleaned_data["evidence"])
                if "submit" in request.POST:
                    update = services.submit_update(by=request.user, update=update)
        except DomainError as error:
            _show_error(form, error)
        else:
            messages.success(
                request,
                _("Update submitted for review.")
                if update.state == ProgressUpdate.State.SUBMITTED
                else _("Draft saved."),
            )
            return redirect("update-detail", pk=update.pk)
    return render(
        request,
        "actionplan/update_form.html",
        {
            "activity": update.activity,
            "form": form,
            "update": update,
            "blocked": _why_not_editable(update),
            "attached": update.evidence.all(),
            "file_to_choose_again": _file_not_kept(request),
        },
    )


def _file_not_kept(request) -> str:
    """The name of a file chosen in a form shown again: browsers never keep a chosen file, so say so."""
    chosen = request.FILES.get("evidence") if request.method == "POST" else None
    return chosen.name if chosen else ""


def _why_not_editable(update):
    if not update.period.is_open():
        return _("Reporting period %(period)s is locked: this update can no longer change.") % {
            "period": update.period.code
        }
    if update.state not in services.EDITABLE_STATES:
        return _("This update is %(state)s: it can no longer change.") % {"state": update.get_state_display().lower()}
    return None


def render_update(request, update, *, return_form=None, approve_form=None, comment_form=None, status=200):
    """The update's page: its figures, its conversation, and what the user may do with it."""
    queue = request.GET.urlencode() if request.method == "GET" else request.POST.get("queue", "")
    return render(
        request,
        "actionplan/update_detail.html",
        {
            "update": update,
            "may_edit": services.may_edit(request.user, update),
            "may_review": is_officer(request.user),
            "may_comment": services.may_edit(request.user, update)
            and update.state != ProgressUpdate.State.APPROVED
            and update.closed_out_at is None,
            "blocked": _why_not_editable(update),
            "evidence_form": EvidenceForm(),
            "return_form": return_form or ReturnForm(initial={"version": update.version}),
            "approve_form": approve_form or ApproveForm(initial={"version": update.version}),
            "comment_form": comment_form or CommentForm(),
            "conversation": update.comments.select_related("author"),
            "queue": queue,
            "history": update.history.select_related("history_user").order_by("-history_date")[:20],
        },
        status=status,
    )


@login_required
def update_detail(request, pk):
    update = visible_update(request, pk)
    audit.record_restricted_view(request, update.activity, update)
    return render_update(request, update)


def _act(request, pk, act, success):
    update = visible_update(request, pk)
    try:
        act(update)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, success)
    return redirect("update-detail", pk=update.pk)


@login_required
@require_POST
def update_submit(request, pk):
    # Kept as written, without the NUL a database refuses and beyond the length a note may have.
    note = request.POST.get("note", "").replace("\x00", "")[:TEXT_MAX_LENGTH]
    return _act(
        request,
        pk,
        lambda update: services.submit_update(by=request.user, update=update, note=note),
        _("Update submitted for review."),
    )


@login_required
@require_POST
def update_withdraw(request, pk):
    return _act(
        request,
        pk,
        lambda update: services.withdraw_update(by=request.user, update=update),
        _("Update withdrawn: it is a draft again, and yours to change."),
    )


@login_required
@require_POST
def update_comment(request, pk):
    """Add a message to the update's conversation; the text is kept when it is refused."""
    update = visible_update(request, pk)
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            services.add_comment(by=request.user, update=update, text=form.cleaned_data["text"])
        except DomainError as error:
            form.add_error("text", error.message)
        else:
            messages.success(request, _("Message added to the conversation."))
            return redirect(f"{reverse('update-detail', args=[update.pk])}#conversation")
    return render_update(request, update, comment_form=form, status=400)


@login_required
@require_POST
def evidence_upload(request, pk):
    update = visible_update(request, pk)
    form = EvidenceForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choose a file to upload."))
        return redirect("update-detail", pk=update.pk)
    return _act(
        request,
        pk,
        lambda update: evidence_files.add_evidence(by=request.user, update=update, upload=form.cleaned_data["file"]),
        _("File added."),
    )


@login_required
@require_POST
def evidence_remove(request, pk):
    """Remove an evidence file from a draft or returned update; back to where the officer or reporter was."""
    evidence = get_object_or_404(
        Evidence.objects.visible_to(request.user).select_related("update"),
        pk=pk,
    )
    name, update = evidence.original_name, evidence.update
    try:
        evidence_files.remove_evidence(by=request.user, evidence=evidence)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("%(name)s removed.") % {"name": name})
    back = "update-edit" if request.POST.get("back") == "edit" else "update-detail"
    return redirect(back, pk=update.pk)


@login_required
@require_POST
def evidence_publish(request, pk):
    """Make a file public, or no longer (programme officers); back to its update."""
    evidence = get_object_or_404(
        Evidence.objects.visible_to(request.user).select_related("update__activity"),
        pk=pk,
    )
    public = request.POST.get("public") == "1"
    try:
        evidence_files.publish_evidence(by=request.user, evidence=evidence, public=public)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        done = _("%(name)s is public once its update is approved.") if public else _("%(name)s is no longer public.")
        messages.success(request, done % {"name": evidence.original_name})
    return redirect("update-detail", pk=evidence.update_id)


def _attachment(evidence: Evidence) -> FileResponse:
    """An evidence file as an attachment (never rendered inline), named and typed by its sniffed content type,
    never by the extension it was uploaded with."""
    filename, content_type = served_as(evidence.original_name, evidence.content_type)
    handle = storage.open_for_download(evidence.file)
    return FileResponse(handle, as_attachment=True, filename=filename, content_type=content_type)


@require_safe
@ratelimit.limit("public_file", methods=("GET", "HEAD"), when=lambda request: not request.user.is_authenticated)
def evidence_public(request, pk):
    """Serve a published file to anyone, signed in or not: the IATI export links here. Not written to the
    access log, which records who read what is not public."""
    response = _attachment(get_object_or_404(Evidence.objects.published(), pk=pk))
    # A cache may keep the file but must ask again before serving it: one made private stops being served.
    # (A signed-in reader's answer is "private, no-store", portal.headers.)
    response["Cache-Control"] = "no-cache"
    return response


@login_required
def evidence_download(request, pk):
    """Serve an evidence file to those who may see its update."""
    evidence = get_object_or_404(Evidence.objects.visible_to(request.user), pk=pk)
    response = _attachment(evidence)  # read from the store first: a download that failed is not logged
    audit.record(request, audit.Kind.EVIDENCE_DOWNLOAD, evidence, label=evidence.original_name)
    return response


@login_required
@require_safe
def due_updates(request):
    """List every (activity, office) pair of the user's offices due for an open period (the one ``?period=``
    names, else the current plan's latest), with its update when one is written: the home lists the first."""
    period = period_due(request.GET.get("period"))
    if period is None:
        raise Http404("No such reporting period is open.")
    page = Paginator(due_pairs(request.user, period), PAGE_SIZE).get_page(request.GET.get("page"))
    # A full list, not a home's short one: each restricted activity it shows is logged.
    audit.record_restricted_rows(request, [pair.activity for pair in page])
    query = urlencode({"period": period.code})
    return render(request, "actionplan/due_updates.html", {"period": period, "page": page, "period_query": query})


@login_required
def my_updates(request):
    """List the updates of the user's offices that need its attention: returned, drafts, then the rest."""
    updates = (
        ProgressUpdate.objects.visible_to(request.user)
        .filter(office__memberships__user=request.user)
        .select_related("activity", "period", "office")
        .order_by("-period__starts_on", "activity__code", "pk")
    )
    page = Paginator(updates, PAGE_SIZE).get_page(request.GET.get("page"))
    audit.record_restricted_rows(request, page)  # read once here; the template shows the same list
    return render(request, "actionplan/my_updates.html", {"page": page})
