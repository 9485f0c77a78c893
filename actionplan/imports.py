"""Import progress updates from a spreadsheet: the template an office fills in, and the import of it.

The template (``template``) has a row per activity the office implements and indicator of it; hidden
columns name the activity and the indicator by code, a hidden first row names each column by key, and
the sheet "About" names the office, the period and the plan's fingerprint, so that a template of another
office, period or plan version is recognised and refused.

The import (``run``) reads the rows of each activity as one update and writes it through the services
that write updates from the pages and the API (``services.create_update``, ``services.edit_update``): the
rules are theirs. Each update is written all or nothing, in a savepoint; a dry run rolls every savepoint
back, so it answers what would happen and writes nothing. Re-importing a file answers "unchanged".
Cells are read as their values: a formula as the value the spreadsheet last computed, never evaluated.
"""

import hashlib
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from xml.etree.ElementTree import ParseError  # noqa: S405  # its exception only: openpyxl parses

import openpyxl
import xlsxwriter
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from portal import numbers
from portal.errors import DomainError, FileTooLarge, InvalidInput, NotAllowed, UnsupportedFileType
from portal.models import Office
from portal.roles import is_officer

from . import dimensions, services
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
    EMPTY = "empty"  # rows left blank: not an update, left out of the summary
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
    _check_size(upload.tell())
    upload.seek(0)
    if upload.read(4) != ZIP_SIGNATURE:
        raise UnsupportedFileType(_("This file is not an XLSX workbook."), field="file")
    upload.seek(0)
    try:
        # What the workbook unpacks to, bounded as the file is (a small file may unpack to gigabytes).
        with zipfile.ZipFile(upload) as packed:
            unpacked = sum(member.file_size for member in packed.infolist())
        _check_size(unpacked // UNPACKED_PER_PACKED)
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


def _check_size(size: int):
    limit = settings.EVIDENCE_MAX_BYTES
    if size > limit:
        raise FileTooLarge(
            _("The file is %(size)d bytes; the limit is %(limit)d bytes.") % {"size": size, "limit": limit},
            field="file",
        )


@dataclass
class Result:
    """What came, or would come, of one activity's rows."""

    activity: str
    rows: list[int]
    status: str = Status.REFUSED
    reason: str = ""
    rule: str = ""
    update: str = ""
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"activity": self.activity, "rows": self.rows, "status": self.status, "reason": self.reason,
                "rule": self.rule, "update": self.update, "warnings": self.warnings}  # fmt: skip


class _Refused(Exception):
    def __init__(self, message: str, rule: str):
        super().__init__(message)
        self.message, self.rule = message, rule


class _RollBack(Exception):
    """Raised to undo a row's writes in a dry run."""


def summary(*, office: Office, period: ReportingPeriod, dry_run: bool, results: list[Result]) -> dict:
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
    summary: per activity, created, updated, unchanged or refused (with the reason)."""
    book = read(upload)
    plan = target_of(by=by, book=book, office=office, period=period)
    return process(by=by, book=book, plan=plan, dry_run=dry_run)


# How many activities are imported between two reports of progress.
PROGRESS_EVERY = 20


def process(*, by, book: Workbook, plan: Plan, dry_run: bool, progress: Callable[[int, int], None] | None = None):
    """Import, or with ``dry_run`` check, the rows of a template already read and found to be the plan's; tell
    ``progress`` (done, total) now and then."""
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
    results = []
    for done, (code, rows) in enumerate(groups.items()):
        if progress is not None and done % PROGRESS_EVERY == 0:
            progress(done, len(groups))
        result = Result(activity=code, rows=[number for number, _row in rows], status=Status.EMPTY)
        activity = activities.get(code)
        try:
            if activity is None:
                raise _Refused(
                    _("Activity %(activity)s is not one office %(office)s reports on.")
                    % {"activity": code or "–", "office": plan.office.code},
                    "unknown_activity",
                )
            _import_one(by=by, plan=plan, activity=activity, rows=rows, existing=existing.get(activity.pk),
                        result=result, dry_run=dry_run)  # fmt: skip
        except _Refused as refusal:
            result.status, result.reason, result.rule = Status.REFUSED, refusal.message, refusal.rule
        except DomainError as error:
            result.status, result.reason = Status.REFUSED, error.message
            result.rule = error.extra.get("rule") or error.code
        if result.status != Status.EMPTY:
            results.append(result)
    return summary(office=plan.office, period=plan.period, dry_run=dry_run, results=results)


def _import_one(*, by, plan: Plan, activity: Activity, rows, existing, result: Result, dry_run: bool):
    fields_, measurements = _values(plan, activity, rows)
    if not fields_ and not measurements:
        return
    if existing is not None and _same(existing, fields_, measurements):
        result.status, result.update = Status.UNCHANGED, str(existing.pk)
        return
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
                result.status = Status.CREATE
            else:
                update = services.edit_update(
                    by=by, update=existing, expected_version=existing.version, changes=fields_,
                    measurements=list({**_stored(existing), **measurements}.values()),
                )  # fmt: skip
                result.status = Status.UPDATE
            result.update = str(update.pk)
            result.warnings = [warning["message"] for warning in update.warnings]
            if dry_run:
                raise _RollBack
    except _RollBack:
        if existing is None:
            result.update = ""


def _values(plan: Plan, activity: Activity, rows) -> tuple[dict, dict]:
    """The update's fields and its measurements by indicator id, as the rows give them."""
    indicators = {indicator.code: indicator for indicator in plan.indicators[activity.pk]}
    rag_codes = {str(label).lower(): code for code, label in RAG.choices} | {code: code for code in RAG.values}
    fields_, measurements = {}, {}
    for number, row in rows:
        rag = row.get("rag")
        if rag not in (None, "") and "rag" not in fields_:
            code = rag_codes.get(str(rag).strip().lower())
            if code is None:
                raise _Refused(_("Row %(row)d: %(value)s is not a RAG rating.") % {"row": number, "value": rag}, "rag")
            fields_["rag"] = code
        percent = _number(row.get("percent_complete"), number, _("Percent complete"))
        if percent is not None and "percent_complete" not in fields_:
            if percent != percent.to_integral_value() or not 0 <= percent <= 100:
                raise _Refused(_("Row %(row)d: percent complete is a whole number from 0 to 100.") % {"row": number},
                               "percent_complete")  # fmt: skip
            fields_["percent_complete"] = int(percent)
        narrative = row.get("narrative")
        if narrative not in (None, "") and "narrative" not in fields_:
            fields_["narrative"] = str(narrative)
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
                "unknown_indicator",
            )
        if value is None:
            raise _Refused(_("Row %(row)d: give the total value of %(indicator)s.") % {"row": number,
                           "indicator": indicator.code}, "value_missing")  # fmt: skip
        measurements[indicator.pk] = MeasurementInput(indicator=indicator, value=value, breakdown=breakdown)
    return fields_, measurements


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


def _same(update: ProgressUpdate, fields_: dict, measurements: dict) -> bool:
    """Tell whether the rows change nothing of the update."""
    if any(getattr(update, name) != value for name, value in fields_.items()):
        return False
    stored = _stored(update)
    return all(
        indicator_id in stored
        and stored[indicator_id].value == m.value
        and stored[indicator_id].breakdown == m.breakdown
        for indicator_id, m in measurements.items()
    )
