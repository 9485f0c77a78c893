"""The report's workbook holds the snapshot's rows, cell for cell, typed: read back with openpyxl."""

import copy
import datetime
import re

import openpyxl
import pytest
from django.utils import timezone, translation

from actionplan.exports import neutralise
from steering.reports.render_xlsx import write_xlsx
from steering.reports.xlsx import CELL_TEXT_LENGTH, text_xml

# Text with markup, a quote, control characters, a literal escape sequence and a formula trigger.
HOSTILE = 'a < b & c > "d" \x01\x07\x1f _x0041_ \t end'
FORMULA = '=HYPERLINK("http://evil.example","x")'
# XLSX stores control characters as _xHHHH_ (and a literal "_x" as _x005F_x); Excel decodes them, openpyxl does not.
ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")


def as_excel_shows(value):
    return ESCAPED.sub(lambda found: chr(int(found.group(1), 16)), value) if isinstance(value, str) else value


def table(book, name) -> list[dict]:
    sheet = book[name]
    header = [cell.value for cell in sheet[1]]
    return [
        dict(zip(header, (as_excel_shows(value) for value in row), strict=True))
        for row in sheet.iter_rows(min_row=2, values_only=True)
    ]


def shown(value):
    """A value as its cell holds it: an empty text leaves the cell empty."""
    return None if value == "" else value


def day(value):
    return datetime.datetime.combine(datetime.date.fromisoformat(value[:10]), datetime.time()) if value else None


def written(snapshot, tmp_path, content_hash="0" * 64):
    path = tmp_path / "report.xlsx"
    with translation.override("en"):
        write_xlsx(snapshot, content_hash=content_hash, path=path)
    return openpyxl.load_workbook(path)


@pytest.fixture
def snapshot(reported, compiled):
    """The compiled report's snapshot, its first activity and conversation holding hostile text."""
    from actionplan import services as updates

    update = reported.restricted.updates.get(period=reported.period)
    updates.add_comment(by=reported.officer, update=update, text="Well documented.")
    frozen = copy.deepcopy(compiled().snapshot)
    first = frozen["focus_areas"][0]["activities"][0]
    first["title"], first["narrative"] = HOSTILE, FORMULA
    frozen["conversations"][0]["text"] = HOSTILE
    return frozen


def test_every_row_of_the_workbook_is_the_snapshots_row_with_numbers_dates_and_text_kept(snapshot, tmp_path):
    book = written(snapshot, tmp_path)
    areas = snapshot["focus_areas"]

    activities = [
        (row["Focus area"], row["Activity"], row["Title"], row["Planned end"], row["% complete"],
         row["Narrative (excerpt)"])
        for row in table(book, "Activities")
    ]  # fmt: skip
    assert activities == [
        (area["code"], row["code"], shown(row["title"]), day(row["planned_end"]), row["percent"],
         shown(neutralise(row["narrative"])))
        for area in areas
        for row in area["activities"]
    ]  # fmt: skip
    assert activities[0][2] == HOSTILE and activities[0][5] == "'" + FORMULA

    indicators = [
        (row["Indicator"], row["Baseline"], row["End target"], row["Target date"], row["Figure"], row["% of target"])
        for row in table(book, "Indicators")
    ]
    assert indicators == [
        (row["code"], row["baseline"], row["target"], day(row["target_date"]), row["actual"], row["percent_of_target"])
        for area in areas
        for row in area["indicators"]
    ]
    numbers = [value for row in indicators for value in row[1:] if value is not None]
    assert numbers and all(isinstance(value, int | float | datetime.datetime) for value in numbers)

    conversations = table(book, "Conversations")
    assert [(row["Activity"], row["Message"]) for row in conversations] == [
        (row["activity"], row["text"]) for row in snapshot["conversations"]
    ]
    assert conversations[0]["Message"] == HOSTILE
    for row, expected in zip(conversations, snapshot["conversations"], strict=True):
        # Excel keeps a moment as a fraction of a day, in the portal's local time (it has no time zones).
        at = timezone.localtime(datetime.datetime.fromisoformat(expected["at"])).replace(tzinfo=None)
        assert abs(row["When"] - at) < datetime.timedelta(seconds=1)

    gaps = [(row["Activity"], row["Office"], row["Submitted on"]) for row in table(book, "Missing and late")]
    assert gaps == [
        (row["activity"], row["office"], day(row.get("submitted_on")))
        for area in areas
        for kind in ("missing", "late")
        for row in area[kind]
    ]
    summary = table(book, "Summary")
    assert [row["Activities"] for row in summary] == [row["activities"] for row in snapshot["summary"]] + [
        snapshot["totals"]["activities"]
    ]


def test_a_text_longer_than_a_cell_holds_is_cut_and_a_date_before_1900_is_written_as_text(snapshot, tmp_path):
    first = snapshot["focus_areas"][0]["activities"][0]
    first["narrative"], first["planned_end"] = "x" * (CELL_TEXT_LENGTH + 10), "1850-01-01"
    row = table(written(snapshot, tmp_path), "Activities")[0]
    assert row["Narrative (excerpt)"] == "x" * CELL_TEXT_LENGTH
    assert row["Planned end"] == "1850-01-01"


def test_a_character_xml_cannot_carry_is_written_as_an_escape():
    # U+FFFE is no control character, but XML has no place for it either (portal.xmltext.NOT_IN_XML).
    assert text_xml("a\ufffeb\x0bc\rd") == "<is><t>a_xFFFE_b_x000B_c_x000D_d</t></is>"
