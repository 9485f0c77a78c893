"""Export the activity register to CSV and XLSX that open cleanly in Excel."""

import csv
import datetime
import io
import re

import xlsxwriter
from django.http import HttpResponse, StreamingHttpResponse
from django.utils.translation import gettext as _

# A cell starting with one of these is read as a formula by spreadsheet programs.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """Make text that a spreadsheet would run as a formula read as plain text."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


# A formula trigger right after a separator: a spreadsheet that splits on that separator (French Excel
# splits on ";") starts a cell there, whatever the quoting says.
_TRIGGER_AFTER_SEPARATOR = re.compile(r"([;,\t][\s\"]*)([=+\-@])")


def neutralise_for_csv(value):
    """Neutralise a CSV field for every separator a spreadsheet may split it on, not only the comma."""
    value = neutralise(value)
    if isinstance(value, str):
        return _TRIGGER_AFTER_SEPARATOR.sub(r"\1'\2", value)
    return value


def register_columns():
    return [
        _("Code"),
        _("Title"),
        _("Focus area"),
        _("Objective"),
        _("Status"),
        _("Kind"),
        _("Sensitivity"),
        _("Lead organisation"),
        _("Implementing offices"),
        _("Beneficiary countries"),
        _("Tags"),
        _("Planned start"),
        _("Planned end"),
        _("Budget"),
        _("Currency"),
        _("RAG (latest approved)"),
        # Translators: a column heading; its % is a sign, not a placeholder. xgettext:no-python-format
        _("Latest % complete"),
        _("Latest period"),
    ]


def register_rows(activities):
    rag_labels = {"on_track": _("On track"), "at_risk": _("At risk"), "off_track": _("Off track")}
    for activity in activities.iterator(chunk_size=2_000):
        yield [
            activity.code,
            activity.title,
            _(activity.objective.focus_area.name),
            activity.objective.code,
            activity.get_status_display(),
            activity.get_kind_display(),
            activity.get_sensitivity_display(),
            activity.lead_organization.code,
            ", ".join(office.code for office in activity.implementing_offices.all()),
            ", ".join(country.iso3 for country in activity.beneficiary_countries.all()),
            ", ".join(tag.name for tag in activity.tags.all()),
            activity.planned_start,
            activity.planned_end,
            activity.budget_amount,
            activity.budget_currency,
            rag_labels.get(activity.latest_rag, ""),
            activity.latest_percent,
            activity.latest_period or "",
        ]


class _Echo:
    def write(self, value):
        return value


def csv_response(activities, filename: str) -> StreamingHttpResponse:
    """Stream the register as CSV (``streamed_csv``)."""
    return streamed_csv(register_columns(), register_rows(activities), filename)


def streamed_csv(columns: list, rows, filename: str) -> StreamingHttpResponse:
    """Stream ``rows`` under ``columns`` as UTF-8 CSV with a byte-order mark, which Excel needs to read
    accents; every cell formula-safe, None an empty one."""
    # Every field quoted, so that a reader splitting on the comma keeps a field whole.
    writer = csv.writer(_Echo(), quoting=csv.QUOTE_ALL)

    def lines():
        yield "\ufeff" + writer.writerow(columns)
        for row in rows:
            yield writer.writerow(["" if cell is None else neutralise_for_csv(str(cell)) for cell in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def xlsx_response(activities, filename: str) -> HttpResponse:
    """Write the register as one typed sheet with a frozen, filterable header row."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"constant_memory": True, "in_memory": False, "strings_to_formulas": False})
    sheet = workbook.add_worksheet(_("Activities")[:31])
    header = workbook.add_format({"bold": True, "bg_color": "#DCE6F1", "border": 1})
    date = workbook.add_format({"num_format": "yyyy-mm-dd"})
    money = workbook.add_format({"num_format": "#,##0.00"})
    columns = register_columns()
    widths = [14, 50, 28, 10, 12, 20, 12, 12, 30, 24, 20, 12, 12, 14, 9, 12, 10, 10]
    for index, (title, width) in enumerate(zip(columns, widths, strict=True)):
        sheet.write_string(0, index, title, header)
        sheet.set_column(index, index, width)
    sheet.freeze_panes(1, 0)
    count = 0
    for count, row in enumerate(register_rows(activities), start=1):
        for column, value in enumerate(row):
            if value is None or value == "":
                continue
            if isinstance(value, datetime.date):
                sheet.write_datetime(count, column, value, date)
            elif column == 13:
                sheet.write_number(count, column, float(value), money)
            elif isinstance(value, int):
                sheet.write_number(count, column, value)
            else:
                sheet.write_string(count, column, neutralise(str(value)))
    sheet.autofilter(0, 0, max(count, 1), len(columns) - 1)
    workbook.close()
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}.xlsx"'
    return response
