"""Import progress updates from a spreadsheet: the template an office fills in, and the import of it.

The template (``template``) has a row per activity the office implements and indicator of it; hidden
columns name the activity and the indicator by code, a hidden first row names each column by key, and
the sheet "About" names the office, the period and the plan's fingerprint, so that a template of another
office, period or plan version is recognised and refused.

The import (``run``) reads the rows of each activity as one update and writes it through the services
that write updates from the pages and the API (``services.create_update``, ``services.edit_update``): the
rules are theirs. Each update is written all or nothing, in a savepoint; a dry run rolls every savepoint
back, so it answers what would happen and writes nothing. Re-importing a file answers "unchanged". The
summary has a line per row of the sheet: the rows of an activity stand or fall together (one refused, the
others are refused with it, naming it), and each row says whether it creates, changes or leaves the update.
Cells are read as their values: a formula as the value the spreadsheet last computed, never evaluated.
"""

import hashlib
import io
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol
from xml.etree.ElementTree import ParseError  # noqa: S405  # its exception only: openpyxl parses

import openpyxl
import xlsxwriter
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from portal import numbers
from portal.errors import DomainError, FileTooLarge, InvalidInput, NotAllowed, UnsupportedFileType
from portal.models import Office
from portal.roles import is_officer

from . import dimensions, evidence, services
from .measurements import MeasurementInput
from .models import RAG, Activity, Indicator, ProgressUpdate, ReportingPeriod

# More rows than an office reports on in a period by far; a larger file is refused before any is read.
MAX_ROWS = 10_000
SHEET, ABOUT = "Updates", "About"
FORMAT = "jap-updates-1"
FIXED_COLUMNS = ("activity", "indicator", "activity_title", "indicator_name", "rag", "percent_complete", "narrative",
                 "value")  # fmt: skip
ZIP_SIGNATURE = b"PK\x03\x04"
# A workbook's XML packs some tenfold; a hundredfold is no spreadsheet of updates, nor are more than
# UNPACKED_LIMIT bytes unpacked (10,000 rows of updates unpack to a few megabytes).
UNPACKED_PER_PACKED = 100
UNPACKED_LIMIT = 64 * 1024 * 1024
# Empty rows are passed over, but not without end: a sheet of a million empty rows takes a minute to read.
MAX_LINES = 2 * MAX_ROWS


class Status:
    CREATE, UPDATE, UNCHANGED, REFUSED = "create", "update", "unchanged", "refused"
    ALL = (CREATE, UPDATE, UNCHANGED, REFUSED)


def may_import_for(user, office: Office) -> bool:
    """Tell whether the user may import updates of the office: its members and the programme officers may."""
    return is_officer(user) or office.memberships.filter(user=user).exists()


def check_may_import_for(user, office: Office):
    if not may_import_for(user, office):
        raise NotAllowed(_("You do not belong to office %(office)s.") % {"office": office.code}, field="office")


@dataclass
class Plan:
    """What an office reports on in a period: its activities (visible to the user), each with its indicators."""

    office: Office
    period: ReportingPeriod
    activities: list[Activity]
    indicators: dict[int, list[Indicator]]
    countries: list[str]

    @classmethod
    def read(cls, *, by, office: Office, period: ReportingPeriod) -> "Plan":
        activities = list(
            Activity.objects.visible_to(by)
            .filter(implementing_offices=office, objective__focus_area__plan=period.plan_id)
            .prefetch_related("beneficiary_countries")
            .order_by("code")
        )
        objectives = {activity.objective_id for activity in activities}
        found = Indicator.objects.visible_to(by).filter(
            Q(activity__in=activities) | Q(activity__isnull=True, objective__in=objectives)
        )
        found = list(found.order_by("code"))
        indicators = {
            activity.pk: [
                each for each in found if each.activity_id == activity.pk or each.objective_id == activity.objective_id
            ]
            for activity in activities
        }
        countries = sorted(
            {country.iso3 for activity in activities for country in activity.beneficiary_countries.all()}
        )
        return cls(office=office, period=period, activities=activities, indicators=indicators, countries=countries)

    def fingerprint(self) -> str:
        """A digest of the plan's version and of what the template's rows and columns stand for."""
        plan = self.period.plan
        lines = [plan.code, plan.version, self.office.code, self.period.code, *self.columns()]
        for activity in self.activities:
            for indicator in self.indicators[activity.pk]:
                lines.append(f"{activity.code}|{indicator.code}|{','.join(d.key for d in dimensions.of(indicator))}")
        return hashlib.sha256("\n".join(lines).encode()).hexdigest()

    def breakdown_columns(self) -> list[tuple[str, str]]:
        """The (key, label) columns of the breakdowns: each category of each dimension the indicators use."""
        used = {d.key for each in self.indicators.values() for indicator in each for d in dimensions.of(indicator)}
        columns = []
        for key, dimension in dimensions.DIMENSIONS.items():
            if key not in used:
                continue
            categories = [(code, code) for code in self.countries] if key == "country" else dimension.categories()
            columns.extend((f"{key}:{code}", f"{dimension.label}: {label}") for code, label in categories)
        return columns

    def columns(self) -> list[str]:
        return [*FIXED_COLUMNS, *(key for key, _label in self.breakdown_columns())]


