"""The plan, top down: agreement, action plan, focus areas, objectives."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _

from actionplan import charts, versions
from actionplan.models import ActionPlan, Activity, FocusArea, Indicator, Objective
from actionplan.plan_editing import figure_changes
from audit import services as audit
from portal import storage

ACTIVITIES_PER_PAGE = 25


def _current_plan():
    return get_object_or_404(ActionPlan.objects.select_related("agreement").current())


@login_required
def plan(request):
    """Show the agreement, the plan and its focus areas with what the user can see of each."""
    current = _current_plan()
    visible = Activity.objects.visible_to(request.user)
    focus_areas = FocusArea.objects.filter(plan=current).annotate(
        activity_count=Count("objectives__activities", filter=Q(objectives__activities__in=visible)),
        objective_count=Count("objectives", distinct=True),
    )
    return render(
        request,
        "actionplan/plan.html",
        {
            "plan": current,
            "agreement": current.agreement,
            "parties": current.agreement.parties.all(),
            "provisions": current.agreement.provisions.all(),
            "focus_areas": focus_areas,
            "periods": current.periods.all(),
            "version": versions.current_version(current),
        },
    )


def _figures_context(request, indicators, plan) -> dict:
    """The period picker and the indicators' figures at the chosen period, for a page's template."""
    period, periods, notice = charts.period_from_query(request.GET, plan)
    chart_data = charts.attach_figures(indicators, periods=periods, period=period, user=request.user)
    return {
        "figure_period": period,
        "periods": periods,
        "period_notice": notice,
        "chart_data": chart_data,
        "chart_labels": charts.chart_labels(),
    }


@login_required
def focus_area(request, code):
    area = get_object_or_404(FocusArea.objects.select_related("plan"), code=code)
    visible = Activity.objects.visible_to(request.user)
    objectives = (
        area.objectives.annotate(activity_count=Count("activities", filter=Q(activities__in=visible)))
        .prefetch_related(Prefetch("indicators", Indicator.objects.order_by("code")))
        .order_by("code")
    )
    activities = Paginator(
        visible.filter(objective__focus_area=area).for_register().order_by("code"), ACTIVITIES_PER_PAGE
    ).get_page(request.GET.get("page"))
    audit.record_restricted_rows(request, activities)  # read once here; the template shows the same list
    reviews = area.reviews.select_related("meeting").order_by("-meeting__date")
    indicators = [indicator for objective in objectives for indicator in objective.indicators.all()]
    return render(
        request,
        "actionplan/focus_area.html",
        {
            "area": area,
            "objectives": objectives,
            "activities": activities,
            "reviews": reviews,
            **_figures_context(request, indicators, area.plan),
        },
    )


@login_required
def objective(request, code):
    current = get_object_or_404(Objective.objects.select_related("focus_area__plan"), code=code)
    activities = list(
        Activity.objects.visible_to(request.user).filter(objective=current).for_register().order_by("code")
    )
    audit.record_restricted_rows(request, activities)
    indicators = list(current.indicators.order_by("code"))
    return render(
        request,
        "actionplan/objective.html",
        {
            "objective": current,
            "indicators": indicators,
            "activities": activities,
            **_figures_context(request, indicators, current.focus_area.plan),
        },
    )


@login_required
def agreement_document(request):
    """Send the agreement's document, from the file store, to a signed-in user (as its page is shown)."""
    document = _current_plan().agreement.document
    if not document:
        raise Http404(_("The agreement has no document."))
    handle = storage.open_for_download(document)
    return FileResponse(handle, as_attachment=True, filename=document.name.rsplit("/", 1)[-1])


@login_required
def agreement(request):
    """Show the cooperation agreement: its parties, provisions and the plans adopted under it."""
    current = _current_plan().agreement
    return render(
        request,
        "actionplan/agreement.html",
        {
            "agreement": current,
            "parties": current.parties.all(),
            "provisions": current.provisions.all(),
            "plans": current.plans.order_by("-starts_on"),
        },
    )


@login_required
def indicator(request, code):
    """Show an indicator of an objective or of a visible activity, with its figures over periods."""
    current = get_object_or_404(
        Indicator.objects.visible_to(request.user).select_related(
            "objective__focus_area__plan", "activity__objective__focus_area__plan"
        ),
        code=code,
    )
    audit.record_restricted_view(request, current.activity, current)
    measured = current.activity.objective if current.activity else current.objective
    return render(
        request,
        "actionplan/indicator.html",
        {
            "indicator": current,
            "targets": current.period_targets.select_related("period").order_by("period__starts_on"),
            "figure_changes": figure_changes(current),
            **_figures_context(request, [current], measured.focus_area.plan),
        },
    )
