"""Each role's day in real Chromium: the officer's filtered queue, a conversation on a returned update,
an office's action item, and the meeting's review panel following the area chosen."""

import datetime
import re

import pytest
from playwright.sync_api import expect

from actionplan import services
from actionplan.models import ProgressUpdate
from tests.e2e.conftest import screenshot, serious_accessibility_violations
from tests.factories import ActionItemFactory, ActivityFactory, FocusAreaFactory, ObjectiveFactory

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}


def submitted(site, office, *, title, days=0):
    activity = ActivityFactory(objective=site.objective, title=title)
    activity.implementing_offices.add(office)
    reporter = site.reporter if office == site.office else site.other_reporter
    update = services.create_update(
        by=reporter, activity=activity, period=site.period, office=office, rag="on_track", percent_complete=30,
    )  # fmt: skip
    update = services.submit_update(by=reporter, update=update)
    ProgressUpdate.objects.filter(pk=update.pk).update(
        submitted_at=datetime.datetime(2020, 7, 1, tzinfo=datetime.UTC) + datetime.timedelta(days=days)
    )
    return update


def test_the_officer_works_through_a_filtered_queue_then_approves_the_rest_at_once(site, login):
    first = submitted(site, site.office, title="Workshop on e-evidence", days=1)
    second = submitted(site, site.office, title="Mentoring of prosecutors", days=2)
    others = [submitted(site, site.other_office, title=f"Border post visit {n}", days=n) for n in range(3)]

    officer = login(site, site.officer, viewport=DESKTOP)
    officer.get_by_role("link", name="Review queue").first.click()
    officer.get_by_label("Office", exact=True).select_option(site.office.code)
    officer.get_by_role("button", name="Apply").click()
    expect(officer.locator("#queue-count")).to_contain_text("2 updates wait")
    screenshot(officer, "review-queue")
    assert serious_accessibility_violations(officer) == []

    officer.get_by_role("link", name=first.activity.code).click()
    officer.get_by_role("button", name="Approve", exact=True).click()
    # The next update of the same filtered queue opens.
    expect(officer.get_by_text("Update approved.")).to_be_visible()
    expect(officer.get_by_role("heading", name="Progress update")).to_be_visible()
    expect(officer.locator(".lead")).to_contain_text("Mentoring of prosecutors")
    officer.get_by_label("What should the office fix?").fill("Say which courts took part.")
    officer.get_by_role("button", name="Return to the office").click()
    expect(officer.get_by_text("Nothing else waits in this queue.")).to_be_visible()

    officer.get_by_role("link", name="Reset").click()
    for update in others:
        officer.get_by_label(re.compile(f"Select {update.activity.code}")).check()
    officer.get_by_role("button", name="Approve the selected updates").click()
    expect(officer.get_by_text("3 of 3 updates approved.")).to_be_visible()
    states = dict(ProgressUpdate.objects.values_list("pk", "state"))
    assert [states[u.pk] for u in (first, second, *others)] == ["approved", "returned", *["approved"] * 3]


def test_the_reporter_answers_a_return_and_the_officer_reads_the_conversation(site, login):
    update = submitted(site, site.office, title="Workshop on e-evidence")
    services.return_update(by=site.officer, update=update, comment="How many women took part?")

    reporter = login(site, site.reporter, viewport=PHONE)
    screenshot(reporter, "home-reporter-phone")
    region = reporter.get_by_role("region", name="Returned to you")
    expect(region).to_contain_text("How many women took part?")
    region.get_by_role("link", name=re.compile(update.activity.code)).click()
    reporter.get_by_label("Your message").fill("14 of the 38 participants were women.")
    reporter.get_by_role("button", name="Add to the conversation").click()
    expect(reporter.get_by_text("Message added to the conversation.")).to_be_visible()
    reporter.get_by_label("What you changed (for the officer)").fill("Numbers by sex added.")
    reporter.get_by_role("button", name="Submit for review").click()
    expect(reporter.get_by_text("Update submitted for review.")).to_be_visible()

    officer = login(site, site.officer, viewport=DESKTOP)
    officer.goto(f"{site.url}/updates/{update.pk}/")
    conversation = officer.get_by_role("region", name="Conversation")
    expect(conversation).to_contain_text("How many women took part?")
    expect(conversation).to_contain_text("14 of the 38 participants were women.")
    expect(conversation).to_contain_text("Numbers by sex added.")
    screenshot(officer, "update-conversation")
    assert serious_accessibility_violations(officer) == []


def test_a_field_reporter_follows_its_offices_action_item(committee_site, login):
    site = committee_site
    item = ActionItemFactory(
        meeting=site.meeting, owner_user=None, owner_office=site.office, description="Send the seizure statistics",
        due_on=datetime.date(2020, 10, 30),
    )  # fmt: skip
    reporter = login(site, site.reporter, viewport=DESKTOP)
    screenshot(reporter, "home-reporter")
    reporter.get_by_role("link", name="Send the seizure statistics").click()
    reporter.get_by_label("Follow-up note").fill("Statistics sent to the secretariat on 28 October.")
    reporter.get_by_label("State").select_option("done")
    reporter.get_by_role("button", name="Add the note").click()
    expect(reporter.get_by_text("Note added.")).to_be_visible()
    item.refresh_from_db()
    assert item.state == "done"
    expect(reporter.get_by_role("link", name="Meetings")).to_have_count(0)


def test_the_review_panel_follows_the_focus_area_chosen(committee_site, login):
    site = committee_site
    terrorism = FocusAreaFactory(plan=site.plan, code="TER", name="Terrorism", order=2)
    ObjectiveFactory(focus_area=terrorism, code="TER-1")
    secretary = login(site, site.secretary, viewport=DESKTOP)
    secretary.goto(f"{site.url}/steering/meetings/{site.meeting.pk}/")
    panel = secretary.locator("#review-figures")
    expect(panel).to_contain_text("Cybercrime (CYB)")
    secretary.get_by_label("Focus area", exact=True).select_option(label="Terrorism (TER)")
    expect(panel).to_contain_text("Terrorism (TER)")
    secretary.get_by_label("Rating").select_option("on_track")
    secretary.get_by_label("Assessment").fill("Nothing to report yet.")
    secretary.get_by_role("button", name="Record the review").click()
    expect(secretary.get_by_text("Review recorded")).to_be_visible()
    from steering.models import Review

    assert Review.objects.get().figures["code"] == "TER"


@pytest.mark.parametrize("viewport, label", [(DESKTOP, "1366"), (PHONE, "phone")])
def test_every_roles_home_page_fits(site, login, viewport, label):
    for user, name in ((site.officer, "officer"), (site.reporter, "reporter"), (site.committee, "committee")):
        page = login(site, user, viewport=viewport)
        screenshot(page, f"home-{name}-{label}")
        # Nothing wider than the window: no clipped table, no sideways scrolling.
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), name
        navigation = page.locator("#main-nav .navbar-nav").first
        if label == "1366":
            # One line of navigation at 1366 px.
            assert navigation.bounding_box()["height"] < 60, name
