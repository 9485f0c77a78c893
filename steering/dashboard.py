"""The steering committee's dashboard, computed by SQL aggregates in a fixed number of queries.

Every figure comes from the database grouped and counted there; Python only arranges
the few aggregated rows (one per focus area, status, office...) for the page.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import (
    Count,
    Exists,
    F,
    OuterRef,
    Q,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from actionplan import figures
from actionplan.models import (
    RAG,
    ActionPlan,
    Activity,
    ActivityStanding,
    FocusArea,
    Indicator,
    PlanVersion,
    ProgressUpdate,
    ReportingPeriod,
)
from portal import countries
from portal.models import Country, Organization
from portal.roles import sees_whole_plan

from .models import ActionItem

ActivityOffice = Activity.implementing_offices.through
REPORTED = (ProgressUpdate.State.SUBMITTED, ProgressUpdate.State.APPROVED)
TREND_PERIODS = 6


@dataclass
class Filters:
    """The dashboard's filters, read from the URL; unknown codes are dropped with a notice."""

    plan: ActionPlan
    period: ReportingPeriod | None
    focus_area: FocusArea | None = None
    organization: Organization | None = None
    region: str = ""
    # A version of the plan: indicators measured against the targets it holds ("as endorsed at"), else live ones.
    version: PlanVersion | None = None
    notices: list[str] = field(default_factory=list)
    # The plan's periods and focus areas, the filters chosen among (and the areas shown when none is chosen).
    choices: "PlanChoices | None" = None

    @classmethod
    def from_query(cls, query, plan: ActionPlan, known: "PlanChoices | None" = None) -> "Filters":
        """The filters the query asks for; the plan's periods and focus areas are read from ``known`` when
        given (``dashboard_cache`` keeps them), else from the database."""
        known = known or PlanChoices.of(plan)
        notices = []
        period = None
        if query.get("period"):
            period = next((period for period in known.periods if period.code == query["period"]), None)
            if period is None:
                notices.append(_("Unknown period %(code)s: showing the current period.") % {"code": query["period"]})
        if period is None:
            period = figures.current_period(known.periods)
        filters = cls(plan=plan, period=period, notices=notices, choices=known)
        lookups = (
            ("focus_area", lambda code: next((area for area in known.focus_areas if area.code == code), None),
             _("focus area")),
            ("organization", lambda code: Organization.objects.filter(code=code).first(), _("organisation")),
        )  # fmt: skip
        for name, find, label in lookups:
            code = query.get(name)
            if code:
                found = find(code)
                if found is None:
                    notices.append(
                        _("Unknown %(what)s %(code)s: that filter is ignored.") % {"what": label, "code": code}
                    )
                setattr(filters, name, found)
        number = query.get("version", "")
        if number:
            filters.version = PlanVersion.objects.numbered(plan, number).defer("snapshot").first()
            if filters.version is None:
                notices.append(_("Unknown version %(number)s: showing the current targets.") % {"number": number})
        region = query.get("region", "")
        if region:
            if Country.objects.filter(region=region).exists():
                filters.region = region
            else:
                notices.append(_("Unknown region %(region)s: that filter is ignored.") % {"region": region})
        return filters

    def as_query(self) -> dict:
        """The filters as register URL parameters, for drill-down links."""
        query = {}
        if self.focus_area:
            query["focus_area"] = self.focus_area.code
        if self.period:
            query["period"] = self.period.code
        return query

    def version_query(self) -> str:
        """The version chosen as a query parameter to carry on in links ("version=1.0"), or ""."""
        return f"version={self.version.number}" if self.version else ""


@dataclass
class PlanChoices:
    """A plan's periods, in order of their start, and its focus areas, in the plan's order: what the filters
    are chosen among."""

    periods: list[ReportingPeriod]
    focus_areas: list[FocusArea]

    @classmethod
    def of(cls, plan: ActionPlan) -> "PlanChoices":
        return cls(
            periods=list(ReportingPeriod.objects.filter(plan=plan).order_by("starts_on")),
            focus_areas=list(FocusArea.objects.filter(plan=plan).order_by("order")),
        )


def focus_areas(filters: Filters) -> list[FocusArea]:
    """The focus areas the dashboard shows, in the plan's order: the one chosen, else all."""
    if filters.focus_area:
        return [filters.focus_area]
    return list(filters.choices.focus_areas)


