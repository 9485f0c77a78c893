"""The steering committee's pages."""

from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Case, Count, Q, Value, When
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from actionplan.models import RAG, Activity, PlanVersion
from audit import services as audit
from portal import ratelimit
from portal.errors import DomainError, NotAllowed
from portal.models import Country
from portal.roles import is_committee, is_officer

from . import dashboard, dashboard_cache, services, signoff
from .forms import (
    ActionItemForm,
    DecisionForm,
    DeclineForm,
    MeetingForm,
    MinutesForm,
    NoteForm,
    ReviewEditForm,
    ReviewForm,
)
from .models import ActionItem, Decision, Meeting, Review
from .pdf import meeting_record_pdf
from .reports import languages
from .selectors import current_plan_or_404

CLOSED = (ActionItem.State.DONE, ActionItem.State.DROPPED)


def committee_only(view):
    """Open a page to the committee and the programme officers only."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not (is_officer(request.user) or is_committee(request.user)):
            raise PermissionDenied(
                _("The steering committee's pages are open to the committee and the programme officers.")
            )
        return view(request, *args, **kwargs)

    return login_required(wrapper)


def _charts(figures: dict, filters: dashboard.Filters) -> dict:
    """Shape the figures for Chart.js, with the register link behind every bar.

    Every link carries the dashboard's organisation and region filters, and the RAG
    links its period (``as_of``), so that the list behind a bar holds what it counts.
    """
    areas = figures["focus_areas"]
    labels = [area["code"] for area in areas]
    # The axes show the short codes; tooltips and tables the names.
    names = [f"{_(area['name'])} ({area['code']})" for area in areas]
    period = filters.period.code if filters.period else ""
    area_filter = filters.focus_area.code if filters.focus_area else ""
    trend_periods = figures["trend"]["periods"]
    scope = {"organization": filters.organization.code if filters.organization else "", "region": filters.region}

    def register_url(**query) -> str:
        chosen = {key: value for key, value in {**scope, **query}.items() if value}
        return f"{reverse('activity-list')}?{urlencode(chosen)}"

    missing = [max(area["expected"] - area["received"], 0) for area in areas]
    statuses = Activity.Status.choices
    rags = [*RAG.choices, ("none", _("Not yet approved"))]
    return {
        "status": {
            "title": _("Activities by status"),
            "labels": labels,
            "names": names,
            "datasets": [
                {"key": value, "label": label, "data": [area["status"][value] for area in areas],
                 "links": [register_url(focus_area=code, status=value) for code in labels]}
                for value, label in statuses
            ],
        },
        "rag": {
            "title": _("Activities by RAG of the latest approved update"),
            "labels": labels,
            "names": names,
            "datasets": [
                {"key": value, "label": label, "data": [area["rag"][value] for area in areas],
                 "links": [register_url(focus_area=code, rag=value, as_of=period) for code in labels]}
                for value, label in rags
            ],
        },
        "received": {
            "title": _("Updates received against expected this period"),
            "labels": labels,
            "names": names,
            "datasets": [
                {"key": "received", "label": _("Received"), "data": [area["received"] for area in areas],
                 "links": [register_url(focus_area=code, period=period) for code in labels]},
                {"key": "missing", "label": _("Missing"), "data": missing,
                 "links": [register_url(focus_area=code, period=period) for code in labels]},
            ],
        },
        "trend": {
            "title": _("Activities by RAG as they stood at each of the last periods"),
            "labels": figures["trend"]["periods"],
            "datasets": [
                {"key": value, "label": label, "data": figures["trend"]["series"][value],
                 "links": [register_url(rag=value, focus_area=area_filter, as_of=code) for code in trend_periods]}
                for value, label in RAG.choices
            ],
        },
    }  # fmt: skip


def _dashboard_body(request, filters, figures) -> str:
    countries = dashboard.named_countries(figures["countries"])
    # What was received (each office's compliance, the countries listed), the body's longest part, changes
    # with submissions, not approvals: it is kept apart, and after an approval the rest of the body alone is
    # rendered again.
    reporting = dashboard_cache.rendered(
        figures,
        f"reporting:{translation.get_language()}",
        lambda: render_to_string(
            "steering/includes/dashboard_reporting.html",
            {
                "figures": figures,
                "countries": countries,
                # The period carried on to the register by each office's link (escaped where written).
                "period_query": f"&{urlencode({'period': filters.period.code})}" if filters.period else "",
            },
            request,
        ),
        of="reporting_key",
    )
    return render_to_string(
        "steering/includes/dashboard_body.html",
        {
            "filters": filters,
            "figures": figures,
            "countries": countries,
            "charts": _charts(figures, filters),
            "reporting": reporting,
        },
        request,
    )


@committee_only
def dashboard_view(request):
    """Show where each focus area stands, from live data, filtered by period, area, organisation and region."""
    filters = dashboard_cache.chosen_filters(request.GET)
    plan = filters.plan
    figures = dashboard_cache.figures(filters, request.user)
    body = dashboard_cache.rendered(
        figures, translation.get_language(), lambda: _dashboard_body(request, filters, figures)
    )
    # The filters' choices change only with writes to the plan, which drop every cached figure; an update's
    # write, which drops one area's, leaves them.
    filter_form = dashboard_cache.rendered(
        figures,
        f"filters:{translation.get_language()}",
        lambda: render_to_string(
            "steering/includes/dashboard_filters.html",
            {
                "filters": filters,
                "choices": {
                    "periods": filters.choices.periods[::-1],
                    "focus_areas": filters.choices.focus_areas,
                    "organizations": Activity.objects.lead_organizations(),
                    "regions": Country.objects.office_regions(),
                    "versions": PlanVersion.objects.filter(plan=plan).defer("snapshot").order_by("-major", "-minor"),
                },
            },
            request,
        ),
        of="plan_key",
    )
    return render(
        request,
        "steering/dashboard.html",
        {"filters": filters, "figures": figures, "body": body, "filter_form": filter_form},
    )


def _plan_committee():
    return current_plan_or_404(related=("committee",)).committee


@committee_only
def meeting_list(request):
    committee = _plan_committee()
    meetings = committee.meetings.annotate(
        review_count=Count("reviews", distinct=True), item_count=Count("action_items", distinct=True)
    ).order_by("-date")
    form = None
    if services.may_record(request.user):
        form = MeetingForm(request.POST or None, committee=committee)
        if request.method == "POST" and form.is_valid():
            meeting = services.schedule_meeting(by=request.user, form=form)
            messages.success(request, _("Meeting scheduled."))
            return redirect("meeting-detail", pk=meeting.pk)
    elif request.method == "POST":
        raise PermissionDenied
    return render(request, "steering/meeting_list.html", {"committee": committee, "meetings": meetings, "form": form})


def _earlier_open_items(meeting):
    return (
        ActionItem.objects.filter(meeting__committee=meeting.committee, meeting__date__lt=meeting.date)
        .exclude(state__in=CLOSED)
        .select_related("meeting", "owner_user", "owner_office")
        .order_by("due_on")
    )


def _meeting_page(request, meeting, status=200, **forms):
    committee = meeting.committee
    may_record = services.may_record(request.user)
    earlier_open = _earlier_open_items(meeting)
    reviewed = set(meeting.reviews.values_list("focus_area_id", flat=True))
    areas = committee.plan.focus_areas.order_by("order")
    context = {
        "meeting": meeting,
        # Submitted for signature or approved: the record does not change (until a co-chair declines).
        "read_only": meeting.minutes_approved_at is not None or meeting.minutes_submitted_at is not None,
        "may_record": may_record,
        "signoff": signoff.panel(meeting, request.user, kind=services.MINUTES.key),
        "decline_form": DeclineForm(),
        "reviews": meeting.reviews.select_related("focus_area", "recorded_by").order_by("focus_area__order"),
        "decisions": meeting.decisions.select_related("focus_area").order_by("number"),
        "items": meeting.action_items.select_related("owner_user", "owner_office", "decision").order_by("due_on"),
        "earlier_open": earlier_open,
        "attendees": meeting.attendees.order_by("username"),
        "unreviewed": [area for area in areas if area.pk not in reviewed],
        "review_form": forms.get("review_form")
        or ReviewForm(
            meeting=meeting, initial={"focus_area": next((a.pk for a in areas if a.pk not in reviewed), None)}
        ),
        "decision_form": forms.get("decision_form") or DecisionForm(meeting=meeting),
        "item_form": forms.get("item_form") or ActionItemForm(meeting=meeting, initial={"due_on": meeting.date}),
        "minutes_form": forms.get("minutes_form") or MinutesForm(initial={"minutes": meeting.minutes}),
        "today": timezone.localdate(),
    }
    if may_record and not context["read_only"]:
        area = context["review_form"]["focus_area"].value() if forms.get("review_form") else None
        chosen = next(
            (a for a in areas if str(a.pk) == str(area)), context["unreviewed"][0] if context["unreviewed"] else None
        )
        if chosen is not None:
            context.update(_review_panel(request, meeting, chosen))
    return render(request, "steering/meeting_detail.html", context, status=status)


def _review_panel(request, meeting, area) -> dict:
    """The figures of the focus area chosen in the review form, and the signed copy that will be frozen."""
    figures = services.area_figures(meeting=meeting, focus_area=area, user=request.user)
    return {
        "review_area": area,
        "review_figures": figures,
        "review_figures_token": services.shown_figures_token(meeting=meeting, focus_area=area, figures=figures),
    }


@committee_only
def review_figures(request, pk):
    """The figures panel of the review form, for the focus area now chosen in it (htmx swaps it in)."""
    meeting = get_object_or_404(Meeting.objects.select_related("committee__plan"), pk=pk)
    if not services.may_record(request.user):
        raise PermissionDenied
    chosen = request.GET.get("review-focus_area", "")
    area = get_object_or_404(meeting.committee.plan.focus_areas, pk=int(chosen) if chosen.isdigit() else 0)
    return render(request, "steering/includes/review_figures.html", _review_panel(request, meeting, area))


def _edit_record(request, meeting, form, save, success, template_context):
    if request.method == "POST" and form.is_valid():
        try:
            save(form.cleaned_data)
        except NotAllowed as error:
            raise PermissionDenied(error.message) from error
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, success)
            return redirect("meeting-detail", pk=meeting.pk)
    return render(request, "steering/record_edit.html", {"meeting": meeting, "form": form, **template_context})


@committee_only
def review_edit(request, pk, review_pk):
    review = get_object_or_404(Review.objects.select_related("meeting", "focus_area"), pk=review_pk, meeting=pk)
    initial = {"rating": review.rating, "assessment": review.assessment, "recommendations": review.recommendations}
    form = ReviewEditForm(request.POST or None, initial=initial)
    return _edit_record(
        request, review.meeting, form,
        lambda data: services.edit_review(by=request.user, review=review, **data),
        _("Review changed."),
        {"title": _("Change the review of %(area)s") % {"area": _(review.focus_area.name)}, "item": review},
    )  # fmt: skip


@committee_only
def decision_edit(request, pk, decision_pk):
    decision = get_object_or_404(
        Decision.objects.select_related("meeting__committee__plan"), pk=decision_pk, meeting=pk
    )
    initial = {"text": decision.text, "focus_area": decision.focus_area_id}
    form = DecisionForm(request.POST or None, meeting=decision.meeting, initial=initial)
    return _edit_record(
        request, decision.meeting, form,
        lambda data: services.edit_decision(by=request.user, decision=decision, **data),
        _("Decision changed."),
        {"title": _("Change decision %(number)d") % {"number": decision.number}, "item": decision},
    )  # fmt: skip


def _delete_record(request, meeting_pk, remove, success):
    meeting = get_object_or_404(Meeting, pk=meeting_pk)
    try:
        remove()
    except NotAllowed as error:
        raise PermissionDenied(error.message) from error
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, success)
    return redirect("meeting-detail", pk=meeting.pk)


@committee_only
@require_POST
def review_delete(request, pk, review_pk):
    review = get_object_or_404(Review.objects.select_related("meeting"), pk=review_pk, meeting=pk)
    return _delete_record(
        request, pk, lambda: services.delete_review(by=request.user, review=review), _("Review taken off the record.")
    )


@committee_only
@require_POST
def decision_delete(request, pk, decision_pk):
    decision = get_object_or_404(Decision.objects.select_related("meeting"), pk=decision_pk, meeting=pk)
    return _delete_record(
        request,
        pk,
        lambda: services.delete_decision(by=request.user, decision=decision),
        _("Decision taken off the record; those after it moved up a number."),
    )


@committee_only
def meeting_detail(request, pk):
    meeting = get_object_or_404(Meeting.objects.select_related("committee__plan", "minutes_approved_by"), pk=pk)
    return _meeting_page(request, meeting)


def _record(request, pk, form_class, form_name, act, success):
    meeting = get_object_or_404(Meeting.objects.select_related("committee__plan"), pk=pk)
    form = form_class(request.POST, meeting=meeting) if form_class is not MinutesForm else form_class(request.POST)
    if form.is_valid():
        try:
            act(meeting, form.cleaned_data)
        except NotAllowed as error:
            raise PermissionDenied(error.message) from error
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, success)
            return redirect("meeting-detail", pk=meeting.pk)
    return _meeting_page(request, meeting, status=400, **{form_name: form})


@committee_only
@require_POST
def record_review(request, pk):
    return _record(
        request, pk, ReviewForm, "review_form",
        lambda meeting, data: services.record_review(by=request.user, meeting=meeting, **data),
        _("Review recorded, with the figures as they stand."),
    )  # fmt: skip


@committee_only
@require_POST
def add_decision(request, pk):
    return _record(
        request, pk, DecisionForm, "decision_form",
        lambda meeting, data: services.add_decision(by=request.user, meeting=meeting, **data),
        _("Decision recorded."),
    )  # fmt: skip


@committee_only
@require_POST
def add_action_item(request, pk):
    return _record(
        request, pk, ActionItemForm, "item_form",
        lambda meeting, data: services.add_action_item(by=request.user, meeting=meeting, **data),
        _("Action item recorded; its owner is told by e-mail."),
    )  # fmt: skip


@committee_only
@require_POST
def save_minutes(request, pk):
    """Save the minutes, or save and submit them for the co-chairs' signatures (``submit`` in the form)."""
    if "submit" in request.POST:
        return _record(
            request, pk, MinutesForm, "minutes_form",
            lambda meeting, data: services.submit_minutes(by=request.user, meeting=meeting, minutes=data["minutes"]),
            _("Minutes submitted for signature: the co-chairs are told; the record is read-only meanwhile."),
        )  # fmt: skip
    return _record(
        request, pk, MinutesForm, "minutes_form",
        lambda meeting, data: services.save_minutes(by=request.user, meeting=meeting, minutes=data["minutes"]),
        _("Minutes saved."),
    )  # fmt: skip