def template(*, by, office: Office, period: ReportingPeriod) -> bytes:
    """Write the XLSX template of the office's updates for the period."""
    check_may_import_for(by, office)
    plan = Plan.read(by=by, office=office, period=period)
    labels = [_("Activity code"), _("Indicator code"), _("Activity"), _("Indicator"), _("RAG rating"),
              _("Percent complete"), _("Narrative"), _("Value")]  # fmt: skip
    breakdown = plan.breakdown_columns()
    output = io.BytesIO()
    book = xlsxwriter.Workbook(output, {"in_memory": True})
    bold = book.add_format({"bold": True})
    editable = book.add_format({"locked": False})
    sheet = book.add_worksheet(SHEET)
    sheet.write_row(0, 0, plan.columns())
    sheet.write_row(1, 0, [*labels, *(label for _key, label in breakdown)], bold)
    sheet.set_row(0, None, None, {"hidden": True})
    sheet.set_column(0, 1, 14, None, {"hidden": True})
    sheet.set_column(2, 3, 40)
    sheet.set_column(4, 4 + 3 + len(breakdown), 14, editable)
    sheet.set_column(6, 6, 50, editable)
    keys = plan.columns()
    drafts = {
        update.activity_id: update
        for update in ProgressUpdate.objects.filter(
            office=office, period=period, activity__in=plan.activities
        ).prefetch_related("measurements__indicator", "measurements__country")
    }
    row = 2
    for activity in plan.activities:
        draft = drafts.get(activity.pk)
        if draft is not None:
            # The update as it stands, to change: re-importing the template unchanged changes nothing.
            sheet.write_string(row, keys.index("rag"), draft.rag)
            sheet.write_number(row, keys.index("percent_complete"), draft.percent_complete)
            sheet.write_string(row, keys.index("narrative"), draft.narrative)
        stored = _stored(draft) if draft is not None else {}
        for indicator in plan.indicators[activity.pk] or [None]:
            measured = stored.get(indicator.pk) if indicator else None
            if measured is not None:
                sheet.write_number(row, keys.index("value"), measured.value)
                for key, values in measured.breakdown.items():
                    for category, value in values.items():
                        if f"{key}:{category}" in keys:
                            sheet.write_number(row, keys.index(f"{key}:{category}"), value)
            texts = [
                activity.code,
                indicator.code if indicator else "",
                activity.title,
                indicator.name if indicator else "",
            ]
            for column, text in enumerate(texts):
                sheet.write_string(row, column, text)  # text, never read as a formula
            row += 1
    if row > 2:
        sheet.data_validation(2, 4, row - 1, 4, {"validate": "list", "source": [code for code, _l in RAG.choices]})
        sheet.data_validation(2, 5, row - 1, 5, {"validate": "integer", "criteria": "between", "minimum": 0,
                                                 "maximum": 100})  # fmt: skip
    sheet.freeze_panes(2, 4)
    sheet.protect("", {"format_columns": True, "format_rows": True})
    about = book.add_worksheet(ABOUT)
    for number, (key, value) in enumerate(
        [
            ("format", FORMAT),
            ("office", office.code),
            ("period", period.code),
            ("plan", period.plan.code),
            ("plan_version", period.plan.version),
            ("fingerprint", plan.fingerprint()),
        ]  # fmt: skip
    ):
        about.write_row(number, 0, [key, value])
    about.protect()
    book.close()
    return output.getvalue()


