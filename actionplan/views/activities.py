"""The activity register and the activity page."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _

from actionplan import exports, services
from actionplan.filters import ActivityRegisterFilter
from actionplan.models import Activity, FocusArea, Measurement, ProgressUpdate, ReportingPeriod, Tag
from portal.models import Country, Office

PAGE_SIZE = 25


@login_required
def activity_list(request):
    """List the activities the user may see, filtered, searched, sorted; export the same list."""
    queryset = Activity.objects.visible_to(request.user).for_register().order_by("code")
    filterset = ActivityRegisterFilter(request.GET, queryset=queryset)
    activities = filterset.qs if filterset.is_valid() else queryset.none()
    export = request.GET.get("export")
    if export in ("csv", "xlsx"):
        filename = f"activities-{timezone.localdate():%Y-%m-%d}"
        maker = exports.csv_response if export == "csv" else exports.xlsx_response
        return maker(activities, filename)
    page = Paginator(activities, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "actionplan/activity_list.html",
        {
            "filter": filterset,
            "page": page,
            "query": query.urlencode(),
            "choices": {
                "focus_areas": FocusArea.objects.order_by("order"),
                "offices": Office.objects.order_by("code"),
                "countries": Country.objects.filter(activities__isnull=False).distinct().order_by("name"),
                "periods": ReportingPeriod.objects.order_by("starts_on"),
                "tags": Tag.objects.order_by("name"),
                "statuses": Activity.Status.choices,
            },
        },
    )


def _chart_data(indicators, measurements):
    """Per indicator: the approved actuals per period, with its baseline and target, for Chart.js."""
    series = {indicator.pk: {} for indicator in indicators}
    for measurement in measurements:
        series[measurement.indicator_id].setdefault(measurement.update.period.code, []).append(float(measurement.value))
    return {
        indicator.code: {
            "periods": list(series[indicator.pk]),
            # Several offices may report on one indicator: the period's figure is their sum.
            "actuals": [sum(values) for values in series[indicator.pk].values()],
            "baseline": float(indicator.baseline_value),
            "target": float(indicator.target_value),
            "unit": indicator.unit,
        }
        for indicator in indicators
    }


@login_required
def activity_detail(request, code):
    activity = get_object_or_404(
        Activity.objects.visible_to(request.user)
        .select_related("objective__focus_area", "lead_organization", "responsible_officer")
        .prefetch_related(
            "implementing_offices", "beneficiary_countries", "tags", "partner_organizations", "provisions"
        ),
        code=code,
    )
    indicators = list(activity.indicators.order_by("code"))
    updates = (
        ProgressUpdate.objects.visible_to(request.user)
        .filter(activity=activity)
        .with_details()
        .order_by("-period__starts_on", "office__code")
    )
    approved = list(
        Measurement.objects.filter(update__activity=activity, update__state=ProgressUpdate.State.APPROVED)
        .select_related("update__period")
        .order_by("update__period__starts_on")
    )
    chart_data = _chart_data(indicators, approved)
    for indicator in indicators:
        actuals = chart_data[indicator.code]["actuals"]
        indicator.latest_actual = actuals[-1] if actuals else None
    history = activity.history.select_related("history_user").order_by("-history_date")[:20]
    return render(
        request,
        "actionplan/activity_detail.html",
        {
            "activity": activity,
            "indicators": indicators,
            "updates": updates,
            "chart_data": chart_data,
            "chart_labels": {"actual": _("Actual"), "target": _("Target"), "baseline": _("Baseline")},
            "history": history,
            "can_report": services.may_report_on(request.user, activity)
            and ReportingPeriod.objects.filter(
                plan=activity.objective.focus_area.plan, state=ReportingPeriod.State.OPEN
            ).exists(),
        },
    )
