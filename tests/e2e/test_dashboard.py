"""The steering dashboard in real Chromium: every chart draws, and a bar opens the list behind it."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot, serious_accessibility_violations
from tests.factories import ProgressUpdateFactory

pytestmark = pytest.mark.django_db(transaction=True)

CHART_HAS_PIXELS = """c => {
  const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  for (let i = 3; i < data.length; i += 4) { if (data[i] !== 0) return true; }
  return false;
}"""


def bar_position(page, chart, dataset, index):
    """Where a bar of a Chart.js chart is on the page."""
    return page.evaluate(
        """([name, dataset, index]) => {
            const canvas = document.querySelector(`canvas[data-dashboard-chart="${name}"]`);
            const bar = Chart.getChart(canvas).getDatasetMeta(dataset).data[index];
            const box = canvas.getBoundingClientRect();
            return {x: box.left + bar.x, y: box.top + (bar.y + bar.base) / 2};
        }""",
        [chart, dataset, index],
    )


def test_committee_member_reads_the_dashboard_and_drills_down(site, login):
    ProgressUpdateFactory(
        activity=site.activity, period=site.period, office=site.office, state="approved", rag="at_risk"
    )
    page = login(site, site.committee)
    page.get_by_role("link", name="Dashboard", exact=True).click()
    expect(page.get_by_role("heading", name="Steering dashboard")).to_be_visible()

    canvases = page.locator("canvas[data-dashboard-chart]")
    expect(canvases).to_have_count(4)
    for index in range(4):
        # Chart.js draws after the page has loaded, later on a busy machine: each chart is waited for, not
        # looked at once (a chart that never draws fails here after 10 s).
        page.wait_for_function(CHART_HAS_PIXELS, arg=canvases.nth(index).element_handle(), timeout=10_000)
    screenshot(page, "dashboard")
    assert serious_accessibility_violations(page) == []

    # The "planned" bar (first dataset) of the first focus area: CYB's four planned activities.
    point = bar_position(page, "status", 0, 0)
    page.mouse.click(point["x"], point["y"])
    page.wait_for_url("**/activities/?focus_area=CYB&status=planned")
    expect(page.get_by_role("status")).to_have_text("4 activities")
