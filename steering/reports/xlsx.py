"""Write an XLSX workbook of plain tables, streaming each sheet's XML into the zip row by row.

Only what the report's workbook uses: text, numbers, dates and moments in cells; a fixed set
of styles (bold, a header, number and date formats); column widths, a frozen header row, an
autofilter, right-to-left sheets. One sheet is written at a time, start to end.

Why not a library: XlsxWriter (constant-memory mode) took 14 s of CPU for the report's
790,000 cells at scale L, this writer about 3 s. The faster libraries tried either wrote a
different workbook (rust_xlsxwriter's bindings, rvgsrust-xlsxwriter 0.3.5 and
rustpy-xlsxwriter 0.8.0, write every whole number as 1000.0, so counts read back as
floats; rustpy's table API also drops a bold total row's bold and an empty sheet's
header), lacked what the report needs (PyExcelerate 0.13: no right-to-left sheets, control
characters replaced), or took a data frame library (xlsxturbo). See ``tests/steering/
test_report_workbook.py`` for what the file must hold, read back with openpyxl.
"""

import datetime
import re
import zipfile
from xml.sax.saxutils import escape, quoteattr

from portal.xmltext import NOT_IN_XML

# Excel holds at most this many characters in a cell.
CELL_TEXT_LENGTH = 32_767
# Day 0 of Excel's serial dates (1900 date system); Excel has no time zones, so its moments are naive.
EXCEL_EPOCH = datetime.datetime(1899, 12, 30)  # noqa: DTZ001
ROWS_PER_CHUNK = 500

# Style indexes into styles.xml's cellXfs (STYLES below): 0 is the default.
HEADER, BOLD = 1, 2
NUMBER_STYLES = {"date": (3, 4), "datetime": (5, 5), "int": (6, 7), "num": (8, 9)}  # (plain, bold)

# XLSX writes the characters XML cannot carry as _xHHHH_, and a carriage return too (an XML reader would
# read it back as a line feed); a literal "_xHHHH_" as "_x005F_xHHHH_".
_CONTROL = re.compile(rf"{NOT_IN_XML.pattern}|\r")
_LITERAL_ESCAPE = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)")
_NEEDS_CARE = re.compile(rf"[&<>\r]|{NOT_IN_XML.pattern}|_x[0-9A-Fa-f]{{4}}_")

NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
NS_R = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
STYLES = (
    HEAD + f"<styleSheet {NS}>"
    '<numFmts count="3"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>'
    '<numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm"/><numFmt numFmtId="166" formatCode="#,##0.0#"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="3"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>'
    '<fill><patternFill patternType="solid"><fgColor rgb="FFDCE6F1"/><bgColor indexed="64"/></patternFill></fill>'
    "</fills>"
    '<borders count="2"><border><left/><right/><top/><bottom/><diagonal/></border>'
    '<border><left style="thin"><color auto="1"/></left><right style="thin"><color auto="1"/></right>'
    '<top style="thin"><color auto="1"/></top><bottom style="thin"><color auto="1"/></bottom><diagonal/></border>'
    "</borders>"
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="10"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="2" borderId="1" xfId="0" applyFont="1" applyFill="1" applyBorder="1"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="164" fontId="1" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" applyFont="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="3" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="3" fontId="1" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" applyFont="1"/>'
    '<xf numFmtId="166" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="166" fontId="1" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" applyFont="1"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'
)


def column_letters(index: int) -> str:
    """Name a 0-based column the way Excel does (0 → A, 26 → AA)."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def text_xml(value: str) -> str:
    """Return a text cell's <is> content: cut to Excel's limit, escaped for XML and XLSX."""
    value = value[:CELL_TEXT_LENGTH]
    if _NEEDS_CARE.search(value):
        value = _LITERAL_ESCAPE.sub("_x005F_", value)
        value = _CONTROL.sub(lambda found: f"_x{ord(found.group()):04X}_", escape(value))
    if value[:1].isspace() or value[-1:].isspace():
        return f'<is><t xml:space="preserve">{value}</t></is>'
    return f"<is><t>{value}</t></is>"


def serial(moment: datetime.date) -> float | int:
    """Return a date (a whole number of days) or a naive moment as Excel's serial number."""
    if isinstance(moment, datetime.datetime):
        return (moment - EXCEL_EPOCH) / datetime.timedelta(days=1)
    return (moment - EXCEL_EPOCH.date()).days


