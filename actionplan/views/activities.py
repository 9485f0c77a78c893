"""The activity register and the activity page."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from actionplan import charts, exports, paging, register_choices, services
from actionplan.filters import ActivityRegisterFilter
from actionplan.models import Activity, FocusArea, ProgressUpdate, ReportingPeriod
from audit import services as audit
from portal import ratelimit

PAGE_SIZE = 25
# The register's sorts by how each activity stands, a table joined to it: no one index orders them.
SORTS_BY_STANDING = ("rag", "progress")


def _exporting(request) -> bool:
    return request.GET.get("export") in ("csv", "xlsx")


@login_required
@ratelimit.limit("export", methods=("GET",), when=_exporting)
def activity_list(request):
    """List the activities the user may see, filtered, searched, sorted; export the same list."""
    # RAG and progress as they stood at a period ("as_of"), as the dashboard's drill-down asks.
    as_of_code = request.GET.get("as_of")
    as_of = ReportingPeriod.objects.filter(code=as_of_code).first() if as_of_code else None
    visible = Activity.objects.visible_to(request.user)
    rows = visible.for_register_export if _exporting(request) else visible.for_register
    queryset = rows(as_of).order_by("code")
    filterset = ActivityRegisterFilter(request.GET, queryset=queryset)
    activities = filterset.qs if filterset.is_valid() else queryset.none()
    export = request.GET.get("export")
    if _exporting(request):
        filename = f"activities-{timezone.localdate():%Y-%m-%d}"
        maker = exports.csv_response if export == "csv" else exports.xlsx_response
        audit.record(
            request,
            audit.Kind.EXPORT,
            object_type="activity register",
            object_id=f"{filename}.{export}",
            label=request.GET.urlencode(),
        )
        return maker(activities, filename)
    page = paging.page_of(_paged(request, activities), PAGE_SIZE, request.GET.get("page"))
    # Read once here (the template then iterates the same list): each restricted row shown is logged.
    audit.record_restricted_rows(request, page)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "actionplan/activity_list.html",
        {
            "filter": filterset,
            "as_of": as_of,
            "unknown_as_of": as_of_code if as_of_code and as_of is None else "",
            "page": page,
            "query": query.urlencode(),
            # Offices, organisations, regions, countries and tags of the activities the user may see
            # only: a choice would otherwise name what a restricted activity of another office is about.
            "choices": {
                "focus_areas": FocusArea.objects.order_by("order"),
                "periods": ReportingPeriod.objects.order_by("starts_on"),
                "statuses": Activity.Status.choices,
                **register_choices.for_user(request.user),
            },
        },
    )


def _paged(request, activities):
    """The activities as the register pages them. Sorted by how they stand, or past the first page, every
    activity listed is sorted or skipped before the page's are reached: their ids alone are, and the page's
    rows alone are read whole (at scale L, sorted by RAG: 80 → 44 ms); else one query reads the page."""
    sorts = request.GET.get("sort", "").split(",")
    if any(sort.lstrip("-") in SORTS_BY_STANDING for sort in sorts) or request.GET.get("page", "1") != "1":
        return paging.ReadInTwoSteps(activities)
    return activities


@login_required
def activity_detail(request, code):
    activity = get_object_or_404(
        Activity.objects.visible_to(request.user)
        .select_related("objective__focus_area__plan", "lead_organization", "responsible_officer")
        .prefetch_related("implementing_offices", "beneficiary_countries", "tags", "partner_organizations"),
        code=code,
    )
    audit.record_restricted_view(request, activity)
    indicators = list(activity.indicators.order_by("code"))
    # What the timeline shows of each update, no more: its values are behind the figures and on its own page.
    updates = (
        ProgressUpdate.objects.visible_to(request.user)
        .filter(activity=activity)
        .select_related("period", "office", "author")
        .prefetch_related("evidence")
        .order_by("-period__starts_on", "office__code")
    )
    plan = activity.objective.focus_area.plan
    period, periods, notice = charts.period_from_query(request.GET, plan)
    chart_data = charts.attach_figures(indicators, periods=periods, period=period, user=request.user)
    history = activity.history.select_related("history_user").order_by("-history_date")[:20]
    return render(
        request,
        "actionplan/activity_detail.html",
        {
            "activity": activity,
            "indicators": indicators,
            "updates": updates,
            "chart_data": chart_data,
            "chart_labels": charts.chart_labels(),
            "figure_period": period,
            "periods": periods,
            "period_notice": notice,
            "history": history,
            "can_report": services.may_report_on(request.user, activity)
            and any(period.state == ReportingPeriod.State.OPEN for period in periods),
        },
    )
