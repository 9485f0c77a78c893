"""The minutes signed by both parties in real Chromium: waiting for INTERPOL, then signed; at both widths."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PASSWORD, both_widths, screenshot, serious_accessibility_violations

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def waiting_for_interpol(committee_site):
    """The meeting's minutes submitted by the secretary and signed for UNODC: INTERPOL's signature is awaited."""
    from django.contrib.auth.models import Group

    from portal.models import Organization, Profile, Role
    from steering import services, signoff
    from steering.models import CommitteeMember
    from tests import factories

    site = committee_site
    site.cochair_unodc = factories.UserFactory(username="cochair.unodc", first_name="Ursula", last_name="Berger")
    site.cochair_unodc.groups.add(Group.objects.get_or_create(name=Role.COMMITTEE_MEMBER.value)[0])
    CommitteeMember.objects.create(
        committee=site.committee_body, user=site.cochair_unodc, role=CommitteeMember.Role.CO_CHAIR_UNODC
    )
    for user, first, last, party in [
        (site.cochair, "Ivan", "Novak", "INTERPOL"),
        (site.secretary, "Sami", "Haddad", None),
        (site.cochair_unodc, "Ursula", "Berger", "UNODC"),
    ]:
        user.first_name, user.last_name = first, last
        user.set_password(PASSWORD)
        user.save()
        if party:
            organisation = Organization.objects.get_or_create(code=party, defaults={"name": party, "kind": "party"})[0]
            Profile.objects.create(user=user, organization=organisation)
    services.submit_minutes(
        by=site.secretary,
        meeting=site.meeting,
        minutes="The committee reviewed the six focus areas and adopted two decisions.",
    )
    signoff.sign(by=site.cochair_unodc, subject=site.meeting)
    return site


def _meeting(page, site):
    page.goto(f"{site.url}/steering/meetings/{site.meeting.pk}/")
    return page.locator("#signoff")


def test_the_interpol_co_chair_sees_the_wait_and_signs(waiting_for_interpol, login):
    site = waiting_for_interpol
    page = login(site, site.cochair)
    panel = _meeting(page, site)
    banner = page.get_by_role("status").filter(has_text="Minutes submitted for signature, waiting for INTERPOL")
    expect(banner).to_be_visible()
    expect(panel).to_contain_text("Waiting for INTERPOL")
    expect(panel).to_contain_text("Ursula Berger")
    panel.scroll_into_view_if_needed()
    panel.screenshot(path=str(_artifact("signoff-interpol")))
    both_widths(page, "signoff-interpol-page")
    assert serious_accessibility_violations(page) == []

    page.get_by_role("button", name="Sign for INTERPOL").click()
    expect(page.get_by_text("Signed. Once each party has signed, it is approved.")).to_be_visible()
    expect(page.locator("#signoff")).to_contain_text("Signed by both parties")
    approved = page.get_by_role("status").filter(has_text="signed by both parties: this record is read-only")
    expect(approved).to_be_visible()


def test_the_secretary_sees_who_signed_and_who_is_awaited(waiting_for_interpol, login):
    site = waiting_for_interpol
    page = login(site, site.secretary)
    panel = _meeting(page, site)
    expect(panel).to_contain_text("Waiting for INTERPOL")
    expect(panel).to_contain_text("Awaited: Ivan Novak")
    expect(panel.get_by_role("button", name="Sign for INTERPOL")).to_have_count(0)
    panel.scroll_into_view_if_needed()
    panel.screenshot(path=str(_artifact("signoff-secretary")))
    both_widths(page, "signoff-secretary-page")
    assert serious_accessibility_violations(page) == []


def test_a_co_chair_declines_with_a_reason_and_the_minutes_go_back(waiting_for_interpol, login):
    site = waiting_for_interpol
    page = login(site, site.cochair)
    panel = _meeting(page, site)
    panel.get_by_text("Decline…").click()
    panel.get_by_label("Reason for declining").fill("Decision 2 misquotes the agreed wording.")
    panel.get_by_role("button", name="Decline and send back").click()
    expect(page.locator("#signoff")).to_contain_text("Declined for INTERPOL by Ivan Novak")
    screenshot(page, "signoff-declined")

    secretary = login(site, site.secretary)
    _meeting(secretary, site)
    expect(secretary.get_by_role("button", name="Submit for signature")).to_be_visible()
    expect(secretary.locator("#signoff")).to_contain_text("Decision 2 misquotes the agreed wording.")


def _artifact(name):
    from tests.e2e.conftest import ARTIFACTS

    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / f"{name}.png"
