"""The activity register in the browser, and accessibility of the main pages."""

import csv

import pytest
from playwright.sync_api import expect

from actionplan.models import Activity
from tests.e2e.conftest import screenshot, serious_accessibility_violations
from tests.factories import MeasurementFactory, ProgressUpdateFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_register_filters_keep_the_url_and_export_what_is_shown(site, login):
    Activity.objects.filter(code="CYB-1.3").update(title="Darknet investigations workshop")
    officer = login(site, site.officer)
    officer.get_by_role("link", name="Activities").first.click()
    officer.get_by_label("Search").fill("darknet")
    officer.get_by_label("Office", exact=True).select_option("INTERPOL-RB-NBO")
    officer.get_by_role("button", name="Filter").click()
    expect(officer).to_have_url(
        f"{site.url}/activities/?q=darknet&focus_area=&status=&rag=&period=&as_of=&organization=&region="
        "&office=INTERPOL-RB-NBO&country=&tag=&sort="
    )
    expect(officer.get_by_role("status")).to_have_text("1 activity")
    expect(officer.get_by_role("link", name="CYB-1.3")).to_be_visible()
    screenshot(officer, "activity-register")

    with officer.expect_download() as download:
        officer.get_by_role("link", name="Export CSV").click()
    with open(download.value.path(), encoding="utf-8-sig") as exported:
        rows = list(csv.reader(exported))
    assert [row[0] for row in rows[1:]] == ["CYB-1.3"]


def test_activity_page_draws_the_indicator_chart(site, login):
    update = ProgressUpdateFactory(activity=site.activity, period=site.period, office=site.office, state="approved")
    MeasurementFactory(update=update, indicator=site.indicator, value=30)
    reporter = login(site, site.reporter)
    reporter.goto(f"{site.url}/activities/CYB-1.1/")
    canvas = reporter.locator("canvas[data-indicator-chart='CYB-1.1-I1']")
    expect(canvas).to_be_visible()
    drawn = canvas.evaluate(
        "c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; return d.some(v => v !== 0); }"
    )
    assert drawn
    screenshot(reporter, "activity-page")


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/plan/",
        "/plan/focus-areas/CYB/",
        "/activities/",
        "/activities/CYB-1.1/",
        "/activities/CYB-1.1/report/",
        "/accounts/tokens/",
    ],
)
def test_main_pages_have_no_serious_accessibility_violation(site, login, path):
    reporter = login(site, site.reporter)
    reporter.goto(f"{site.url}{path}")
    assert serious_accessibility_violations(reporter) == []


def test_login_page_has_no_serious_accessibility_violation(site, browser):
    page = browser.new_page()
    page.goto(f"{site.url}/accounts/login/")
    assert serious_accessibility_violations(page) == []
    page.close()


def test_pages_work_on_a_phone(site, login):
    reporter = login(site, site.reporter, viewport={"width": 390, "height": 844})
    reporter.get_by_role("button", name="Toggle navigation").click()
    reporter.get_by_role("link", name="Activities").click()
    expect(reporter.get_by_role("link", name="CYB-1.1")).to_be_visible()
    screenshot(reporter, "register-phone")
