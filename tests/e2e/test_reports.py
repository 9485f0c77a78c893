"""A progress report in real Chromium: an officer asks for it, watches a real worker compile it, downloads it."""

import pypdf
import pytest
from playwright.sync_api import expect

from steering.models import ProgressReport
from steering.tasks import compile_report
from tests.e2e.conftest import screenshot, serious_accessibility_violations
from tests.factories import ProgressUpdateFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def worker(site, queue, start_worker, monkeypatch):
    """A real worker on Redis, on this test's queue, writing into the live server's media folder.

    Each step of the compilation pauses a little, so that the progress bar is seen moving.
    """

    def to_this_queue(*, report_id, task_id):
        compile_report.apply_async(args=[str(report_id)], task_id=task_id, queue=queue)

    monkeypatch.setattr("steering.tasks.enqueue_compilation", to_this_queue)
    from django.conf import settings

    start_worker(MEDIA_ROOT=str(settings.MEDIA_ROOT), REPORT_COMPILE_PAUSE_SECONDS="0.7")


def test_officer_asks_for_a_report_watches_it_compile_and_downloads_the_pdf(site, worker, login, tmp_path):
    ProgressUpdateFactory(
        activity=site.activity, period=site.period, office=site.office, state="approved", rag="at_risk"
    )
    page = login(site, site.officer)
    page.get_by_role("link", name="Reports", exact=True).click()
    expect(page.get_by_role("heading", name="Progress reports")).to_be_visible()
    page.get_by_label("Period").select_option(label="2020-Q2 (Open)")
    page.get_by_label("Scope").select_option(label="Whole plan")
    page.get_by_role("button", name="Compile report").click()

    expect(page.get_by_role("heading", name="Progress report 2020-Q2: Whole plan")).to_be_visible()
    bar = page.get_by_role("progressbar", name="Compilation progress")
    # The bar moves while the worker compiles (htmx polls the state), then the page shows the result.
    expect(page.locator('[data-report-state="running"]')).to_be_visible(timeout=60_000)
    expect(bar).not_to_have_attribute("aria-valuenow", "0", timeout=30_000)
    screenshot(page, "report-compiling")
    expect(page.locator('[data-report-state="succeeded"]')).to_be_visible(timeout=90_000)
    expect(bar).to_have_attribute("aria-valuenow", "100")
    report = ProgressReport.objects.get()
    expect(page.locator("[data-content-hash]")).to_have_text(report.content_hash)
    expect(page.get_by_role("heading", name="Summary by focus area")).to_be_visible()
    screenshot(page, "report")
    assert serious_accessibility_violations(page) == []

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download PDF").click()
    path = tmp_path / "downloaded.pdf"
    download_info.value.save_as(path)
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(path).pages)
    assert "Cybercrime" in text and report.content_hash in text
