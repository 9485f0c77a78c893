"""The spreadsheet import in real Chromium: template, dry run with a refused row, confirmation, result."""

import io

import openpyxl
import pytest
from playwright.sync_api import expect

from actionplan import imports
from actionplan.models import ProgressUpdate
from tests.e2e.conftest import both_widths

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_reporter_fills_in_the_template_checks_it_and_imports_it(site, login, tmp_path):
    page = login(site, site.reporter)
    page.get_by_role("link", name="Updates").first.click()
    page.get_by_role("link", name="Import updates from a spreadsheet").click()
    expect(page.get_by_label("Office")).to_have_value(site.office.code)
    both_widths(page, "import-start")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the template").click()
    template = tmp_path / "template.xlsx"
    download.value.save_as(template)

    # Filled in as a person would: the first indicator's figure, and a percentage the portal cannot read.
    book = openpyxl.load_workbook(template)
    sheet = book[imports.SHEET]
    keys = [cell.value for cell in sheet[1]]
    for row in sheet.iter_rows(min_row=3):
        code, indicator = row[0].value, row[1].value
        if (code, indicator) == (site.activity.code, site.indicator.code):
            row[keys.index("rag")].value = "on_track"
            row[keys.index("percent_complete")].value = 60
            row[keys.index("value")].value = 38
        if code == site.restricted.code:
            row[keys.index("rag")].value = "at_risk"
            row[keys.index("percent_complete")].value = "most of it"
    out = io.BytesIO()
    book.save(out)
    filled = tmp_path / "filled.xlsx"
    filled.write_bytes(out.getvalue())

    page.get_by_label("Filled-in template (XLSX)").set_input_files(str(filled))
    page.get_by_role("button", name="Check the file (dry run)").click()
    expect(page.get_by_text("Dry run: nothing was written yet.")).to_be_visible()
    rows = page.locator("#import-rows tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("Would create")
    expect(rows.nth(2)).to_contain_text("Refused")
    expect(rows.nth(2)).to_contain_text("most of it is not a number")
    both_widths(page, "import-dry-run")
    assert not ProgressUpdate.objects.exists()

    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_text("Imported.")).to_be_visible()
    expect(rows.nth(0)).to_contain_text("Created")
    expect(page.get_by_role("button", name="Import", exact=True)).to_have_count(0)
    both_widths(page, "import-result")
    rows.nth(0).get_by_role("link", name=site.activity.code).click()
    expect(page.get_by_role("heading", name="Progress update")).to_be_visible()
    update = ProgressUpdate.objects.get()
    assert (update.activity, update.source, update.percent_complete) == (site.activity, "import", 60)
    assert update.measurements.get().value == 38
    assert page.url.endswith(f"/updates/{update.pk}/")
