"""The plan's versions and change requests: history, comparison and its export, propose, decide, rebase."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from actionplan import change_requests, versions
from actionplan.change_forms import FORMS, CompareForm, RejectForm
from actionplan.models import ActionPlan, ChangeApproval, ChangeRequest, PlanVersion
from portal.errors import DomainError
from portal.roles import is_officer, sees_whole_plan

# The kinds as they appear in addresses.
KINDS = {"focus-area": "focus_area", "objective": "objective", "activity": "activity", "indicator": "indicator"}
SLUGS = {kind: slug for slug, kind in KINDS.items()}
DECIDED_SHOWN = 50


def whole_plan_only(view):
    """Open a page to the programme officers and the committee, who read the whole plan (restricted
    activities included, which versions hold)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not sees_whole_plan(request.user):
            raise PermissionDenied(_("The plan's versions are open to the programme officers and the committee."))
        return view(request, *args, **kwargs)

    return login_required(wrapper)


def _current_plan():
    return get_object_or_404(ActionPlan.objects.current())


@whole_plan_only
def version_list(request):
    """List the plan's versions, newest first, and its change requests, open ones first."""
    plan = _current_plan()
    plan_versions = list(
        PlanVersion.objects.filter(plan=plan)
        .defer("snapshot")
        .select_related("endorsed_by", "change_request")
        .order_by("-major", "-minor")
    )
    changes = (
        ChangeRequest.objects.visible_to(request.user)
        .filter(plan=plan)
        .select_related("proposed_by", "proposed_for", "base_version", "applied_version")
        .order_by("-created_at")
    )
    numbers = [version.number for version in plan_versions]
    for version, previous in zip(plan_versions, plan_versions[1:], strict=False):
        version.previous_number = previous.number
    form = CompareForm(
        initial={"older": numbers[1] if len(numbers) > 1 else None, "newer": numbers[0] if numbers else None},
        numbers=numbers,
    )
    return render(
        request,
        "actionplan/versions.html",
        {
            "plan": plan,
            "versions": plan_versions,
            # Every one awaiting a decision; the latest decided ones.
            "open_changes": list(changes.filter(state=ChangeRequest.State.PROPOSED)),
            "closed_changes": list(changes.exclude(state=ChangeRequest.State.PROPOSED)[:DECIDED_SHOWN]),
            "form": form,
        },
    )


def _compared(request, plan):
    """The two versions asked for (``older``, ``newer`` numbers) and their differences, or 404."""
    wanted = {}
    for name in ("older", "newer"):
        major, _dot, minor = request.GET.get(name, "").partition(".")
        if not (major.isdigit() and minor.isdigit()):
            raise Http404(_("Choose two versions to compare, e.g. 1.0 and 1.1."))
        wanted[name] = (int(major), int(minor))
    asked = Q()
    for major, minor in wanted.values():
        asked |= Q(major=major, minor=minor)
    found = {
        (version.major, version.minor): version
        for version in PlanVersion.objects.filter(asked, plan=plan).select_related("change_request")
    }
    older, newer = found.get(wanted["older"]), found.get(wanted["newer"])
    if older is None or newer is None:
        raise Http404(_("No such version of the plan."))
    return older, newer, versions.compare(older.snapshot, newer.snapshot)


@whole_plan_only
def version_compare(request):
    """Show what was added, removed and changed from one version to another, object by object."""
    plan = _current_plan()
    older, newer, differences = _compared(request, plan)
    numbers = list(PlanVersion.objects.filter(plan=plan).order_by("-major", "-minor").values_list("major", "minor"))
    form = CompareForm(request.GET, numbers=[f"{major}.{minor}" for major, minor in numbers])
    counts = {action: sum(1 for d in differences if d.action == action) for action in ("added", "removed", "changed")}
    return render(
        request,
        "actionplan/version_compare.html",
        {
            "plan": plan,
            "older": older,
            "newer": newer,
            "differences": differences,
            "counts": counts,
            "form": form,
            "query": request.GET.urlencode(),
        },
    )


