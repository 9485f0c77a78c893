"""The plan's versions: what an endorsed version governs, its frozen snapshot, and how two versions differ.

What a version governs (``GOVERNED``), decided for issue 16 and kept in one place:

- a focus area: its name and description;
- an objective: its statement and the focus area it serves;
- an activity's scope: title, description, objective (and so its focus area), lead and partner
  organisations, beneficiary countries, planned start and end; not its status, actual dates, budget,
  implementing offices, officer or tags, which officers keep as the work goes;
- an indicator: its name (the definition), unit, direction, baseline value and date, end target and
  date, and its targets per reporting period; not its figure rule, breakdowns or plausibility limits.

Codes identify objects on pages, but a snapshot keys them by id, so that renaming a code is no
removal and addition. Values are kept as JSON text: decimals with two places, dates in ISO form,
related objects by their codes, lists sorted.

Rule for direct edits: while the plan has no version, officers edit everything directly. Once it
has one, a governed field of an object the current version holds changes only through an approved
change request (``actionplan.change_requests``); an object added since (not yet in a version) is
edited directly until the next version holds it.
"""

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.errors import NotAllowed

from .models import (
    Activity,
    FocusArea,
    Indicator,
    Objective,
    PeriodTarget,
    PlanVersion,
    ReportingPeriod,
    VersionIndicator,
    VersionPeriodTarget,
)

# Per kind: the snapshot's section and the governed fields, in the order pages list them.
SECTIONS = {
    "focus_area": "focus_areas",
    "objective": "objectives",
    "activity": "activities",
    "indicator": "indicators",
}
GOVERNED = {
    "focus_area": ("name", "description"),
    "objective": ("statement", "focus_area"),
    "activity": (
        "title", "description", "objective", "lead_organization", "partner_organizations",
        "beneficiary_countries", "planned_start", "planned_end",
    ),
    "indicator": (
        "name", "unit", "direction", "baseline_value", "baseline_date", "target_value", "target_date",
        "period_targets",
    ),
}  # fmt: skip
MODELS = {"focus_area": FocusArea, "objective": Objective, "activity": Activity, "indicator": Indicator}
KIND_LABELS = {
    "focus_area": gettext_lazy("Focus area"),
    "objective": gettext_lazy("Objective"),
    "activity": gettext_lazy("Activity"),
    "indicator": gettext_lazy("Indicator"),
}
# Fields a snapshot holds beside the governed ones, to name the object (never compared as a change).
IDENTITY = ("code", "measures")
PERIOD_TARGETS = "period_targets"


def kind_of(item) -> str:
    """The kind of a plan object, as ``GOVERNED`` names it."""
    for kind, model in MODELS.items():
        if isinstance(item, model):
            return kind
    raise ValueError(f"{type(item).__name__} is no governed kind")


def field_label(kind: str, name: str) -> str:
    """The field's label in the active language."""
    if name == PERIOD_TARGETS:
        return _("Targets per period")
    if name == "target_value":
        return _("End target")
    return str(MODELS[kind]._meta.get_field(name).verbose_name).capitalize()


# Canonical values: what a snapshot holds and a change request proposes, equal when the values are.


def canonical_decimal(value) -> str | None:
    return None if value is None else str(Decimal(value).quantize(Decimal("0.01")))


def canonical_date(value) -> str | None:
    return None if value is None else value.isoformat()


def canonical(kind: str, name: str, value):
    """The canonical form of a governed field's value as a form cleans it (objects, decimals, dates)."""
    if name == PERIOD_TARGETS:
        return {period.code: canonical_decimal(target) for period, target in sorted(
            value.items(), key=lambda item: item[0].starts_on)}  # fmt: skip
    model_field = MODELS[kind]._meta.get_field(name)
    if model_field.many_to_many:
        return sorted(_code_of(related) for related in value)
    if model_field.is_relation:
        return None if value is None else _code_of(value)
    if model_field.get_internal_type() == "DecimalField":
        return canonical_decimal(value)
    if model_field.get_internal_type() == "DateField":
        return canonical_date(value)
    return value if value is not None else ""


def _code_of(related) -> str:
    return getattr(related, "iso3", None) or related.code


