"""Build the IATI 2.03 activity file of what programme officers and the committee may publish.

What goes out: the activities the exporter may read (``Activity.objects.visible_to``) that may be
published (``publishable``: never a restricted one); each indicator's figures as kept from
approved values (``actionplan.figures``, the rule every page counts by), and their breakdowns by the
same rule; the evidence an officer made public. Codes are those of IATI's code lists for 2.03.

The file is written one activity at a time, activities read a chunk at a time in a fixed number of
queries each, and every activity is checked against the schema and the rules before it is written:
an export that breaks either is refused whole, and nothing of it is served.
"""

import datetime
import logging
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import IO

from django.conf import settings
from django.db.models import F, Max, OuterRef, Prefetch, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from lxml import etree

from actionplan import dimensions, figures
from actionplan.models import (
    ActionPlan,
    Activity,
    Evidence,
    FocusArea,
    Indicator,
    PeriodTarget,
    ProgressUpdate,
    ReportingPeriod,
)
from portal.errors import DomainError, InvalidInput, NotAllowed
from portal.models import Country, Office, Organization
from portal.roles import sees_whole_plan
from portal.xmltext import xml_safe

from . import rules, validation
from .codes import ACTUAL_END, ACTUAL_START, DAC_5_DIGIT, HUNDRED, PLANNED_END, PLANNED_START

logger = logging.getLogger(__name__)

# Activities read and written at a time: the queries of a chunk are fixed, and memory holds one chunk.
CHUNK = 500
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

# ActivityStatus: 1 pipeline, 2 implementation, 3 finalisation, 5 cancelled. A completed activity is
# finalised rather than closed (4): closing also says the finances are settled, which the portal does not know.
ACTIVITY_STATUS = {
    Activity.Status.PLANNED: "1",
    Activity.Status.ONGOING: "2",
    Activity.Status.DELAYED: "2",
    Activity.Status.COMPLETED: "3",
    Activity.Status.CANCELLED: "5",
}
# ActivityDateType, in the order they are written.
ACTIVITY_DATES = (
    ("planned_start", PLANNED_START),
    ("actual_start", ACTUAL_START),
    ("planned_end", PLANNED_END),
    ("actual_end", ACTUAL_END),
)
# OrganisationRole: the lead answers for the activity, donors fund it, partners and the implementing offices'
# organisations implement it.
FUNDING, ACCOUNTABLE, IMPLEMENTING = "1", "2", "4"
# IndicatorMeasure: unit, percentage, nominal (a yes/no is one of two categories).
MEASURE = {Indicator.Measure.NUMBER: "1", Indicator.Measure.PERCENTAGE: "2", Indicator.Measure.YES_NO: "3"}
# ResultType: an activity's indicators measure its outputs.
OUTPUT = "1"
# DocumentCategory A08: results, outcomes and outputs.
RESULTS_DOCUMENT = "A08"


class NothingToPublish(DomainError):
    status, code = 404, "nothing_to_publish"


def check_may_export(user) -> None:
    """Refuse one who may not export the plan to IATI: programme officers and the committee may."""
    if not sees_whole_plan(user):
        raise NotAllowed(_("Only programme officers and the steering committee export the plan to IATI."))


@dataclass(frozen=True)
class Scope:
    """What an export covers: the plan, or one focus area or one activity of it."""

    plan: ActionPlan
    focus_area: FocusArea | None = None
    activity: Activity | None = None

    @property
    def code(self) -> str:
        return (self.activity or self.focus_area or self.plan).code

    def activities(self, user):
        found = Activity.objects.visible_to(user).publishable().filter(objective__focus_area__plan=self.plan)
        if self.focus_area is not None:
            found = found.filter(objective__focus_area=self.focus_area)
        if self.activity is not None:
            found = found.filter(pk=self.activity.pk)
        return found


def scope_of(*, user, focus_area: str | None = None, activity: str | None = None) -> Scope:
    """The scope an export names by codes: a focus area, an activity (of that focus area, when both are
    given), or neither, the plan the portal works on (the latest to start)."""
    for name, code in (("focus_area", focus_area), ("activity", activity)):
        if code is not None and not code.strip():
            raise InvalidInput(_("%(name)s is empty: give it a value, or leave it out.") % {"name": name}, field=name)
    area = chosen = None
    if focus_area is not None:
        area = FocusArea.objects.select_related("plan").filter(code=focus_area).first()
        if area is None:
            raise InvalidInput(_("Unknown focus area %(code)s.") % {"code": focus_area}, field="focus_area")
    if activity is not None:
        publishable = Activity.objects.visible_to(user).publishable()
        chosen = publishable.select_related("objective__focus_area__plan").filter(code=activity).first()
        if chosen is None:
            raise NothingToPublish(
                _(
                    "No activity %(code)s may be published to IATI: it is unknown, or restricted (restricted "
                    "activities never are)."
                )
                % {"code": activity},
                field="activity",
            )
    if chosen is not None:
        plan = chosen.objective.focus_area.plan
    elif area is not None:
        plan = area.plan
    else:
        plan = ActionPlan.objects.current().first()
        if plan is None:
            raise NothingToPublish(_("There is no action plan to export yet."))
    return Scope(plan=plan, focus_area=area, activity=chosen)