class Sheet:
    """One sheet, written row by row into its zip entry; ``close`` ends it."""

    def __init__(self, workbook, name: str, columns: list[tuple[str, float]], *, rtl: bool):
        self.workbook, self.name, self.width = workbook, name, len(columns)
        self.letters = [column_letters(index) for index in range(len(columns))]
        self.rows = 0
        self.chunk: list[str] = []
        self.entry = workbook.zip.open(f"xl/worksheets/sheet{len(workbook.sheets) + 1}.xml", "w", force_zip64=True)
        cols = "".join(
            f'<col min="{index}" max="{index}" width="{width + 0.7109375:.7f}" customWidth="1"/>'
            for index, (_title, width) in enumerate(columns, 1)
        )
        view = ' rightToLeft="1"' if rtl else ""
        self._out(
            HEAD + f'<worksheet {NS} {NS_R}><sheetViews><sheetView{view} workbookViewId="0">'
            '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
            '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
            f'<sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols><sheetData>'
        )
        self.row([title for title, _width in columns], [HEADER] * len(columns))

    def _out(self, text: str):
        self.entry.write(text.encode())

    def row(self, values: list, styles: list[int]):
        """Write the next row: text, numbers, dates and moments (naive, local); None leaves a cell empty."""
        self.rows += 1
        number = str(self.rows)
        cells = [f'<row r="{number}">']
        for letter, value, style in zip(self.letters, values, styles, strict=True):
            if value is None:
                continue
            attributes = f' r="{letter}{number}"' + (f' s="{style}"' if style else "")
            if isinstance(value, str):
                cells.append(f'<c{attributes} t="inlineStr">{text_xml(value)}</c>')
            elif isinstance(value, datetime.date):
                cells.append(f"<c{attributes}><v>{serial(value)!r}</v></c>")
            else:
                cells.append(f"<c{attributes}><v>{value!r}</v></c>")
        cells.append("</row>")
        self.chunk.append("".join(cells))
        if len(self.chunk) >= ROWS_PER_CHUNK:
            self._out("".join(self.chunk))
            self.chunk.clear()

    def close(self):
        self._out("".join(self.chunk) + "</sheetData>")
        filtered = None
        if self.rows > 1:
            filtered = f"$A$1:${self.letters[-1]}${self.rows}"
            self._out(f'<autoFilter ref="A1:{self.letters[-1]}{self.rows}"/>')
        self._out(
            '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>'
        )
        self.entry.close()
        self.workbook.sheets.append((self.name, filtered))


class Workbook:
    """A workbook written to ``path``: add sheets one after another, then ``close``."""

    def __init__(self, path):
        self.zip = zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED)
        self.sheets: list[tuple[str, str | None]] = []

    def add_sheet(self, name: str, columns: list[tuple[str, float]], *, rtl: bool = False) -> Sheet:
        return Sheet(self, name, columns, rtl=rtl)

    def close(self):
        count = len(self.sheets)
        sheets = "".join(
            f'<sheet name={quoteattr(name)} sheetId="{index}" r:id="rId{index}"/>'
            for index, (name, _filtered) in enumerate(self.sheets, 1)
        )
        names = "".join(
            f'<definedName name="_xlnm._FilterDatabase" localSheetId="{index}" hidden="1">'
            f"{escape(quoted(name))}!{filtered}</definedName>"
            for index, (name, filtered) in enumerate(self.sheets)
            if filtered
        )
        self.zip.writestr(
            "xl/workbook.xml",
            HEAD
            + f"<workbook {NS} {NS_R}><bookViews><workbookView/></bookViews><sheets>{sheets}</sheets>"
            + (f"<definedNames>{names}</definedNames>" if names else "")
            + "</workbook>",
        )
        self.zip.writestr(
            "xl/_rels/workbook.xml.rels",
            HEAD
            + '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            + "".join(
                f'<Relationship Id="rId{index}" Type="{RELS}/worksheet" Target="worksheets/sheet{index}.xml"/>'
                for index in range(1, count + 1)
            )
            + f'<Relationship Id="rId{count + 1}" Type="{RELS}/styles" Target="styles.xml"/></Relationships>',
        )
        self.zip.writestr("xl/styles.xml", STYLES)
        self.zip.writestr(
            "_rels/.rels",
            HEAD + '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        main = "application/vnd.openxmlformats-officedocument.spreadsheetml"
        self.zip.writestr(
            "[Content_Types].xml",
            HEAD + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{main}.sheet.main+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{main}.styles+xml"/>'
            + "".join(
                f'<Override PartName="/xl/worksheets/sheet{index}.xml" ContentType="{main}.worksheet+xml"/>'
                for index in range(1, count + 1)
            )
            + "</Types>",
        )
        self.zip.close()


def quoted(name: str) -> str:
    """Quote a sheet's name for a reference, as Excel does ('It''s')."""
    return "'" + name.replace("'", "''") + "'"