# Building a snapshot: seven queries, whatever the size of the plan.


def key(pk: int) -> str:
    """An object's key in a snapshot section: its id, after a letter so that no database reads it as the
    index of an array in a JSON path (SQLite does, for a key that is a number)."""
    return f"id{pk}"


def pk_of(snapshot_key: str) -> int:
    return int(snapshot_key.removeprefix("id"))


def build_snapshot(plan) -> dict:
    """Read what the plan's current version would govern, as canonical values keyed by object id (as text)."""
    in_plan = {
        "focus_area": Q(plan=plan),
        "objective": Q(focus_area__plan=plan),
        "activity": Q(objective__focus_area__plan=plan),
    }
    focus_areas = {
        key(row["pk"]): {"code": row["code"], "name": row["name"], "description": row["description"]}
        for row in FocusArea.objects.filter(in_plan["focus_area"]).values("pk", "code", "name", "description")
    }
    objectives = {
        key(row["pk"]): {"code": row["code"], "statement": row["statement"], "focus_area": row["focus_area__code"]}
        for row in Objective.objects.filter(in_plan["objective"]).values("pk", "code", "statement", "focus_area__code")
    }
    partners, countries = defaultdict(list), defaultdict(list)
    for activity_id, code in Activity.partner_organizations.through.objects.filter(
        activity__objective__focus_area__plan=plan
    ).values_list("activity_id", "organization__code"):
        partners[activity_id].append(code)
    for activity_id, iso3 in Activity.beneficiary_countries.through.objects.filter(
        activity__objective__focus_area__plan=plan
    ).values_list("activity_id", "country__iso3"):
        countries[activity_id].append(iso3)
    activities = {
        key(row["pk"]): {
            "code": row["code"],
            "title": row["title"],
            "description": row["description"],
            "objective": row["objective__code"],
            "lead_organization": row["lead_organization__code"],
            "partner_organizations": sorted(partners[row["pk"]]),
            "beneficiary_countries": sorted(countries[row["pk"]]),
            "planned_start": canonical_date(row["planned_start"]),
            "planned_end": canonical_date(row["planned_end"]),
        }
        for row in Activity.objects.filter(in_plan["activity"]).values(
            "pk",
            "code",
            "title",
            "description",
            "objective__code",
            "lead_organization__code",
            "planned_start",
            "planned_end",
        )  # fmt: skip
    }
    indicators_of_plan = Indicator.objects.filter(
        Q(objective__focus_area__plan=plan) | Q(activity__objective__focus_area__plan=plan)
    )
    targets = defaultdict(list)
    for indicator_id, period_code, value in (
        PeriodTarget.objects.filter(indicator__in=indicators_of_plan.values("pk"))
        .order_by("period__starts_on")
        .values_list("indicator_id", "period__code", "value")
    ):
        targets[indicator_id].append((period_code, canonical_decimal(value)))
    indicators = {
        key(row["pk"]): {
            "code": row["code"],
            "measures": row["objective__code"] or row["activity__code"],
            "name": row["name"],
            "unit": row["unit"],
            "direction": row["direction"],
            "baseline_value": canonical_decimal(row["baseline_value"]),
            "baseline_date": canonical_date(row["baseline_date"]),
            "target_value": canonical_decimal(row["target_value"]),
            "target_date": canonical_date(row["target_date"]),
            PERIOD_TARGETS: dict(targets[row["pk"]]),
        }
        for row in indicators_of_plan.values(
            "pk",
            "code",
            "objective__code",
            "activity__code",
            "name",
            "unit",
            "direction",
            "baseline_value",
            "baseline_date",
            "target_value",
            "target_date",
        )  # fmt: skip
    }
    return {"focus_areas": focus_areas, "objectives": objectives, "activities": activities, "indicators": indicators}


def next_number(plan) -> tuple[int, int]:
    """The number of the plan's next version: 1.0 first, then the current one's minor number plus one."""
    current = PlanVersion.objects.latest_of(plan).values_list("major", "minor").first()
    return (1, 0) if current is None else (current[0], current[1] + 1)


