"""What the reports' renderers rely on to be fast at scale, checked on small reports.

The PDF's long tables are laid out with fixed column widths (``table-layout: fixed``), not
sized from their content: nothing in them may then reach past its column or the page, and
every label (headings, statuses, RAG, rules) must fit its column whole in every language.
"""

import copy
import html as markup
import itertools
import re

import pytest
from django.utils import translation

from actionplan.models import RAG, Activity, Indicator
from steering.models import ActionItem
from steering.reports import render_pdf
from steering.reports.snapshot import content_hash


def _render(snapshot: dict, content_hash: str, language: str):
    import weasyprint

    with translation.override(language):
        html = render_pdf.pdf_html(snapshot, content_hash=content_hash)
    return html, weasyprint.HTML(string=html).render()


def _fixed_tables(document):
    """Each table of fixed layout in the document, with its page's box."""
    from weasyprint.formatting_structure import boxes

    for page in document.pages:
        for box in page._page_box.descendants():
            if isinstance(box, boxes.TableBox) and "fixed" in box.element.get("class", ""):
                yield page._page_box, box


def _cells(document):
    from weasyprint.formatting_structure import boxes

    for _page, table in _fixed_tables(document):
        yield from (box for box in table.descendants() if isinstance(box, boxes.TableCellBox))


def _long_rows(snapshot: dict) -> dict:
    """The snapshot with its first area's tables full (more rows than a PDF table shows), and long words."""
    snapshot = copy.deepcopy(snapshot)
    area = snapshot["focus_areas"][0]
    activity, indicator = area["activities"][0], area["indicators"][0]
    word = "Informationsaustauschverfahrensüberprüfung"
    area["activities"] = [
        {**activity, "code": f"CYB-1.{n}", "title": f"{word} {n}", "office": f"INTERPOL-NCB-{word.upper()}"}
        for n in range(render_pdf.ROWS_PER_TABLE + 5)
    ]
    area["indicators"] = [
        {**indicator, "code": f"CYB-1.{n}-I1", "name": word, "measures": f"CYB-1.{n}{'9' * 30}"}
        for n in range(render_pdf.ROWS_PER_TABLE + 5)
    ]
    area["reporting"] = [
        {"office": f"{word}-{n}", "name": word, "expected": 12345678, "on_time": 1, "late": 2, "missing": 3}
        for n in range(render_pdf.ROWS_PER_TABLE + 5)
    ]
    return snapshot


def _sticking_out(document) -> list[str]:
    """The text of cells of the fixed tables that reaches past its cell, and fixed tables that reach past the page."""
    from weasyprint.formatting_structure import boxes

    found = [
        f"a table {table.margin_width():.0f} wide on a page {page.width:.0f} wide"
        for page, table in _fixed_tables(document)
        if table.position_x < page.content_box_x() - 0.5
        or table.position_x + table.margin_width() > page.content_box_x() + page.width + 0.5
    ]
    for cell in _cells(document):
        left, right = cell.content_box_x(), cell.content_box_x() + cell.width
        found.extend(
            text.text
            for text in cell.descendants()
            if isinstance(text, boxes.TextBox)
            and (text.position_x < left - 0.5 or text.position_x + text.width > right + 0.5)
        )
    return found


@pytest.mark.parametrize("language", ["en", "ru", "ar"])
def test_pdf_tables_of_fixed_widths_keep_their_text_within_their_columns_and_the_page(snapshot_of, language):
    snapshot = snapshot_of()

    html, document = _render(_long_rows(snapshot), content_hash(snapshot), language)

    assert html.count('class="fixed ') >= 4  # objectives, indicators, activities, offices of each area
    assert _sticking_out(document) == []


def _every_label(snapshot: dict) -> dict:
    """The snapshot with a row for every status and RAG, every rule, every state of an action item."""
    snapshot = copy.deepcopy(snapshot)
    area = snapshot["focus_areas"][0]
    activity, indicator = area["activities"][0], area["indicators"][0]
    area["activities"] = [
        {**activity, "status": status, "rag": rag, "update_period": "2020-Q2", "office": "ROSEAP"}
        for status, rag in zip(Activity.Status.values, itertools.cycle([*RAG.values, None]), strict=False)
    ]
    area["indicators"] = [
        {**indicator, "office_rule": office_rule, "period_rule": period_rule}
        for office_rule, period_rule in itertools.product(Indicator.OfficeRule.values, Indicator.PeriodRule.values)
    ]
    snapshot["action_items"] = [
        {**snapshot["action_items"][0], "state": state, "overdue": True} for state in ActionItem.State.values
    ]
    return snapshot


def _words_broken(html: str, document) -> list[str]:
    """Words of the page broken over two lines of a table cell (a break after a hyphen is a break)."""
    from weasyprint.formatting_structure import boxes

    words = set(markup.unescape(re.sub(r"<[^>]+>", " ", html)).split())
    found = []
    for cell in _cells(document):
        lines = [
            "".join(text.text for text in line.descendants() if isinstance(text, boxes.TextBox)).strip()
            for line in cell.descendants()
            if isinstance(line, boxes.LineBox)
        ]
        found.extend(
            f"{before.split()[-1]}|{after.split()[0]}"
            for before, after in itertools.pairwise(line for line in lines if line)
            if not before.endswith("-") and before.split()[-1] + after.split()[0] in words
        )
    return found


@pytest.mark.parametrize("language", ["en", "fr", "es", "ru", "ar"])
def test_pdf_labels_fit_their_fixed_columns_whole_in_every_language(snapshot_of, language):
    snapshot = snapshot_of()

    html, document = _render(_every_label(snapshot), content_hash(snapshot), language)

    assert _words_broken(html, document) == []
