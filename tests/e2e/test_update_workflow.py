"""A progress update from a field office to approval, in real Chromium."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from actionplan.models import ProgressUpdate
from tests.e2e.conftest import screenshot
from tests.factories import ProgressUpdateFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_reporter_submits_officer_returns_reporter_fixes_officer_approves(site, login, tmp_path):
    evidence = Path(tmp_path / "attendance.pdf")
    evidence.write_bytes(b"%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n")

    reporter = login(site, site.reporter, through_form=True)
    screenshot(reporter, "home-reporter")
    reporter.get_by_role("link", name="Report").first.click()
    expect(reporter.get_by_role("heading", name="Report progress")).to_be_visible()
    reporter.get_by_label("At risk").check()
    reporter.get_by_label("Percent complete").fill("45")
    reporter.get_by_label("Narrative").fill("Two national workshops delivered in Bangkok.")
    reporter.get_by_label(re.compile("CYB-1.1-I1")).fill("38")
    reporter.get_by_label("Evidence file").set_input_files(str(evidence))
    screenshot(reporter, "update-form")
    reporter.get_by_role("button", name="Submit for review").click()
    expect(reporter.get_by_text("Update submitted for review.")).to_be_visible()
    update = ProgressUpdate.objects.get()
    assert (update.state, update.evidence.count(), update.measurements.get().value) == ("submitted", 1, 38)

    officer = login(site, site.officer)
    screenshot(officer, "home-officer")
    officer.get_by_role("link", name="Review queue").first.click()
    officer.get_by_role("link", name=re.compile("CYB-1.1")).first.click()
    officer.get_by_label("What should the office fix?").fill("Please add the number of women trained.")
    screenshot(officer, "update-review")
    officer.get_by_role("button", name="Return to the office").click()
    expect(officer.get_by_text("Update returned to the office with your comment.")).to_be_visible()

    reporter.goto(f"{site.url}/")
    reporter.get_by_role("region", name="Returned to you").get_by_role("link", name="CYB-1.1").click()
    expect(reporter.get_by_text("Please add the number of women trained.").first).to_be_visible()
    reporter.get_by_role("link", name="Edit").click()
    reporter.get_by_label("Narrative").fill("Two workshops; 14 of 38 participants were women.")
    reporter.get_by_role("button", name="Submit for review").click()
    expect(reporter.get_by_text("Update submitted for review.")).to_be_visible()

    # The queue opened after the return (nothing else waited); the resubmitted update is back in it.
    officer.reload()
    officer.get_by_role("link", name=re.compile("CYB-1.1")).first.click()
    officer.get_by_role("button", name="Approve", exact=True).click()
    expect(officer.get_by_text("Update approved.")).to_be_visible()
    screenshot(officer, "update-approved")
    update.refresh_from_db()
    assert update.state == "approved"
    assert update.narrative == "Two workshops; 14 of 38 participants were women."


def test_editing_in_a_locked_period_is_refused_with_a_visible_message(site, login):
    update = ProgressUpdateFactory(
        activity=site.activity, period=site.locked_period, office=site.office, author=site.reporter
    )
    reporter = login(site, site.reporter)
    reporter.goto(f"{site.url}/updates/{update.pk}/edit/")
    expect(reporter.get_by_role("alert")).to_contain_text("Reporting period 2020-Q1 is locked")
    expect(reporter.get_by_role("button", name="Submit for review")).to_have_count(0)
    screenshot(reporter, "update-locked")