@transaction.atomic
def record_version(*, plan, endorsement: str, by=None, endorsed_at=None, note: str = "", number=None) -> PlanVersion:
    """Freeze the plan as it stands now as its next version (or as ``number``, (major, minor)).

    The plan's row is locked while the number is chosen, so that two changes applied at once make
    two versions one after the other, never two with the same number.
    """
    type(plan).objects.select_for_update().filter(pk=plan.pk).first()
    major, minor = number or next_number(plan)
    snapshot = build_snapshot(plan)
    version = PlanVersion.objects.create(
        plan=plan,
        major=major,
        minor=minor,
        endorsed_at=endorsed_at or timezone.now(),
        endorsed_by=by,
        endorsement=endorsement,
        note=note,
        snapshot=snapshot,
    )
    _write_figure_rows(version, snapshot)
    # The plan's own version field names its current version, as the IATI export and reports show it.
    type(plan).objects.filter(pk=plan.pk).update(version=version.number)
    plan.version = version.number
    return version


def _write_figure_rows(version, snapshot) -> None:
    """Write the version's baselines and targets as rows (``VersionIndicator``, ``VersionPeriodTarget``)."""
    indicators = snapshot["indicators"]
    VersionIndicator.objects.bulk_create(
        VersionIndicator(
            version=version,
            indicator_id=pk_of(pk),
            direction=row["direction"],
            baseline_value=Decimal(row["baseline_value"]),
            target_value=Decimal(row["target_value"]),
            target_date=row["target_date"],
        )
        for pk, row in indicators.items()
    )
    periods = dict(ReportingPeriod.objects.filter(plan=version.plan).values_list("code", "pk"))
    VersionPeriodTarget.objects.bulk_create(
        VersionPeriodTarget(version=version, indicator_id=pk_of(pk), period_id=periods[code], value=Decimal(value))
        for pk, row in indicators.items()
        for code, value in row[PERIOD_TARGETS].items()
        if code in periods
    )


def current_version(plan) -> PlanVersion | None:
    """The plan's current (latest endorsed) version, without its snapshot; None before the first."""
    return PlanVersion.objects.latest_of(plan).defer("snapshot").first()


def governs(version: PlanVersion, kind: str, pk: int) -> bool:
    """Tell whether the version holds the object (one query, a key lookup in the stored snapshot)."""
    return PlanVersion.objects.filter(pk=version.pk, **{f"snapshot__{SECTIONS[kind]}__has_key": key(pk)}).exists()


def entry(version: PlanVersion, kind: str, pk: int) -> dict | None:
    """The object's values as the version holds them (None: not in it), read alone from the stored snapshot."""
    return (
        PlanVersion.objects.filter(pk=version.pk)
        .values_list(f"snapshot__{SECTIONS[kind]}__{key(pk)}", flat=True)
        .first()
    )


def plan_id_of(item) -> int:
    """The id of the plan a governed object belongs to."""
    kind = kind_of(item)
    if kind == "focus_area":
        return item.plan_id
    if kind == "objective":
        return item.focus_area.plan_id
    if kind == "activity":
        return item.objective.focus_area.plan_id
    measured = item.objective if item.objective_id else item.activity.objective
    return measured.focus_area.plan_id


def governing_version(item) -> PlanVersion | None:
    """The endorsed version that governs the object: the plan's current one, when it holds the object."""
    version = PlanVersion.objects.latest_of(plan_id_of(item)).defer("snapshot").first()
    if version is None or item.pk is None or not governs(version, kind_of(item), item.pk):
        return None
    return version


def refuse_direct_edit(*, item, changed: list[str]) -> None:
    """Refuse a direct edit of the governed fields ``changed`` of an object an endorsed version holds."""
    if not changed:
        return
    version = governing_version(item)
    if version is None:
        return
    kind = kind_of(item)
    labels = ", ".join(field_label(kind, name) for name in changed)
    raise NotAllowed(
        _(
            "%(fields)s of %(code)s belong to version %(version)s of the plan, endorsed on %(date)s: "
            "they change only through an approved change request. Propose a change instead."
        )
        % {
            "fields": labels,
            "code": item.code,
            "version": version.number,
            "date": formats.date_format(timezone.localtime(version.endorsed_at)),
        },
        field=changed[0],
        version=version.number,
    )


