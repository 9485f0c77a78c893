"""Render a report's snapshot as an XLSX workbook: one sheet per section, typed cells, frozen headers.

Written by ``xlsx``, the report's own streaming writer (its docstring says why no library),
one sheet after another: each sheet's rows go into the file as they are written. Text from
the data goes through ``neutralise`` so that no cell runs as a formula, and is cut at
Excel's limit of 32,767 characters; numbers are numbers and dates are dates, with number
formats (Excel shows them the reader's way). A date Excel cannot hold (before 1900) is
written as its ISO text.

Written in the active language (the caller overrides it): sheet names and headers through
gettext, the plan's fixed names from the catalogue; sheets read right to left in Arabic.
"""

import datetime
import re
from pathlib import Path

from django.utils import timezone
from django.utils.translation import gettext as _

from actionplan.exports import neutralise
from portal.templatetags.locale_tags import fixed

from . import languages
from .labels import labels
from .xlsx import BOLD, NUMBER_STYLES, Workbook

DATE_COLUMNS = "date"
# Excel refuses these in a sheet's name, and names longer than 31 characters.
NOT_IN_SHEET_NAMES = re.compile(r"[\[\]:*?/\\]")
SHEET_NAME_LENGTH = 31
FIRST_EXCEL_YEAR = 1900


def sheet_name(title: str, taken: set[str]) -> str:
    """Turn a (translated) title into a sheet name Excel accepts, unique in the workbook (``taken``, lower case)."""
    name = NOT_IN_SHEET_NAMES.sub(" ", title).strip().strip("'")[:SHEET_NAME_LENGTH].strip() or _("Sheet")
    candidate, number = name, 2
    while candidate.lower() in taken:
        suffix = f" ({number})"
        candidate, number = name[: SHEET_NAME_LENGTH - len(suffix)].rstrip() + suffix, number + 1
    taken.add(candidate.lower())
    return candidate


class _Sheet:
    """Write one table: a bold frozen header row, then typed rows."""

    def __init__(self, workbook, title: str, columns: list[tuple[str, int, str]], *, taken, rtl=False):
        self.sheet = workbook.add_sheet(
            sheet_name(title, taken), [(name, width) for name, width, _kind in columns], rtl=rtl
        )
        self.kinds = [kind for _title, _width, kind in columns]

    def write(self, values: list, *, bold=False, kinds: list[str] | None = None):
        """Write a row; ``kinds`` overrides the columns' kinds for this row (the cover's values differ)."""
        cells, styles = [], []
        for value, kind in zip(values, kinds or self.kinds, strict=True):
            style = NUMBER_STYLES[kind][bold] if kind in NUMBER_STYLES else (BOLD if bold else 0)
            if value is None or value == "":
                value = None
            elif kind == DATE_COLUMNS:
                value = datetime.date.fromisoformat(value[:10])
                if value.year < FIRST_EXCEL_YEAR:
                    value, style = value.isoformat(), BOLD if bold else 0
            elif kind == "datetime":
                # Excel has no time zones: the portal's local time, as on its pages.
                value = timezone.localtime(datetime.datetime.fromisoformat(value)).replace(tzinfo=None)
            elif kind not in ("int", "num"):
                value = neutralise(str(value))
            cells.append(value)
            styles.append(style)
        self.sheet.row(cells, styles)

    def close(self):
        self.sheet.close()


