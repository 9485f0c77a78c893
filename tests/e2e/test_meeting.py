"""The secretary records a meeting in real Chromium; its action item follows to the next meeting."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot, serious_accessibility_violations

pytestmark = pytest.mark.django_db(transaction=True)


def test_secretary_records_review_decision_and_action_item(committee_site, login):
    site = committee_site
    page = login(site, site.secretary)
    page.get_by_role("link", name="Meetings").first.click()
    page.get_by_role("link", name=re.compile("1 September 2020")).click()

    expect(page.get_by_role("complementary")).to_contain_text("Cybercrime (CYB) now, 2020-Q2")
    page.get_by_label("Rating").select_option("at_risk")
    page.get_by_label("Assessment").fill("Two regions started late; the rest is on schedule.")
    page.get_by_role("button", name="Record the review").click()
    expect(page.get_by_text("Review recorded, with the figures as they stand.")).to_be_visible()

    page.get_by_label("Decision", exact=True).fill("The committee asks for a recovery plan for the two late regions.")
    page.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_text("Decision recorded.")).to_be_visible()

    page.get_by_label("Action", exact=True).fill("Send the recovery plan to the members.")
    page.get_by_label("or owner (office)").select_option(label="UNODC-ROSEAP — Office UNODC-ROSEAP")
    page.get_by_label("Due on").fill("2020-11-30")
    page.get_by_role("button", name="Record the action item").click()
    expect(page.get_by_text("Action item recorded")).to_be_visible()
    screenshot(page, "meeting")
    assert serious_accessibility_violations(page) == []

    page.get_by_role("link", name="Meetings").first.click()
    page.get_by_role("link", name="Action item tracker").click()
    expect(page.get_by_role("link", name="Send the recovery plan to the members.")).to_be_visible()

    page.goto(f"{site.url}/steering/meetings/{site.next_meeting.pk}/")
    expect(page.get_by_role("region", name="Open action items from earlier meetings")).to_contain_text(
        "Send the recovery plan to the members."
    )
