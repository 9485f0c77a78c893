"""Plan versions in the browser: a change request shows its difference, two versions compare side by side."""

import datetime
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from actionplan import change_requests, versions
from actionplan.models import PeriodTarget
from portal.models import Organization, Profile, Role
from tests import factories
from tests.e2e.conftest import PASSWORD, both_widths, screenshot, serious_accessibility_violations


def _works_for(user, code):
    organisation = Organization.objects.get_or_create(code=code, defaults={"name": code})[0]
    Profile.objects.update_or_create(user=user, defaults={"organization": organisation})


@pytest.fixture
def changed(site):
    """Version 1.0, a change applied as 1.1, and a change of the indicator's targets awaiting INTERPOL."""
    from django.contrib.auth.models import Group

    _works_for(site.officer, "UNODC")
    site.interpol = factories.UserFactory(username="officer.lyon", first_name="Louis", last_name="Laurent")
    site.interpol.groups.add(Group.objects.get_or_create(name=Role.PROGRAMME_OFFICER.value)[0])
    site.interpol.set_password(PASSWORD)
    site.interpol.save()
    _works_for(site.interpol, "INTERPOL")
    PeriodTarget.objects.create(indicator=site.indicator, period=site.period, value=40)
    versions.record_version(
        plan=site.plan,
        endorsement="As agreed by the steering committee, Lyon, 6 June 2018",
        endorsed_at=datetime.datetime(2018, 6, 6, 12, tzinfo=datetime.UTC),
    )
    title = change_requests.propose_change(
        by=site.officer,
        item=site.activity,
        values={"title": "Regional training on ransomware investigations", "planned_end": datetime.date(2021, 6, 30)},
        reason="The 2019 threat assessment put ransomware first.",
    )
    change_requests.record_approval(change=title, by=site.interpol)
    site.pending = change_requests.propose_change(
        by=site.officer,
        item=site.indicator,
        values={
            "target_value": Decimal(150),
            "baseline_value": Decimal(12),
            "period_targets": {site.period: Decimal(60), site.locked_period: Decimal(20)},
        },
        reason="Two more countries joined the programme; the offices agreed the quarterly targets.",
    )
    return site


def test_the_change_request_page_shows_its_difference(login, changed):
    page = login(changed, changed.interpol)
    page.goto(f"{changed.url}/plan/changes/{changed.pending.pk}/")
    rows = page.locator("table.difference tbody tr")
    assert rows.count() == 4
    assert [rows.nth(n).locator("th").inner_text() for n in range(4)] == [
        "Baseline", "End target", "Target for 2020-Q1", "Target for 2020-Q2",
    ]  # fmt: skip
    both_widths(page, "change-request")
    assert serious_accessibility_violations(page) == []
    page.get_by_role("button", name="Approve and apply").click()
    expect(page.locator("main .alert").first).to_contain_text("version 1.2")


def test_the_compare_page_shows_what_changed(login, changed):
    page = login(changed, changed.officer)
    page.goto(f"{changed.url}/plan/versions/")
    both_widths(page, "plan-versions")
    page.get_by_role("button", name="Compare").click()
    # The count does not wait for the page the click asked for; the expectation does.
    expect(page.locator("section.card")).to_have_count(1)
    expect(page.locator("section.card")).to_contain_text("Regional training on ransomware investigations")
    both_widths(page, "plan-version-compare")
    assert serious_accessibility_violations(page) == []


def test_the_dashboard_is_shown_as_endorsed_at_a_version(login, changed):
    page = login(changed, changed.committee)
    page.goto(f"{changed.url}/steering/")
    page.locator("#d-version").select_option("1.0")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**version=1.0**")
    assert "version 1.0 of the plan" in page.locator(".alert-info").inner_text()
    both_widths(page, "dashboard-as-at-version")


def test_an_officer_sees_the_difference_before_submitting(login, changed):
    page = login(changed, changed.officer)
    page.goto(f"{changed.url}/plan/indicator/{changed.second_indicator.code}/propose/")
    page.locator("input[name=target_value]").fill("180")
    page.locator("textarea[name=reason]").fill("The offices agreed a higher target.")
    page.get_by_role("button", name="Show the difference").click()
    expect(page.locator("table.difference")).to_contain_text("180.00")
    both_widths(page, "change-propose")
    page.get_by_role("button", name="Submit the change request").click()
    page.wait_for_url("**/plan/changes/*/")
    assert "Awaiting approval" in page.locator("main").inner_text()


@pytest.fixture
def signed_for_unodc(committee_site, changed):
    """A change of the focus area's name, decided by both co-chairs (the default for focus areas), proposed by
    the UNODC officer and signed for UNODC: INTERPOL's co-chair is awaited."""
    from django.contrib.auth.models import Group

    from steering import signoff
    from steering.models import CommitteeMember

    site = changed
    site.cochair_unodc = factories.UserFactory(username="cochair.unodc", first_name="Ursula", last_name="Berger")
    site.cochair_unodc.groups.add(Group.objects.get_or_create(name=Role.COMMITTEE_MEMBER.value)[0])
    CommitteeMember.objects.create(
        committee=site.committee_body, user=site.cochair_unodc, role=CommitteeMember.Role.CO_CHAIR_UNODC
    )
    site.cochair.first_name, site.cochair.last_name = "Ivan", "Novak"
    site.cochair.save()
    site.area_change = change_requests.propose_change(
        by=site.officer, item=site.area, values={"name": "Cybercrime and electronic evidence"}, reason="Mandate."
    )
    signoff.sign(by=site.cochair_unodc, subject=site.area_change)
    return site


def test_the_interpol_co_chair_signs_a_change_on_its_page_and_it_is_applied(login, signed_for_unodc):
    site = signed_for_unodc
    page = login(site, site.cochair)
    page.goto(f"{site.url}/plan/changes/{site.area_change.pk}/")
    panel = page.locator("#signoff")
    expect(panel).to_contain_text("Waiting for INTERPOL")
    expect(panel).to_contain_text("Ursula Berger")
    assert page.get_by_role("button", name="Approve and apply").count() == 0
    screenshot(page, "change-request-co-chairs-desktop")
    assert serious_accessibility_violations(page) == []
    page.get_by_role("button", name="Sign for INTERPOL").click()
    expect(page.locator("#signoff")).to_contain_text("Signed by both parties")
    expect(page.locator("main")).to_contain_text("Applied as version 1.2.")