def write_xlsx(snapshot: dict, *, content_hash: str, path: Path):
    """Write the report's workbook to ``path``."""
    names = labels()
    workbook = Workbook(path)
    yes, no = _("yes"), _("no")
    taken: set[str] = set()
    rtl = languages.direction(languages.active()) == "rtl"

    def sheet(title, columns):
        return _Sheet(workbook, title, columns, taken=taken, rtl=rtl)

    period, scope, previous = snapshot["period"], snapshot["scope"], snapshot["changes"]["previous"]
    cover = sheet(_("Cover"), [(_("Item"), 22, "str"), (_("Value"), 70, "str")])
    version = snapshot.get("version")
    for label, value, kind in [
        (_("Plan"), f"{snapshot['plan']['code']} — {fixed(snapshot['plan']['title'])}", "str"),
        (_("Period"), period["code"], "str"),
        (
            _("Scope"),
            f"{scope['focus_area']} — {fixed(scope['name'])}" if scope["focus_area"] else _("Whole plan"),
            "str",
        ),
        *(
            [(_("Plan version"), _("as endorsed at version %(number)s") % {"number": version["number"]}, "str")]
            if version
            else []
        ),
        (_("Compiled at"), snapshot["compiled_at"], "datetime"),
        (_("Report"), snapshot["report"], "str"),
        (_("Content hash (SHA-256)"), content_hash, "str"),
        (
            _("Changes compared with"),
            f"{previous['period']}, {previous['compiled_at']} ({previous['content_hash']})" if previous else "–",
            "str",
        ),
    ]:
        cover.write([label, value], kinds=["str", kind])
    cover.close()

    status_keys, rag_keys = list(names["status"]), list(names["rag"])
    summary = sheet(
        _("Summary"),
        [(_("Focus area"), 10, "str"), (_("Name"), 36, "str"), (_("Activities"), 10, "int")]
        + [(names["status"][key], 11, "int") for key in status_keys]
        + [(names["rag"][key], 11, "int") for key in rag_keys]
        + [
            (_("Indicators (all)"), 10, "int"),
            (_("With a figure for the period"), 12, "int"),
            (_("Target reached"), 12, "int"),
            # Translators: a column heading; its % is a sign, not a placeholder. xgettext:no-python-format
            (_("Average % of target"), 12, "num"),
            (_("Updates expected"), 10, "int"),
            (_("On time"), 10, "int"),
            (_("Late"), 10, "int"),
            (_("Missing"), 10, "int"),
        ],
    )

    def summary_row(code, name, row, average, *, bold=False):
        summary.write(
            [code, name, row["activities"]]
            + [row["status"][key] for key in status_keys]
            + [row["rag"][key] for key in rag_keys]
            + [row["indicators"][key] for key in ("all", "with_actual", "on_track")]
            + [average]
            + [row["reporting"][key] for key in ("expected", "on_time", "late", "missing")],
            bold=bold,
        )

    for row in snapshot["summary"]:
        summary_row(row["code"], fixed(row["name"]), row, row["indicators"]["average_percent"])
    summary_row(_("Total"), "", snapshot["totals"], None, bold=True)
    summary.close()

    objectives = sheet(
        _("Objectives"), [(_("Focus area"), 10, "str"), (_("Objective"), 12, "str"), (_("Statement"), 90, "str")]
    )
    for section in snapshot["focus_areas"]:
        for row in section["objectives"]:
            objectives.write([section["code"], row["code"], fixed(row["statement"])])
    objectives.close()

    indicators = sheet(
        _("Indicators"),
        [
            (_("Focus area"), 10, "str"), (_("Indicator"), 16, "str"), (_("Name"), 40, "str"), (_("Unit"), 10, "str"),
            (_("Measures"), 12, "str"), (_("Measure"), 11, "str"), (_("Direction"), 10, "str"),
            (_("Across offices"), 12, "str"), (_("Across periods"), 12, "str"), (_("Baseline"), 11, "num"),
            (_("End target"), 11, "num"), (_("Target date"), 11, "date"), (_("Figure"), 11, "num"),
            (_("Latest values of"), 10, "str"), (_("Values combined"), 10, "int"),
            (_("Carried forward"), 10, "int"), (_("Compared with"), 11, "num"), (_("Target compared with"), 16, "str"),
            # Translators: a column heading; its % is a sign, not a placeholder. xgettext:no-python-format
            (_("% of target"), 10, "num"), (_("Target reached"), 9, "str"),
        ],
    )  # fmt: skip
    for section in snapshot["focus_areas"]:
        area = section["code"]
        for row in section["indicators"]:
            indicators.write(
                [area, row["code"], row["name"], row["unit"], row["measures"], names["measure"].get(row["measure"]),
                 names["direction"].get(row["direction"]), names["office_rule"].get(row["office_rule"]),
                 names["period_rule"].get(row["period_rule"]), row["baseline"], row["target"], row["target_date"],
                 row["actual"], row["actual_period"], row["values"] or None, row["carried"] or None,
                 row["compared_with"], names["target_kind"].get(row["target_kind"]), row["percent_of_target"],
                 (yes if row["on_track"] else no) if row["actual"] is not None else None]
            )  # fmt: skip
    indicators.close()

    activities = sheet(
        _("Activities"),
        [
            (_("Focus area"), 10, "str"), (_("Activity"), 14, "str"), (_("Title"), 40, "str"),
            (_("Objective"), 10, "str"), (_("Status"), 11, "str"), (_("Sensitivity"), 11, "str"),
            (_("Lead organisation"), 12, "str"), (_("Planned end"), 11, "date"),
            (_("RAG (latest approved)"), 14, "str"),
            # Translators: a column heading; its % is a sign, not a placeholder. xgettext:no-python-format
            (_("% complete"), 10, "int"), (_("Update's period"), 10, "str"), (_("Update's office"), 16, "str"),
            (_("Narrative (excerpt)"), 60, "str"),
        ],
    )  # fmt: skip
    for section in snapshot["focus_areas"]:
        area = section["code"]
        for row in section["activities"]:
            activities.write(
                [area, row["code"], row["title"], row["objective"], names["status"][row["status"]],
                 names["sensitivity"].get(row["sensitivity"]), row["lead"], row["planned_end"],
                 names["rag"][row["rag"] or "none"], row["percent"], row["update_period"], row["office"],
                 row["narrative"]]
            )  # fmt: skip
    activities.close()

    offices = sheet(
        _("Reporting by office"),
        [(_("Focus area"), 10, "str"), (_("Office"), 18, "str"), (_("Name"), 40, "str"), (_("Expected"), 10, "int"),
         (_("On time"), 10, "int"), (_("Late"), 10, "int"), (_("Missing"), 10, "int")],
    )  # fmt: skip
    for section in snapshot["focus_areas"]:
        for row in section["reporting"]:
            offices.write(
                [section["code"], row["office"], fixed(row["name"]), row["expected"], row["on_time"], row["late"],
                 row["missing"]]
            )  # fmt: skip
    offices.close()

    gaps = sheet(
        _("Missing and late"),
        [(_("Focus area"), 10, "str"), (_("Activity"), 14, "str"), (_("Office"), 18, "str"),
         (_("Update"), 10, "str"), (_("Submitted on"), 12, "date")],
    )  # fmt: skip
    for section in snapshot["focus_areas"]:
        area = section["code"]
        for row in section["missing"]:
            gaps.write([area, row["activity"], row["office"], names["reporting"]["missing"], None])
        for row in section["late"]:
            gaps.write([area, row["activity"], row["office"], names["reporting"]["late"], row["submitted_on"]])
    gaps.close()

    breakdowns = sheet(
        _("Breakdowns"),
        [(_("Indicator"), 16, "str"), (_("Broken down by"), 14, "str"), (_("Category"), 16, "str"),
         (_("Figure"), 11, "num")],
    )  # fmt: skip
    for row in snapshot.get("breakdowns", []):
        breakdowns.write(
            [row["indicator"], names["dimension"].get(row["dimension"]), names["category"].get(row["category"],
             row["category"]), row["value"]]
        )  # fmt: skip
    breakdowns.close()

    conversations = sheet(
        _("Conversations"),
        [(_("Activity"), 14, "str"), (_("Office"), 18, "str"), (_("When"), 16, "datetime"), (_("Who"), 22, "str"),
         (_("What"), 14, "str"), (_("Version"), 8, "int"), (_("Message"), 80, "str")],
    )  # fmt: skip
    for row in snapshot.get("conversations", []):
        conversations.write(
            [row["activity"], row["office"], row["at"], row["author"], names["comment_kind"].get(row["kind"]),
             row["version"], row["text"]]
        )  # fmt: skip
    conversations.close()

    items = sheet(
        _("Action items"),
        [(_("Action"), 60, "str"), (_("Owner"), 18, "str"), (_("Meeting"), 11, "date"), (_("Due on"), 11, "date"),
         (_("State"), 12, "str"), (_("Overdue"), 9, "str")],
    )  # fmt: skip
    for item in snapshot["action_items"]:
        items.write(
            [item["description"], item["owner"], item["meeting"], item["due_on"],
             names["item_state"].get(item["state"]), yes if item["overdue"] else no]
        )  # fmt: skip
    items.close()

    changes = snapshot["changes"]
    moved = sheet(
        _("Changes"),
        [(_("Change"), 16, "str"), (_("Focus area"), 10, "str"), (_("Code"), 16, "str"), (_("Title"), 40, "str"),
         (_("From"), 14, "str"), (_("To"), 14, "str"), (_("Value from"), 11, "num"), (_("Value to"), 11, "num"),
         (_("Change in value"), 11, "num")],
    )  # fmt: skip
    for row in changes["rag_changes"]:
        moved.write(
            [_("RAG"), row["area"], row["activity"], row["title"], names["rag"][row["from"] or "none"],
             names["rag"][row["to"] or "none"], None, None, None]
        )  # fmt: skip
    for row in changes["status_changes"]:
        moved.write(
            [_("Status"), row["area"], row["activity"], row["title"], names["status"].get(row["from"]),
             names["status"].get(row["to"]), None, None, None]
        )  # fmt: skip
    for row in changes["indicators"]:
        moved.write(
            [
                _("Indicator"),
                row["area"],
                row["indicator"],
                row["name"],
                None,
                None,
                row["from"],
                row["to"],
                row["change"],
            ]
        )
    moved.close()
    workbook.close()
