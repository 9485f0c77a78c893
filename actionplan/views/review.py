"""The officers' review: the queue, approving and returning with the next update opening, bulk approval,
and what to do with updates left in locked periods."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from actionplan import paging, review_queue, services
from actionplan.forms import ApproveForm, ReturnForm
from actionplan.models import ProgressUpdate
from audit import services as audit
from portal.errors import DomainError
from portal.roles import is_officer

from .updates import render_update, visible_update

PAGE_SIZE = 50
STUCK_SHOWN = 20


def _officer(request):
    if not is_officer(request.user):
        raise PermissionDenied(_("Only programme officers review updates."))


def _queue_of(request) -> review_queue.QueueFilters:
    """The filters of the queue the officer works through, carried by the review forms as ``queue``."""
    return review_queue.QueueFilters.from_query(QueryDict(request.POST.get("queue", "")), request.user)


def _queue_url(filters: review_queue.QueueFilters) -> str:
    return f"{reverse('review-queue')}?{filters.as_query()}"


@login_required
def queue(request):
    """List what the officer can review now, filtered and counted; and, apart, what waits in locked periods."""
    _officer(request)
    filters = review_queue.QueueFilters.from_query(request.GET, request.user)
    items = review_queue.queue(request.user, filters)
    page = paging.page_of(paging.ReadInTwoSteps(items), PAGE_SIZE, request.GET.get("page"))
    stuck = review_queue.stuck_in_locked_periods(review_queue.waiting(request.user))
    stuck_shown = paging.ReadInTwoSteps(
        stuck.select_related("activity", "period", "office").order_by("period__starts_on", "submitted_at", "pk")
    )[:STUCK_SHOWN]
    # The restricted updates listed, in the queue's page and among those stuck, in one INSERT.
    audit.record_restricted_rows(request, [*page, *stuck_shown])
    query = filters.as_query()
    facets = review_queue.facets(request.user, filters)
    chosen = filters.chosen_codes()
    return render(
        request,
        "actionplan/review_queue.html",
        {
            "filters": filters,
            "facets": facets,
            "filter_fields": [
                (each.name, each.label, facets[each.name], chosen.get(each.name, ""))
                for each in review_queue.CODE_FILTERS
            ],
            "page": page,
            "query": query,
            "stuck": stuck_shown,
            "stuck_count": stuck.count(),
        },
    )


def _after_review(request, update: ProgressUpdate, done: str):
    """Open the next update of the same filtered queue, or the queue when none is left."""
    messages.success(request, done)
    filters = _queue_of(request)
    following = review_queue.next_after(request.user, filters, update)
    if following is None:
        messages.info(request, _("Nothing else waits in this queue."))
        return redirect(_queue_url(filters))
    return redirect(f"{reverse('update-detail', args=[following.pk])}?{filters.as_query()}")


def _review(request, pk, review, form, form_name: str, done: str):
    """Approve or return the update (``review``: the service) with the officer's comment, read by ``form``;
    an invalid form is shown again on the update's page as ``form_name``."""
    update = visible_update(request, pk)
    if not form.is_valid():
        return render_update(request, update, **{form_name: form}, status=400)
    try:
        review(
            by=request.user,
            update=update,
            comment=form.cleaned_data["comment"],
            expected_version=form.cleaned_data["version"],
        )
    except DomainError as error:
        messages.error(request, error.message)
        return redirect(f"{reverse('update-detail', args=[update.pk])}?{request.POST.get('queue', '')}")
    return _after_review(request, update, done)


@login_required
@require_POST
def approve(request, pk):
    return _review(
        request, pk, services.approve_update, ApproveForm(request.POST), "approve_form", _("Update approved.")
    )


@login_required
@require_POST
def return_(request, pk):
    return _review(
        request,
        pk,
        services.return_update,
        ReturnForm(request.POST),
        "return_form",
        _("Update returned to the office with your comment."),
    )


def _selection(values: list[str]) -> list[tuple[str, int]]:
    """Read the selected updates, each "id:version" as the page showed it; drop what is not."""
    selection = []
    for value in values:
        pk, _sep, version = value.partition(":")
        if version.isdigit():
            selection.append((pk, int(version)))
    return selection


@login_required
@require_POST
def approve_selected(request):
    """Approve the selected updates, each as it stood when the page was loaded; say what came of each."""
    _officer(request)
    filters = _queue_of(request)
    selection = _selection(request.POST.getlist("selected"))
    if not selection:
        messages.error(request, _("Select the updates to approve."))
        return redirect(_queue_url(filters))
    outcomes = services.approve_updates(
        by=request.user,
        updates=ProgressUpdate.objects.visible_to(request.user).select_related("activity", "period", "office"),
        selection=selection,
    )
    approved = sum(outcome.done for outcome in outcomes)
    messages.success(request, _("%(approved)d of %(selected)d updates approved.") % {
        "approved": approved, "selected": len(outcomes),
    })  # fmt: skip
    for outcome in outcomes:
        update = outcome.update
        label = f"{update.activity.code} · {update.period.code} · {update.office.code}" if update else outcome.key
        messages.add_message(
            request, messages.SUCCESS if outcome.done else messages.ERROR, f"{label}: {outcome.message}"
        )
    return redirect(_queue_url(filters))


class ReasonForm(forms.Form):
    reason = forms.CharField(required=False, max_length=2_000)


def _handle_stuck(request, pk, act, done):
    _officer(request)
    update = visible_update(request, pk)
    form = ReasonForm(request.POST)
    form.is_valid()
    try:
        act(update, form.cleaned_data.get("reason", ""))
    except DomainError as error:
        messages.error(
            request, f"{update.activity.code} · {update.period.code} · {update.office.code}: {error.message}"
        )
    else:
        messages.success(request, done)
    return redirect(_queue_url(_queue_of(request)) + "#locked")


@login_required
@require_POST
def reopen(request, pk):
    """Open one submitted update of a locked period for review."""
    return _handle_stuck(
        request,
        pk,
        lambda update, reason: services.reopen_for_review(by=request.user, update=update, reason=reason),
        _("The update is open for review: it is now in the queue."),
    )


@login_required
@require_POST
def close_out(request, pk):
    """Close out one submitted update of a locked period, with a reason."""
    return _handle_stuck(
        request,
        pk,
        lambda update, reason: services.close_out(by=request.user, update=update, reason=reason),
        _("The update is closed out with your reason."),
    )