@dataclass
class Workbook:
    """An uploaded template, read: its "About" sheet and its filled-in rows as (row number, {key: value})."""

    about: dict
    rows: list[tuple[int, dict]]


def read(upload) -> Workbook:
    """Read an uploaded template; refuse a file that is not an XLSX template, or holds more than MAX_ROWS rows."""
    upload.seek(0, io.SEEK_END)
    evidence.check_size(upload.tell())
    upload.seek(0)
    if upload.read(4) != ZIP_SIGNATURE:
        raise UnsupportedFileType(_("This file is not an XLSX workbook."), field="file")
    upload.seek(0)
    try:
        # What the workbook unpacks to, bounded as the file is (a small file may unpack to gigabytes).
        with zipfile.ZipFile(upload) as packed:
            unpacked = sum(member.file_size for member in packed.infolist())
        evidence.check_size(unpacked // UNPACKED_PER_PACKED)
        if unpacked > UNPACKED_LIMIT:
            raise FileTooLarge(
                _("This workbook unpacks to more than %(limit)s MB, more than any template of the portal.")
                % {"limit": UNPACKED_LIMIT // (1024 * 1024)},
                field="file",
            )
        upload.seek(0)
        book = openpyxl.load_workbook(upload, read_only=True, data_only=True)
        upload.seek(0)
        # The formulas themselves, to tell a formula whose value was never computed from an empty cell.
        formulas = openpyxl.load_workbook(upload, read_only=True, data_only=False)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError, ParseError):
        raise UnsupportedFileType(_("This file is not an XLSX workbook."), field="file") from None
    try:
        return _read_rows(book, formulas)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, ParseError):
        # A sheet's XML damaged past its first lines is only met here, as the rows are read.
        raise UnsupportedFileType(_("This workbook is damaged: it cannot be read."), field="file") from None
    finally:
        book.close()
        formulas.close()


def _read_rows(book, formulas) -> Workbook:
    if SHEET not in book.sheetnames or ABOUT not in book.sheetnames:
        raise InvalidInput(_("This workbook is not an update template of the portal."), field="file")
    about = {str(row[0]): row[1] for row in book[ABOUT].iter_rows(values_only=True) if row and row[0]}
    if about.get("format") != FORMAT:
        raise InvalidInput(_("This workbook is not an update template of the portal."), field="file")
    sheets = book[SHEET], formulas[SHEET]
    for sheet in sheets:
        # Every row, whatever extent the file claims for its sheet (read-only sheets trust it).
        sheet.reset_dimensions()
    lines = zip(*(sheet.iter_rows(values_only=True) for sheet in sheets), strict=False)
    keys = [str(key) if key is not None else "" for key in next(lines, ((), ()))[0]]
    next(lines, None)  # the headings people read
    rows = []
    for number, (values, written) in enumerate(lines, start=3):
        if number > MAX_LINES or len(rows) == MAX_ROWS and not _empty(values):
            raise FileTooLarge(
                _("This file has more than %(limit)s rows; split it into files of at most %(limit)s rows.")
                % {"limit": numbers.show(MAX_ROWS)},
                field="file",
            )
        uncomputed = [
            index for index, (value, formula) in enumerate(zip(values, written, strict=False))
            if value is None and isinstance(formula, str) and formula.startswith("=")
        ]  # fmt: skip
        if uncomputed:
            cell = f"{get_column_letter(uncomputed[0] + 1)}{number}"
            raise InvalidInput(
                _("Cell %(cell)s holds a formula whose value was never computed: open the file in Excel, save it, "
                  "and upload it again.") % {"cell": cell},
                field="file",
            )  # fmt: skip
        if not _empty(values):
            rows.append((number, dict(zip(keys, values, strict=False))))
    return Workbook(about=about, rows=rows)


def _empty(values) -> bool:
    return all(value is None or value == "" for value in values)


@dataclass
class Result:
    """What came, or would come, of one row of the sheet."""

    row: int
    activity: str
    indicator: str
    status: str = Status.UNCHANGED
    reason: str = ""
    rule: str = ""
    update: str = ""
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"row": self.row, "activity": self.activity, "indicator": self.indicator, "status": self.status,
                "reason": self.reason, "rule": self.rule, "update": self.update,
                "warnings": self.warnings}  # fmt: skip


class _Refused(Exception):
    def __init__(self, message: str, rule: str, row: int | None = None):
        super().__init__(message)
        self.message, self.rule, self.row = message, rule, row