@dataclass(frozen=True)
class Shown:
    """The activities the dashboard counts: the areas' that the user may read, narrowed by the filters."""

    activities: object  # a queryset of Activity
    areas: list
    # Whether the user or a filter leaves out some of the areas' activities.
    narrowed: bool

    def of(self, rows, path: str = "activity"):
        """``rows`` of another table (its activity at ``path``) kept to those of the activities shown.

        By the areas, through the join that groups them, rather than by a list of the activities: the list is
        joined only when the user or a filter narrows it. Listed always, each count read the plan's whole
        activities twice (for the list, then for the area of each row).
        """
        rows = rows.filter(**{f"{path}__objective__focus_area__in": self.areas})
        return rows.filter(**{f"{path}__in": self.activities}) if self.narrowed else rows


def _activities(filters: Filters, user, areas) -> Shown:
    activities = Activity.objects.visible_to(user).filter(objective__focus_area__in=areas)
    if filters.organization:
        activities = activities.filter(lead_organization=filters.organization)
    if filters.region:
        activities = activities.filter(
            Exists(ActivityOffice.objects.filter(activity=OuterRef("pk"), office__country__region=filters.region))
        )
    narrowed = bool(filters.organization or filters.region) or not sees_whole_plan(user)
    return Shown(activities, list(areas), narrowed)


def build(filters: Filters, user) -> dict:
    """Compute every figure of the dashboard for the filters and the user's visibility."""
    areas = focus_areas(filters)
    parts = build_parts(filters, user, areas)
    return compose(filters, [parts[area.code] for area in areas])


def build_parts(filters: Filters, user, areas) -> dict[str, dict]:
    """The figures of each of the focus areas ``areas``, by code: what the dashboard shows of it, and its
    share of the plan-wide tiles (trend, compliance, countries), which ``compose`` adds up.

    Each part is two halves computed apart (``build_reporting``, ``build_standing``): an approval changes
    how an area's work stands, never what was asked of it and received, so ``dashboard_cache`` keeps the
    two halves apart and recomputes only the one a write changed.
    """
    reporting, standing = build_reporting(filters, user, areas), build_standing(filters, user, areas)
    return {area.code: joined(reporting[area.code], standing[area.code]) for area in areas}


def build_reporting(filters: Filters, user, areas) -> dict[str, dict]:
    """Per focus area code: what was asked of its activities and received for them, which only the plan
    and a submission (or its withdrawal, return or removal) change: the activities by status, the updates
    expected and received (per office: the compliance tile), the countries reached.

    The same statements however many areas are asked for, each grouped by area: a half is computed alone
    when only its area changed, or all at once.
    """
    shown = _activities(filters, user, areas)
    by_status = _grid(
        shown.activities.values(area=F("objective__focus_area__code"), key=F("status"))
        .annotate(n=Count("pk"))
        .order_by()
    )
    expected, received, compliance = _reporting(shown, filters)
    countries = _countries(shown)
    return {
        area.code: {
            "code": area.code,
            "name": area.name,
            "status": {status: by_status.get((area.code, status), 0) for status in Activity.Status.values},
            "expected": expected.get(area.code, 0),
            "received": received.get(area.code, 0),
            "compliance": compliance.get(area.code, []),
            "countries": countries.get(area.code, []),
        }
        for area in areas
    }


def build_standing(filters: Filters, user, areas) -> dict[str, dict]:
    """Per focus area code: how its work stands by the period, which approvals (and their measurements)
    change: the activities by RAG rating at the period and the periods before it, and the indicators'
    figures against their targets."""
    shown = _activities(filters, user, areas)
    indicators = figures.summary_by_area(_indicators_counted(shown, filters, user), filters.period, filters.version)
    # The period shown is the trend's latest: its counts are the RAG tile's. Activities with no approved
    # update by the period have no standing there: they are left uncounted.
    trend = _rag_trend(shown, filters)
    period = filters.period.code if filters.period else None
    return {
        area.code: {
            "rated": {rag: trend.get(area.code, {}).get(period, {}).get(rag, 0) for rag in RAG.values},
            "indicators": indicators.get(
                area.code, {"all": 0, "with_actual": 0, "on_track": 0, "average_percent": None}
            ),
            "trend": trend.get(area.code, {}),
        }
        for area in areas
    }