@whole_plan_only
def version_compare_export(request, file_format):
    """Download the differences between two versions as a workbook (XLSX) or as CSV."""
    if file_format not in ("xlsx", "csv"):
        raise Http404
    plan = _current_plan()
    older, newer, differences = _compared(request, plan)
    name = f"{plan.code}-{older.number}-to-{newer.number}"
    if file_format == "csv":
        response = HttpResponse(versions.difference_csv(differences), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response
    title = _("%(plan)s: from version %(older)s to version %(newer)s") % {
        "plan": plan.code,
        "older": older.number,
        "newer": newer.number,
    }
    response = HttpResponse(
        versions.difference_xlsx(differences, title=title),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
    return response


@login_required
def change_propose(request, kind, code):
    """Propose a change of an object's governed fields: the form, then its difference, then submit."""
    if not is_officer(request.user):
        raise PermissionDenied(_("Only a programme officer proposes a change to the plan."))
    kind = KINDS.get(kind)
    if kind is None:
        raise Http404
    item = get_object_or_404(versions.MODELS[kind], code=code)
    version = versions.governing_version(item)
    back = _object_url(kind, item)
    if version is None:
        messages.info(request, _("No endorsed version holds %(code)s yet: edit it directly.") % {"code": item.code})
        return redirect(back)
    form = FORMS[kind](request.POST or None, instance=item)
    difference = None
    if request.method == "POST" and form.is_valid():
        values = form.proposed_values()
        if request.POST.get("action") == "submit":
            try:
                change = change_requests.propose_change(
                    by=request.user, item=item, values=values, reason=form.cleaned_data["reason"]
                )
            except DomainError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                messages.success(request, _("Change request %(number)d proposed.") % {"number": change.pk})
                return redirect("change-detail", pk=change.pk)
        try:
            difference = change_requests.preview(item=item, version=version, values=values)
        except DomainError as error:
            if not form.errors:  # a refused submission said it already
                form.add_error(None, error.message)
    return render(
        request,
        "actionplan/change_propose.html",
        {
            "form": form,
            "item": item,
            "kind_label": versions.KIND_LABELS[kind],
            "version": version,
            "difference": difference,
            "back_url": back,
        },
    )


def _object_url(kind: str, item) -> str:
    if kind == "focus_area":
        return reverse("focus-area", args=[item.code])
    if kind == "activity":
        return reverse("activity-detail", args=[item.code])
    return reverse(kind, args=[item.code])


def _change_or_404(request, pk):
    return get_object_or_404(
        ChangeRequest.objects.visible_to(request.user).select_related(
            "plan", "base_version", "applied_version", "proposed_by", "proposed_for", "decided_by"
        ).prefetch_related(Prefetch("approvals", ChangeApproval.objects.select_related("user", "organization"))),
        pk=pk,
    )  # fmt: skip


@whole_plan_only
def change_detail(request, pk):
    """Show a change request: its reason, its difference, who approved and who is awaited, and what can be done."""
    change = _change_or_404(request, pk)
    current = change_requests.current_of(change)
    outdated = change.is_open() and change_requests.is_outdated(change, current)
    return render(
        request,
        "actionplan/change_detail.html",
        {
            "change": change,
            "difference": change_requests.differences(change),
            # Where the co-chairs decide, the shared sign-off panel shows their signatures and the sign buttons.
            **(_signoff_context(change, request.user) if change.approval == ChangeRequest.Approval.CO_CHAIRS else {}),
            "current": current,
            "outdated": outdated,
            "reject_form": RejectForm(),
            **_object_urls(change),
        },
    )


def _signoff_context(change, user) -> dict:
    # Steering builds on this app: its sign-off is read here, where a page shows it, not at the top.
    from steering import signoff
    from steering.forms import DeclineForm
    from steering.plan_changes import CHANGE

    return {"signoff": signoff.panel(change, user, kind=CHANGE.key), "decline_form": DeclineForm()}


def _object_urls(change) -> dict:
    """The changed object's page, and its proposal form (to propose a rejected change again), while it exists."""
    item = versions.MODELS[change.kind].objects.filter(pk=change.object_id).only("code").first()
    if item is None:
        return {"object_url": None, "propose_again_url": None}
    return {
        "object_url": _object_url(change.kind, item),
        "propose_again_url": reverse("change-propose", args=[SLUGS[change.kind], item.code]),
    }


@require_POST
@whole_plan_only
def change_approve(request, pk):
    change = _change_or_404(request, pk)
    try:
        version = change_requests.record_approval(change=change, by=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("Change request %(number)d approved and applied: the plan is at version %(version)s now.")
            % {"number": change.pk, "version": version.number},
        )
    return redirect("change-detail", pk=change.pk)


@require_POST
@whole_plan_only
def change_reject(request, pk):
    change = _change_or_404(request, pk)
    form = RejectForm(request.POST)
    form.is_valid()
    try:
        change_requests.reject_change(change=change, by=request.user, reason=form.cleaned_data.get("reason", ""))
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Change request %(number)d rejected.") % {"number": change.pk})
    return redirect("change-detail", pk=change.pk)


@require_POST
@whole_plan_only
def change_rebase(request, pk):
    change = _change_or_404(request, pk)
    try:
        change = change_requests.rebase_change(change=change, by=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("Change request %(number)d is made against version %(version)s now: check its new difference.")
            % {"number": change.pk, "version": change.base_version.number},
        )
    return redirect("change-detail", pk=change.pk)