@dataclass
class Export:
    """An export that passed every check: its file, open at its start, and the name to give it."""

    file: IO[bytes]
    filename: str


def export(*, scope: Scope, user, today: datetime.date | None = None) -> Export:
    """Write the scope's IATI activity file, each activity checked against the schema and the rules before it
    is written; refuse the export (``InvalidExport``, naming every problem) when any breaks one."""
    today = today or timezone.localdate()
    ids = list(scope.activities(user).order_by("code").values_list("pk", flat=True))
    if not ids:
        raise NothingToPublish(
            _("Nothing here may be published to IATI: there is no activity, or only restricted ones (which never are).")
        )
    builder = _Builder(plan=scope.plan, today=today)
    schema, checker = validation.schema(), rules.Checker(today=today)
    problems = []
    # Handed to the response, which closes it; closed here (and so deleted) on a refusal or a failure.
    out = tempfile.TemporaryFile()
    try:
        with etree.xmlfile(out, encoding="utf-8") as xml:
            xml.write_declaration()
            root = {"version": validation.VERSION, "generated-datetime": timezone.now().isoformat(timespec="seconds")}
            with xml.element("iati-activities", root):
                for start in range(0, len(ids), CHUNK):
                    for activity in builder.activities(ids[start : start + CHUNK]):
                        problems += validation.schema_problems(activity, schema) + checker.problems(activity)
                        # Once refused, the rest is only checked, so that every problem is named at once.
                        if not problems:
                            xml.write(activity, pretty_print=True)
        if problems:
            logger.error(
                "IATI export of %s refused: %d problem(s), the first: %s", scope.code, len(problems), problems[0]
            )
            raise validation.InvalidExport(problems)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return Export(file=out, filename=f"iati-activities-{scope.code}-{today:%Y-%m-%d}.xml")


def _shares(count: int) -> list[str]:
    """``count`` equal percentages to two decimals that add up to exactly 100 (the first takes the remainder)."""
    if not count:
        return []
    each = (HUNDRED / count).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    return [_number(HUNDRED - each * (count - 1))] + [_number(each)] * (count - 1)