def joined(reporting: dict, standing: dict) -> dict:
    """An area's part from its two halves: the RAG tile counts as unrated the activities no rating counted."""
    rated = standing["rated"]
    unrated = sum(reporting["status"].values()) - sum(rated.values())
    return {
        **reporting,
        "rag": {**rated, "none": unrated},
        "indicators": standing["indicators"],
        "trend": standing["trend"],
    }


PART_ONLY = ("trend", "compliance", "countries")


def compose(filters: Filters, parts: list[dict]) -> dict:
    """The dashboard's figures from its focus areas' parts (``build_parts``), in their order.

    The plan-wide tiles add up what each area counted, grouped in SQL per area: a handful of rows each
    (a period's RAG counts, an office's updates, a country reached), so the areas' parts can be kept and
    recomputed one by one.
    """
    return {
        "totals": {
            "expected": sum(part["expected"] for part in parts),
            "received": sum(part["received"] for part in parts),
        },
        "objective_indicators_counted": not (filters.organization or filters.region),
        "focus_areas": [{key: value for key, value in part.items() if key not in PART_ONLY} for part in parts],
        "trend": _total_trend(filters, parts),
        "compliance": _total_compliance(parts),
        "countries": _total_countries(parts),
        "action_items": _action_items(filters),
    }


def _grid(rows) -> dict:
    return {(row["area"], row["key"]): row["n"] for row in rows}


def _indicators_counted(shown: Shown, filters: Filters, user):
    """The indicators the dashboard counts: those of the activities shown and, unless an organisation
    or region is chosen (objectives belong to no one organisation or region), the objectives' own
    in the areas shown."""
    visible = Indicator.objects.visible_to(user)
    of_activities = shown.of(visible)
    if filters.organization or filters.region:
        return of_activities
    # Two selections, each found from the areas through its own index, rather than one condition either way,
    # which read every indicator of the plan (one area at L: 43 → 36 ms). Counted by id: none counts twice.
    return of_activities.order_by().union(visible.filter(objective__focus_area__in=shown.areas).order_by(), all=True)


def _trend_periods(filters: Filters):
    """The codes of the trend's periods, the period shown and those before it, latest first: a query, which
    a part's counts read as a subquery and ``compose`` lists."""
    if filters.period is None:
        return ReportingPeriod.objects.none().values_list("code", flat=True)
    return (
        ReportingPeriod.objects.filter(plan=filters.plan, starts_on__lte=filters.period.starts_on)
        .order_by("-starts_on")
        .values_list("code", flat=True)[:TREND_PERIODS]
    )


def _rag_trend(shown: Shown, filters: Filters) -> dict:
    """Per area, per period code: how many activities stood at each RAG rating (what the register lists
    as of that period)."""
    rows = (
        shown.of(ActivityStanding.objects.filter(as_of__code__in=_trend_periods(filters)))
        .values("rag", area=F("activity__objective__focus_area__code"), code=F("as_of__code"))
        .annotate(n=Count("pk"))
        .order_by()
    )
    trend = defaultdict(lambda: defaultdict(dict))
    for row in rows:
        trend[row["area"]][row["code"]][row["rag"]] = row["n"]
    return {area: dict(periods) for area, periods in trend.items()}


def _total_trend(filters: Filters, parts: list[dict]) -> dict:
    periods = list(_trend_periods(filters))[::-1]
    return {
        "periods": periods,
        "series": {
            rag: [sum(part["trend"].get(code, {}).get(rag, 0) for part in parts) for code in periods]
            for rag in RAG.values
        },
    }


