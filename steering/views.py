"""The steering committee's pages."""

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _

from actionplan.models import RAG, ActionPlan, Activity, FocusArea, ReportingPeriod
from portal.models import Country, Organization

from . import dashboard


def _register_url(**query) -> str:
    return f"{reverse('activity-list')}?{urlencode({key: value for key, value in query.items() if value})}"


def _charts(figures: dict, filters: dashboard.Filters) -> dict:
    """Shape the figures for Chart.js, with the register link behind every bar."""
    areas = figures["focus_areas"]
    labels = [area["code"] for area in areas]
    period = filters.period.code if filters.period else ""
    area_filter = filters.focus_area.code if filters.focus_area else ""
    missing = [max(area["expected"] - area["received"], 0) for area in areas]
    statuses = Activity.Status.choices
    rags = [*RAG.choices, ("none", _("Not yet approved"))]
    return {
        "status": {
            "title": _("Activities by status"),
            "labels": labels,
            "datasets": [
                {"key": value, "label": label, "data": [area["status"][value] for area in areas],
                 "links": [_register_url(focus_area=code, status=value) for code in labels]}
                for value, label in statuses
            ],
        },
        "rag": {
            "title": _("Activities by RAG of the latest approved update"),
            "labels": labels,
            "datasets": [
                {"key": value, "label": label, "data": [area["rag"][value] for area in areas],
                 "links": [_register_url(focus_area=code, rag=value if value != "none" else "") for code in labels]}
                for value, label in rags
            ],
        },
        "received": {
            "title": _("Updates received against expected this period"),
            "labels": labels,
            "datasets": [
                {"key": "received", "label": _("Received"), "data": [area["received"] for area in areas],
                 "links": [_register_url(focus_area=code, period=period) for code in labels]},
                {"key": "missing", "label": _("Missing"), "data": missing,
                 "links": [_register_url(focus_area=code, period=period) for code in labels]},
            ],
        },
        "trend": {
            "title": _("Approved updates by RAG over the last periods"),
            "labels": figures["trend"]["periods"],
            "datasets": [
                {"key": value, "label": label, "data": figures["trend"]["series"][value],
                 "links": [_register_url(rag=value, focus_area=area_filter)] * len(figures["trend"]["periods"])}
                for value, label in RAG.choices
            ],
        },
    }  # fmt: skip


@login_required
def dashboard_view(request):
    """Show where each focus area stands, from live data, filtered by period, area, organisation and region."""
    plan = get_object_or_404(ActionPlan.objects.order_by("-starts_on")[:1])
    filters = dashboard.Filters.from_query(request.GET, plan)
    figures = dashboard.build(filters, request.user)
    return render(
        request,
        "steering/dashboard.html",
        {
            "filters": filters,
            "figures": figures,
            "charts": _charts(figures, filters),
            "choices": {
                "periods": ReportingPeriod.objects.filter(plan=plan).order_by("-starts_on"),
                "focus_areas": FocusArea.objects.filter(plan=plan).order_by("order"),
                "organizations": Organization.objects.filter(led_activities__isnull=False).distinct().order_by("code"),
                "regions": Country.objects.filter(offices__isnull=False)
                .values_list("region", flat=True)
                .distinct()
                .order_by("region"),
            },
        },
    )