class _RollBack(Exception):
    """Raised to undo an activity's writes in a dry run."""


def summary(*, office: Office, period: ReportingPeriod, dry_run: bool, results: list[Result]) -> dict:
    """The summary of an import: a line per row of the sheet, in the sheet's order, and the rows by outcome."""
    results = sorted(results, key=lambda result: result.row)
    counts = {status: sum(1 for result in results if result.status == status) for status in Status.ALL}
    return {"office": office.code, "period": period.code, "dry_run": dry_run, "counts": counts,
            "rows": [result.as_dict() for result in results]}  # fmt: skip


def target_of(*, by, book: Workbook, office: Office | None = None, period: ReportingPeriod | None = None):
    """The office and period the template is for; refuse a template of another office, period or plan version."""
    named_office = Office.objects.filter(code=book.about.get("office") or "").first()
    named_period = ReportingPeriod.objects.select_related("plan").filter(code=book.about.get("period") or "").first()
    if named_office is None or named_period is None:
        raise InvalidInput(_("This workbook is not an update template of the portal."), field="file")
    if (office and office != named_office) or (period and period != named_period):
        raise InvalidInput(
            _("This is the template of office %(office)s for %(period)s; download the template of the office "
              "and period you report on.") % {"office": named_office.code, "period": named_period.code},
            field="file",
        )  # fmt: skip
    check_may_import_for(by, named_office)
    plan = Plan.read(by=by, office=named_office, period=named_period)
    if book.about.get("fingerprint") != plan.fingerprint():
        raise InvalidInput(
            _("This template was made for another version of the plan; download a new template."), field="file"
        )
    return plan


def run(*, by, upload, dry_run: bool, office: Office | None = None, period: ReportingPeriod | None = None) -> dict:
    """Import the updates of an uploaded template, or with ``dry_run`` tell what importing would do; answer the
    summary: per row, created, updated, unchanged or refused (with the reason)."""
    book = read(upload)
    plan = target_of(by=by, book=book, office=office, period=period)
    return process(by=by, book=book, plan=plan, dry_run=dry_run)


# The fewest activities imported in one transaction, between two checkpoints; a large file is cut into at
# most CHECKPOINTS parts, so that the summary written at each checkpoint is not rewritten too often.
CHECKPOINT_EVERY = 20
CHECKPOINTS = 50


class Checkpoint(Protocol):
    def __call__(self, *, done: int, total: int, results: list[Result]) -> None: ...