def _reporting(shown: Shown, filters: Filters) -> tuple[dict, dict, dict]:
    """Per area: the updates expected this period (one per activity and implementing office), those
    received, and per office (the compliance tile) those expected, received for them and received on time.

    Two grouped counts, the pairs per office and the updates received per office, joined in SQL rather
    than probed pair by pair; an area's totals add up its offices'.
    """
    expected_by_office = (
        shown.of(ActivityOffice.objects.all())
        .values(area=F("activity__objective__focus_area__code"), code=F("office__code"), name=F("office__name"))
        .annotate(expected=Count("pk"))
        .order_by()
    )
    # Received for a pair only from an office still implementing the activity: the pair it was expected for.
    received_by_office = {}
    if filters.period is not None:
        paired = Exists(ActivityOffice.objects.filter(activity=OuterRef("activity"), office=OuterRef("office")))
        on_time = Q(submitted_at__date__lte=filters.period.due_on)
        received_by_office = {
            (row["area"], row["code"]): row
            for row in shown.of(ProgressUpdate.objects.filter(period=filters.period, state__in=REPORTED))
            .values(area=F("activity__objective__focus_area__code"), code=F("office__code"))
            .annotate(
                all=Count("pk"), received=Count("pk", filter=paired), on_time=Count("pk", filter=paired & on_time)
            )
            .order_by()
        }
    expected, received, compliance = defaultdict(int), defaultdict(int), defaultdict(list)
    for (area, _code), row in received_by_office.items():
        received[area] += row["all"]
    for row in expected_by_office:
        area = row.pop("area")
        expected[area] += row["expected"]
        counted = received_by_office.get((area, row["code"]), {"received": 0, "on_time": 0})
        if filters.period is not None:
            compliance[area].append({**row, "received": counted["received"], "on_time": counted["on_time"]})
    return expected, received, compliance


def _total_compliance(parts: list[dict]) -> list[dict]:
    """Per office, in code order: updates expected, received on time, late and missing, over the areas."""
    offices = {}
    for part in parts:
        for row in part["compliance"]:
            office = offices.setdefault(row["code"], {**row, "expected": 0, "received": 0, "on_time": 0})
            for count in ("expected", "received", "on_time"):
                office[count] += row[count]
    return [
        {**row, "late": row["received"] - row["on_time"], "missing": row["expected"] - row["received"]}
        for _code, row in sorted(offices.items())
    ]


def _countries(shown: Shown) -> dict[str, list[dict]]:
    """Per area, the countries its activities reach; named in no language, as the figures are cached for
    all (``named_countries`` names them)."""
    reached = (
        shown.of(Activity.beneficiary_countries.through.objects.all())
        .values(
            area=F("activity__objective__focus_area__code"),
            iso3=F("country__iso3"),
            name=F("country__name"),
            region=F("country__region"),
            region_code=F("country__region_code"),
        )
        .distinct()
        .order_by()
    )
    by_area = defaultdict(list)
    for row in reached:
        by_area[row.pop("area")].append(row)
    return dict(by_area)


def _total_countries(parts: list[dict]) -> dict:
    """The countries the areas' activities reach (the tile's list), and how many per region."""
    reached = {country["iso3"]: country for part in parts for country in part["countries"]}
    regions = defaultdict(list)
    for country in reached.values():
        regions[country["region"]].append(country["region_code"])
    by_region = [
        # One code per region; a country loaded without one (a made-up one) names its region as stored.
        {"region": region, "n": len(codes), "region_code": max(codes)}
        for region, codes in regions.items()
    ]
    return {
        "count": len(reached),
        "by_region": sorted(by_region, key=lambda row: (-row["n"], row["region"])),
        "reached": sorted(({"iso3": c["iso3"], "name": c["name"]} for c in reached.values()), key=lambda c: c["name"]),
    }


def named_countries(figures: dict) -> dict:
    """The countries figures with each country and region named in the active language, in the order of
    those names (the regions, after their counts)."""
    by_region = [
        # Figures cached before regions had codes (for up to the cache's timeout) name them as stored.
        {**row, "name": countries.region_name(row.get("region_code", ""), default=row["region"])}
        for row in figures["by_region"]
    ]
    reached = [
        {**country, "name": countries.country_name(country["iso3"], default=country["name"])}
        for country in figures["reached"]
    ]
    return {
        "count": figures["count"],
        "by_region": sorted(by_region, key=lambda row: (-row["n"], countries.name_key(row["name"]))),
        "reached": sorted(reached, key=lambda country: countries.name_key(country["name"])),
    }


def _action_items(filters: Filters) -> dict:
    today = timezone.localdate()
    items = ActionItem.objects.filter(meeting__committee__plan=filters.plan).exclude(
        state__in=(ActionItem.State.DONE, ActionItem.State.DROPPED)
    )
    counts = items.aggregate(open=Count("pk"), overdue=Count("pk", filter=Q(due_on__lt=today)))
    return counts