def _number(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _language(code: str) -> str:
    # IATI names languages by ISO 639-1: zh-hans is zh.
    return (code or settings.LANGUAGE_CODE).split("-")[0]


# Text and attributes pass through xml_safe: lxml refuses a character XML cannot carry, which a title, a name
# or a file name typed into the portal may hold (forms and the API refuse only NUL).
def _add(parent: etree._Element, tag: str, **attributes) -> etree._Element:
    return etree.SubElement(
        parent, tag, {name.replace("_", "-"): xml_safe(str(value)) for name, value in attributes.items()}
    )


def _narrative(parent: etree._Element, text: str, language: str) -> None:
    narrative = _add(parent, "narrative")
    narrative.set(XML_LANG, _language(language))
    narrative.text = xml_safe(text)


def _latest(rows, *, of: str, field: str):
    """The greatest ``field`` of ``rows`` (filtered on ``OuterRef("pk")``, grouped by ``of``), as a subquery;
    NULL when there is none."""
    return Subquery(rows.order_by().values(of).annotate(latest=Max(field)).values("latest"))


def _last_updated():
    """When the activity's IATI record last changed, as far as the portal keeps a time for it, in SQL: the activity,
    its indicators and their period targets, the review of its approved updates (the figures), and the files of
    those updates (a file made public, or private again, adds or takes away a document-link)."""
    activity = OuterRef("pk")
    changed = [
        _latest(Indicator.objects.filter(activity=activity), of="activity", field="updated_at"),
        _latest(
            PeriodTarget.objects.filter(indicator__activity=activity), of="indicator__activity", field="updated_at"
        ),
        _latest(
            ProgressUpdate.objects.filter(activity=activity, state=ProgressUpdate.State.APPROVED),
            of="activity",
            field="reviewed_at",
        ),
        _latest(
            Evidence.objects.filter(update__activity=activity, update__state=ProgressUpdate.State.APPROVED),
            of="update__activity",
            field="updated_at",
        ),
    ]
    # Each defaults to the activity's own time: GREATEST is NULL on SQLite when any argument is.
    return Greatest("updated_at", *(Coalesce(latest, F("updated_at")) for latest in changed))


@dataclass
class _Chunk:
    """What a chunk of activities is written from, besides the activities: keyed by indicator and period ids."""

    totals: dict  # (indicator, period, figures.TOTAL): the indicator's figure
    parts: dict  # (indicator, period): [(dimension, category, value)] of its breakdowns
    targets: dict  # (indicator, period): (target, kind), by the rule every figure is measured against
    documents: dict  # activity id: [public evidence]


class _Builder:
    """Turn activities into ``iati-activity`` elements, reading a chunk of them in a fixed number of queries."""

    def __init__(self, *, plan: ActionPlan, today: datetime.date):
        self.today = today
        self.periods = list(ReportingPeriod.objects.filter(plan=plan).order_by("starts_on", "pk"))
        # Actual values of periods that have begun: a cumulative figure carried into a later period is no actual yet.
        self.begun = [period for period in self.periods if period.starts_on <= today]
        code = settings.IATI_REPORTING_ORGANISATION
        self.reporting_name = Organization.objects.filter(code=code).values_list("name", flat=True).first() or code
        # Breakdowns name countries by ISO alpha-3 (actionplan.figures); recipient-country by alpha-2, as IATI's
        # Country code list does, and so do the dimensions, so that a reader can match the two.
        self.iso2 = dict(Country.objects.values_list("iso3", "iso2"))
        self.translations: dict[str, list[tuple[str, str]]] = {}

    def activities(self, ids: list[int]):
        activities = (
            Activity.objects.filter(pk__in=ids)
            .order_by("code")
            .select_related("objective__focus_area", "lead_organization")
            .annotate(last_updated=_last_updated())
            .prefetch_related(
                "partner_organizations",
                Prefetch("implementing_offices", Office.objects.select_related("organization")),
                "beneficiary_countries",
                Prefetch("indicators", Indicator.objects.order_by("code")),
            )
        )
        indicators = Indicator.objects.filter(activity__in=ids)
        parts = defaultdict(list)
        for (indicator, period, category), figure in sorted(
            figures.figures(indicators, self.begun, dimension=figures.EVERY_DIMENSION).items()
        ):
            dimension, value = category.split(":", 1)
            if dimension == "country":
                value = self.iso2.get(value, value)
            parts[(indicator, period)].append((dimension, value, figure.value))
        documents = defaultdict(list)
        for evidence in (
            Evidence.objects.published()
            .filter(update__activity__in=ids)
            .annotate(activity_id=F("update__activity_id"))
            .order_by("created_at", "pk")
        ):
            documents[evidence.activity_id].append(evidence)
        chunk = _Chunk(
            totals=figures.figures(indicators, self.begun),
            parts=parts,
            targets=figures.targets(indicators, self.periods),
            documents=documents,
        )
        for activity in activities:
            yield self._activity(activity, chunk)

    def _translated(self, parent: etree._Element, name: str) -> None:
        """A name fixed by the plan (an organisation's, a reference objective's): a narrative in the plan's language
        and one in each language the catalogue translates it into."""
        if name not in self.translations:
            found = [(settings.LANGUAGE_CODE, name)]
            for code, _label in settings.LANGUAGES:
                if code != settings.LANGUAGE_CODE:
                    with translation.override(code):
                        translated = _(name)
                    if translated != name:
                        found.append((code, translated))
            self.translations[name] = found
        for code, text in self.translations[name]:
            _narrative(parent, text, code)

    def _activity(self, activity: Activity, chunk: _Chunk) -> etree._Element:
        element = etree.Element("iati-activity", {"last-updated-datetime": activity.last_updated.isoformat()})
        element.set(XML_LANG, _language(settings.LANGUAGE_CODE))
        _add(element, "iati-identifier").text = xml_safe(f"{settings.IATI_ORGANISATION_ID}-{activity.code}")
        reporting = _add(
            element, "reporting-org", ref=settings.IATI_ORGANISATION_ID, type=settings.IATI_ORGANISATION_TYPE
        )
        self._translated(reporting, self.reporting_name)
        _narrative(_add(element, "title"), activity.title, activity.language)
        if activity.description:
            _narrative(_add(element, "description", type="1"), activity.description, activity.language)
        # Objectives (2): the objective the activity serves.
        self._translated(_add(element, "description", type="2"), activity.objective.statement)
        self._participants(element, activity)
        _add(element, "activity-status", code=ACTIVITY_STATUS[activity.status])
        for field, kind in ACTIVITY_DATES:
            if (day := getattr(activity, field)) is not None:
                _add(element, "activity-date", type=kind, iso_date=day.isoformat())
        countries = sorted(activity.beneficiary_countries.all(), key=lambda country: country.iso2)
        for country, share in zip(countries, _shares(len(countries)), strict=True):
            _add(element, "recipient-country", code=country.iso2, percentage=share)
        codes = settings.IATI_SECTORS.get(activity.objective.focus_area.code, [])
        for code, share in zip(codes, _shares(len(codes)), strict=True):
            _add(element, "sector", vocabulary=DAC_5_DIGIT, code=code, percentage=share)
        for evidence in chunk.documents[activity.pk]:
            self._document(element, evidence)
        for indicator in activity.indicators.all():
            self._result(element, indicator, chunk)
        return element

    def _participants(self, element: etree._Element, activity: Activity) -> None:
        roles = [(activity.lead_organization, ACCOUNTABLE)]
        roles += [
            (organization, FUNDING if organization.kind == Organization.Kind.DONOR else IMPLEMENTING)
            for organization in activity.partner_organizations.all()
        ]
        roles += [(office.organization, IMPLEMENTING) for office in activity.implementing_offices.all()]
        written = set()
        for organization, role in roles:
            if (organization.pk, role) in written:
                continue
            written.add((organization.pk, role))
            participant = _add(element, "participating-org", role=role)
            if organization.code == settings.IATI_REPORTING_ORGANISATION:
                participant.set("ref", settings.IATI_ORGANISATION_ID)
                participant.set("type", settings.IATI_ORGANISATION_TYPE)
            self._translated(participant, organization.name)

    def _document(self, element: etree._Element, evidence: Evidence) -> None:
        url = settings.PORTAL_URL.rstrip("/") + reverse("evidence-public", args=[evidence.pk])
        link = _add(element, "document-link", url=url, format=evidence.content_type)
        _narrative(_add(link, "title"), evidence.original_name, settings.LANGUAGE_CODE)
        _add(link, "category", code=RESULTS_DOCUMENT)
        _add(link, "document-date", iso_date=timezone.localtime(evidence.created_at).date().isoformat())

    def _end_period(self, indicator: Indicator) -> ReportingPeriod | None:
        """The period the end target is written in, when no period of its own shows it: the latest to start by the
        target date (the one holding it), else the first; undated, the last. An end target is never left out."""
        if not self.periods:
            return None
        if indicator.target_date is None:
            return self.periods[-1]
        started = [period for period in self.periods if period.starts_on <= indicator.target_date]
        return started[-1] if started else self.periods[0]

    def _result(self, element: etree._Element, indicator: Indicator, chunk: _Chunk) -> None:
        result = _add(element, "result", type=OUTPUT)
        _narrative(_add(result, "title"), indicator.name, settings.LANGUAGE_CODE)
        measured = _add(result, "indicator", measure=MEASURE[indicator.measure])
        # A target to keep ("maintain") is neither ascending nor descending: left unsaid.
        if indicator.direction != Indicator.Direction.MAINTAIN:
            measured.set("ascending", "true" if indicator.direction == Indicator.Direction.INCREASE else "false")
        _narrative(_add(measured, "title"), indicator.name, settings.LANGUAGE_CODE)
        if indicator.baseline_date is not None:
            _add(
                measured,
                "baseline",
                year=indicator.baseline_date.year,
                iso_date=indicator.baseline_date.isoformat(),
                value=_number(indicator.baseline_value),
            )
        shown = {dimension.key for dimension in dimensions.of(indicator)}
        end_period = self._end_period(indicator)
        for period in self.periods:
            # The target the period's figure is measured against (figures.TARGET): its own, else the end target.
            target, kind = chunk.targets[(indicator.pk, period.pk)]
            total = chunk.totals.get((indicator.pk, period.pk, figures.TOTAL))
            actual = None if total is None else total.value
            # A period is written when it has an actual, a target of its own, or is the end target's.
            if actual is None and kind != "period" and period != end_period:
                continue
            node = _add(measured, "period")
            _add(node, "period-start", iso_date=period.starts_on.isoformat())
            _add(node, "period-end", iso_date=period.ends_on.isoformat())
            _add(node, "target", value=_number(target))
            if actual is not None:
                _add(node, "actual", value=_number(actual))
                for dimension, category, value in chunk.parts[(indicator.pk, period.pk)]:
                    if dimension in shown and value is not None:
                        part = _add(node, "actual", value=_number(value))
                        _add(part, "dimension", name=dimension, value=category)