# Comparing two versions.


@dataclass
class FieldChange:
    label: str
    before: str
    after: str


@dataclass
class Difference:
    """What changed of one object between two versions."""

    kind: str
    code: str
    action: str  # "added", "removed", "changed"
    changes: list[FieldChange] = field(default_factory=list)

    @property
    def kind_label(self) -> str:
        return str(KIND_LABELS[self.kind])

    @property
    def action_label(self) -> str:
        return {"added": _("Added"), "removed": _("Removed"), "changed": _("Changed")}[self.action]


def shown(value) -> str:
    """A canonical value as a page shows it: lists joined, nothing as a dash."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list):
        return ", ".join(value)
    return str(value)


def field_changes(kind: str, before: dict | None, after: dict | None, fields=None) -> list[FieldChange]:
    """The governed fields that differ between two entries of an object (either may be None), one per
    field; targets per period one per period."""
    before, after = before or {}, after or {}
    changes = []
    for name in fields or GOVERNED[kind]:
        old, new = before.get(name), after.get(name)
        if name == PERIOD_TARGETS:
            old, new = old or {}, new or {}
            for code in sorted(set(old) | set(new)):
                if old.get(code) != new.get(code):
                    label = _("Target for %(period)s") % {"period": code}
                    changes.append(FieldChange(label, shown(old.get(code)), shown(new.get(code))))
        elif old != new and not (shown(old) == "—" and shown(new) == "—"):
            changes.append(FieldChange(field_label(kind, name), shown(old), shown(new)))
    return changes


def compare(older: dict, newer: dict) -> list[Difference]:
    """The differences between two snapshots, by kind (focus areas first), then by code."""
    differences = []
    for kind, section in SECTIONS.items():
        before, after = older.get(section, {}), newer.get(section, {})
        for pk in set(before) | set(after):
            if pk not in before:
                differences.append(Difference(kind, after[pk]["code"], "added", field_changes(kind, None, after[pk])))
            elif pk not in after:
                differences.append(
                    Difference(kind, before[pk]["code"], "removed", field_changes(kind, before[pk], None))
                )
            else:
                changes = field_changes(kind, before[pk], after[pk])
                if before[pk]["code"] != after[pk]["code"]:
                    changes.insert(0, FieldChange(_("Code"), before[pk]["code"], after[pk]["code"]))
                if changes:
                    differences.append(Difference(kind, after[pk]["code"], "changed", changes))
    order = list(SECTIONS)
    differences.sort(key=lambda difference: (order.index(difference.kind), difference.code))
    return differences


def difference_rows(differences: list[Difference]) -> list[list[str]]:
    """The differences as rows of a sheet: kind, code, what happened, field, before, after."""
    rows = []
    for difference in differences:
        for change in difference.changes or [FieldChange("", "", "")]:
            rows.append(
                [difference.kind_label, difference.code, difference.action_label, change.label, change.before,
                 change.after]
            )  # fmt: skip
    return rows


def difference_headers() -> list[str]:
    return [_("Kind"), _("Code"), _("Change"), _("Field"), _("Before"), _("After")]


def difference_csv(differences: list[Difference]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(difference_headers())
    writer.writerows(_safe_cells(row) for row in difference_rows(differences))
    return out.getvalue()


def difference_xlsx(differences: list[Difference], *, title: str) -> bytes:
    """The differences as a workbook of one sheet (Excel opens it), every cell text, none a formula."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = _("Differences")[:31]
    sheet.append([title])
    sheet["A1"].font = Font(bold=True)
    sheet.append(difference_headers())
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for row in difference_rows(differences):
        sheet.append(row)
        # Text stays text: a value starting with "=" is no formula to compute.
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"
    for column, width in zip("ABCDEF", (14, 16, 12, 26, 40, 40), strict=True):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "A3"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _safe_cells(row: list[str]) -> list[str]:
    # A text starting with =, +, - or @ would be read as a formula by a spreadsheet: kept as text.
    return ["'" + cell if cell and cell[0] in "=+-@" and cell != "—" else cell for cell in row]