def process(*, by, book: Workbook, plan: Plan, dry_run: bool, checkpoint: Checkpoint | None = None) -> dict:
    """Import, or with ``dry_run`` check, the rows of a template already read and found to be the plan's.

    The activities are imported some at a time, each part in a transaction that ends with a call to
    ``checkpoint`` (rows done, rows in all, the results so far): what it writes (the progress, the summary so
    far) commits with the updates it tells of, or not at all. It raises to stop the import, and its part is
    undone with it."""
    activities = {activity.code: activity for activity in plan.activities}
    groups: dict[str, list] = {}
    for number, row in book.rows:
        groups.setdefault(str(row.get("activity") or ""), []).append((number, row))
    existing = {
        update.activity_id: update
        for update in ProgressUpdate.objects.filter(
            office=plan.office, period=plan.period, activity__in=[a for c, a in activities.items() if c in groups]
        ).prefetch_related("measurements__indicator", "measurements__country")
    }
    items = list(groups.items())
    size = max(CHECKPOINT_EVERY, -(-len(items) // CHECKPOINTS))
    results: list[Result] = []
    for start in range(0, len(items), size):
        with transaction.atomic():
            for code, rows in items[start : start + size]:
                activity = activities.get(code)
                results.extend(
                    _import_activity(
                        by=by,
                        plan=plan,
                        code=code,
                        activity=activity,
                        rows=rows,
                        dry_run=dry_run,
                        existing=existing.get(activity.pk) if activity else None,
                    )
                )
            if checkpoint is not None:
                checkpoint(done=len(results), total=len(book.rows), results=results)
    return summary(office=plan.office, period=plan.period, dry_run=dry_run, results=results)


def _import_activity(*, by, plan: Plan, code: str, activity: Activity | None, rows, existing, dry_run: bool):
    """Import, or check, the rows of one activity as its update, all or nothing; return a result per row."""
    results = [Result(row=number, activity=code, indicator=str(row.get("indicator") or "")) for number, row in rows]
    blank = {number for number, row in rows if _blank(row)}
    for result in results:
        if result.row in blank:
            result.reason, result.rule = _("Left blank."), "blank"
    filled = [result for result in results if result.row not in blank]
    if not filled:
        return results
    try:
        if activity is None:
            raise _Refused(
                _("Activity %(activity)s is not one office %(office)s reports on.")
                % {"activity": code or "–", "office": plan.office.code},
                "unknown_activity",
            )
        fields_, measurements, sources = _values(plan, activity, rows)
        changed = _changed_rows(existing, fields_, measurements, sources) if existing else {r.row for r in filled}
        if not changed:
            for result in filled:
                result.update = str(existing.pk)
            return results
        update = _write(by=by, plan=plan, activity=activity, existing=existing, fields_=fields_,
                        measurements=measurements, dry_run=dry_run)  # fmt: skip
    except _Refused as refusal:
        _refuse(filled, message=refusal.message, rule=refusal.rule, row=refusal.row)
        return results
    except DomainError as error:
        by_indicator = {result.indicator: result.row for result in filled}
        row = by_indicator.get(error.extra.get("indicator") or "")
        _refuse(filled, message=error.message, rule=error.extra.get("rule") or error.code, row=row)
        return results
    for result in filled:
        if result.row in changed:
            result.status = Status.UPDATE if existing is not None else Status.CREATE
        # A dry run's new update was never kept: no id to tell.
        result.update = "" if dry_run and existing is None else str(update.pk)
    rows_of = {result.indicator: result for result in filled}
    for warning in update.warnings:
        (rows_of.get(warning.get("indicator") or "") or filled[0]).warnings.append(warning["message"])
    return results


def _refuse(results: list[Result], *, message: str, rule: str, row: int | None):
    """Refuse each filled-in row of an activity: the one at fault with the reason, the others for going with it."""
    for result in results:
        result.status, result.rule = Status.REFUSED, rule
        if row is None or result.row == row:
            result.reason = message
        else:
            result.reason = _("Not imported: row %(row)d of the same activity was refused (%(reason)s).") % {
                "row": row, "reason": message,
            }  # fmt: skip
            result.rule = "activity_refused"


def _write(*, by, plan: Plan, activity: Activity, existing, fields_: dict, measurements: dict, dry_run: bool):
    """Write the activity's update in a savepoint; a dry run undoes it. Return the update as written."""
    try:
        with transaction.atomic():
            if existing is None:
                if not fields_.get("rag"):
                    raise _Refused(_("Give the activity's RAG rating."), "rag_missing")
                update = services.create_update(
                    by=by, activity=activity, period=plan.period, office=plan.office,
                    rag=fields_["rag"], percent_complete=fields_.get("percent_complete", 0),
                    narrative=fields_.get("narrative", ""), measurements=list(measurements.values()),
                    source=ProgressUpdate.Source.IMPORT,
                )  # fmt: skip
            else:
                update = services.edit_update(
                    by=by, update=existing, expected_version=existing.version, changes=fields_,
                    measurements=list({**_stored(existing), **measurements}.values()),
                )  # fmt: skip
            if dry_run:
                raise _RollBack(update)
    except _RollBack as undone:
        return undone.args[0]
    return update


# The cells a person fills in (and the breakdown's, "dimension:category"); a row with none filled is blank.
FILLED_IN = ("rag", "percent_complete", "narrative", "value")


def _blank(row: dict) -> bool:
    return all(value in (None, "") for key, value in row.items() if key in FILLED_IN or ":" in key)


def _field_names() -> dict:
    return {"rag": _("RAG rating"), "percent_complete": _("Percent complete"), "narrative": _("Narrative")}


def _changed_rows(update: ProgressUpdate, fields_: dict, measurements: dict, sources: dict) -> set[int]:
    """The rows that change something of the update: a field of it, or an indicator's figures."""
    stored = _stored(update)
    changed = {name for name, value in fields_.items() if getattr(update, name) != value}
    changed |= {
        indicator_id for indicator_id, given in measurements.items()
        if indicator_id not in stored or (stored[indicator_id].value, stored[indicator_id].breakdown)
        != (given.value, given.breakdown)
    }  # fmt: skip
    return {number for number, given in sources.items() if changed.intersection(given)}


def _values(plan: Plan, activity: Activity, rows) -> tuple[dict, dict, dict]:
    """The update's fields and its measurements by indicator id, as the rows give them, and the rows that give
    each: {row number: (field names, indicator id or None)}."""
    indicators = {indicator.code: indicator for indicator in plan.indicators[activity.pk]}
    rag_codes = {str(label).lower(): code for code, label in RAG.choices} | {code: code for code in RAG.values}
    fields_, measurements, given_in, sources = {}, {}, {}, {}

    def give(name, value, number):
        # The update's fields may be given on any of its rows, once, or alike on several.
        if name in fields_ and fields_[name] != value:
            raise _Refused(
                _("Row %(row)d: %(column)s differs from row %(first)d's; give it once for the activity.")
                % {"row": number, "column": _field_names()[name], "first": given_in[name]},
                "conflicting_values", number,
            )  # fmt: skip
        fields_.setdefault(name, value)
        given_in.setdefault(name, number)
        sources.setdefault(number, []).append(name)

    for number, row in rows:
        rag = row.get("rag")
        if rag not in (None, ""):
            code = rag_codes.get(str(rag).strip().lower())
            if code is None:
                raise _Refused(_("Row %(row)d: %(value)s is not a RAG rating.") % {"row": number, "value": rag},
                               "rag", number)  # fmt: skip
            give("rag", code, number)
        percent = _number(row.get("percent_complete"), number, _("Percent complete"))
        if percent is not None:
            if percent != percent.to_integral_value() or not 0 <= percent <= 100:
                raise _Refused(_("Row %(row)d: percent complete is a whole number from 0 to 100.") % {"row": number},
                               "percent_complete", number)  # fmt: skip
            give("percent_complete", int(percent), number)
        narrative = row.get("narrative")
        if narrative not in (None, ""):
            give("narrative", str(narrative), number)
        code = row.get("indicator")
        breakdown = {}
        for key, cell in row.items():
            if ":" in key and cell not in (None, ""):
                dimension, category = key.split(":", 1)
                value = _number(cell, number, key)
                breakdown.setdefault(dimension, {})[category] = value
        value = _number(row.get("value"), number, _("Value"))
        if value is None and not breakdown:
            continue
        indicator = indicators.get(str(code or ""))
        if indicator is None:
            raise _Refused(
                _("Row %(row)d: %(indicator)s is not an indicator of activity %(activity)s.")
                % {"row": number, "indicator": code or "–", "activity": activity.code},
                "unknown_indicator", number,
            )  # fmt: skip
        if value is None:
            raise _Refused(_("Row %(row)d: give the total value of %(indicator)s.") % {"row": number,
                           "indicator": indicator.code}, "value_missing", number)  # fmt: skip
        if indicator.pk in measurements:
            raise _Refused(
                _("Row %(row)d: %(indicator)s is given on another row too; give each indicator once.")
                % {"row": number, "indicator": indicator.code},
                "duplicate_indicator", number,
            )  # fmt: skip
        measurements[indicator.pk] = MeasurementInput(indicator=indicator, value=value, breakdown=breakdown)
        sources.setdefault(number, []).append(indicator.pk)
    return fields_, measurements, sources


def _number(cell, row: int, column: str) -> Decimal | None:
    """A cell's number: a number cell as it is, a text cell read as the language writes numbers."""
    if cell is None or cell == "":
        return None
    if isinstance(cell, bool):
        return Decimal(int(cell))
    if isinstance(cell, int | float | Decimal):
        return Decimal(str(cell))
    try:
        return numbers.parse(str(cell))
    except numbers.NotANumber as error:
        raise _Refused(
            _("Row %(row)d, %(column)s: %(value)s is not a number (write it as %(example)s).")
            % {"row": row, "column": column, "value": cell, "example": error.example},
            "not_a_number",
            row,
        ) from None


def _stored(update: ProgressUpdate) -> dict:
    """The update's stored measurements, as inputs by indicator id."""
    rows = list(update.measurements.all())
    totals, breakdowns = dimensions.breakdown_of(rows)
    return {
        indicator_id: MeasurementInput(
            indicator=row.indicator, value=row.value, note=row.note, breakdown=breakdowns.get(indicator_id, {})
        )
        for indicator_id, row in totals.items()
    }