@committee_only
def action_items(request):
    """Follow every action item: overdue first, then open by due date, closed last; or only the open
    (``?state=open``) or overdue (``?overdue=1``) ones, as the dashboard's tiles count them."""
    today = timezone.localdate()
    items = ActionItem.objects.visible_to(request.user).filter(meeting__committee=_plan_committee())
    shown = request.GET.get("state") == "open" or request.GET.get("overdue") == "1"
    if shown:
        items = items.exclude(state__in=CLOSED)
    if request.GET.get("overdue") == "1":
        items = items.filter(due_on__lt=today)
    items = (
        items.annotate(
            closed=Case(When(state__in=CLOSED, then=Value(True)), default=Value(False)),
            overdue=Case(When(Q(due_on__lt=today) & ~Q(state__in=CLOSED), then=Value(True)), default=Value(False)),
        )
        .select_related("meeting", "owner_user", "owner_office")
        .order_by("closed", "-overdue", "due_on", "pk")
    )
    return render(
        request,
        "steering/action_items.html",
        {
            "items": items,
            "today": today,
            "only": "overdue" if request.GET.get("overdue") == "1" else "open" if shown else "",
        },
    )


@login_required
def action_item_detail(request, pk):
    """An action item and its follow-up: open to the committee and officers, and to the item's owners."""
    item = get_object_or_404(
        ActionItem.objects.visible_to(request.user).select_related("meeting", "owner_user", "owner_office", "decision"),
        pk=pk,
    )
    may_comment = services.may_comment(request.user, item)
    form = NoteForm(request.POST or None, initial={"state": item.state}, may_drop=services.may_record(request.user))
    if request.method == "POST":
        if not may_comment:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.add_note(by=request.user, item=item, **form.cleaned_data)
            except DomainError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                messages.success(request, _("Note added."))
                return redirect("action-item-detail", pk=item.pk)
    return render(
        request,
        "steering/action_item_detail.html",
        {
            "item": item,
            "notes": item.notes.select_related("author"),
            "form": form if may_comment else None,
            "today": timezone.localdate(),
            "sees_committee_records": is_officer(request.user) or is_committee(request.user),
        },
    )


@committee_only
@ratelimit.limit("export", methods=("GET",))
def meeting_pdf(request, pk):
    """Export the meeting's record (agenda, reviews, decisions, action items) as a PDF in the user's language; the
    access log keeps it."""
    meeting = get_object_or_404(Meeting.objects.select_related("committee", "minutes_approved_by"), pk=pk)
    # The page's language (the user's choice), or one named: ?language=ar (English when unknown).
    language = languages.or_english(request.GET["language"]) if "language" in request.GET else languages.active()
    response = HttpResponse(
        meeting_record_pdf(meeting, earlier_open=_earlier_open_items(meeting), language=language),
        content_type="application/pdf",
    )
    suffix = "" if language == settings.LANGUAGE_CODE else f"-{language}"
    filename = f"meeting-{meeting.date:%Y-%m-%d}{suffix}.pdf"
    audit.record(request, audit.Kind.EXPORT, meeting, label=filename)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
