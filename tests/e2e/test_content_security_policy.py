"""Every main page, in real Chromium, works under the Content-Security-Policy and breaks none of its rules:
the charts draw, htmx polls, the API documentation renders, and nothing inline is refused."""

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from playwright.sync_api import expect

from steering.models import ProgressReport
from tests.factories import MeasurementFactory, ProgressReportFactory, ProgressUpdateFactory

pytestmark = pytest.mark.django_db(transaction=True)

# Runs before any script of the page (Playwright's init scripts are not subject to the policy).
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(`${event.violatedDirective} refused ${event.blockedURI || "inline"} `
                           + `(${event.sourceFile || location.pathname}:${event.lineNumber})`);
});
"""


def visit(page, url):
    """Open a page; return its Content-Security-Policy header."""
    response = page.goto(url)
    assert response.status == 200, url
    page.wait_for_load_state("networkidle")
    return response.header_value("content-security-policy")


def violations(page):
    return page.evaluate("window.__violations")


def visit_each(context, site, paths):
    """Open each page in a tab of its own; return each one's Content-Security-Policy header and refusals.

    A page is read once the network has been idle for half a second after it loaded (its scripts ran,
    htmx fetched what it fetches); the tabs wait out that half second side by side, not one after the other.
    """
    tabs = []
    for path in paths:
        tab = context.new_page()
        response = tab.goto(f"{site.url}{path}")
        assert response.status == 200, path
        tabs.append((path, tab, response.header_value("content-security-policy")))
    seen = {}
    for path, tab, policy in tabs:
        tab.wait_for_load_state("networkidle")
        seen[path] = policy, violations(tab)
        tab.close()
    return seen


def assert_pages_run_under_the_policy(context, site, paths):
    """Fail on any page the policy does not cover, or on any refusal."""
    seen = visit_each(context, site, paths)
    uncovered = {
        path: policy
        for path, (policy, _found) in seen.items()
        if not policy or "script-src 'self'" not in policy or "style-src 'self'" not in policy
    }
    assert uncovered == {}
    assert {path: found for path, (_policy, found) in seen.items() if found} == {}


def test_every_main_page_runs_under_the_policy_without_a_violation(committee_site, login):
    site = committee_site
    update = ProgressUpdateFactory(
        activity=site.activity, period=site.period, office=site.office, state="approved", rag="on_track",
        percent_complete=40,
    )  # fmt: skip
    MeasurementFactory(update=update, indicator=site.indicator, value=12)
    page = login(site, site.officer)
    page.context.add_init_script(RECORD_VIOLATIONS)

    pages = [
        reverse("home"),
        reverse("plan"),
        reverse("focus-area", args=[site.area.code]),
        reverse("objective", args=[site.objective.code]),
        reverse("activity-list"),
        reverse("activity-detail", args=[site.activity.code]),
        reverse("indicator", args=[site.indicator.code]),
        reverse("update-detail", args=[update.pk]),
        reverse("review-queue"),
        reverse("dashboard"),
        reverse("meeting-list"),
        reverse("meeting-detail", args=[site.meeting.pk]),
        reverse("action-items"),
        reverse("report-list"),
        reverse("notifications"),
        reverse("profile"),
        reverse("tokens"),
        # The browsable API, as a signed-in officer sees it.
        reverse("api:activity-list"),
        reverse("api:activity-detail", args=[site.activity.code]),
    ]
    assert_pages_run_under_the_policy(page.context, site, pages)

    # The scripts ran: the charts drew and the dashboard's canvases hold a chart each.
    visit(page, f"{site.url}{reverse('dashboard')}")
    assert page.evaluate("document.querySelectorAll('canvas').length > 0 && "
                         "[...document.querySelectorAll('canvas')].every(c => Chart.getChart(c))")  # fmt: skip


def test_a_reporters_pages_and_the_sign_in_page_run_under_the_policy_without_a_violation(site, login, browser):
    anonymous = browser.new_context()
    anonymous.add_init_script(RECORD_VIOLATIONS)
    sign_in = anonymous.new_page()
    assert visit(sign_in, f"{site.url}{reverse('login')}")
    assert violations(sign_in) == []
    anonymous.close()

    page = login(site, site.reporter)
    page.context.add_init_script(RECORD_VIOLATIONS)
    assert_pages_run_under_the_policy(
        page.context,
        site,
        [
            reverse("home"),
            reverse("update-create", args=[site.activity.code]),
            reverse("my-updates"),
            reverse("due-updates"),
            reverse("password_change"),
        ],
    )


def test_a_report_compiling_polls_its_progress_under_the_policy(committee_site, login):
    site = committee_site
    report = ProgressReportFactory(plan=site.plan, period=site.period, requested_by=site.officer, state="running",
                                   progress=35)  # fmt: skip
    page = login(site, site.officer)
    page.context.add_init_script(RECORD_VIOLATIONS)

    visit(page, f"{site.url}{reverse('report-detail', args=[report.pk])}")
    bar = page.locator("#report-state .progress-bar")
    expect(bar).to_have_text("35%")
    assert 0 < bar.bounding_box()["width"] < page.locator("#report-state .progress").bounding_box()["width"]
    # htmx asks for the card again every second, and swaps it in.
    state_url = reverse("report-state", args=[report.pk])
    with page.expect_response(lambda response: state_url in response.url):
        pass
    assert violations(page) == []


@pytest.mark.parametrize("path", ["/api/v1/docs/", "/api/v1/redoc/"])
def test_the_api_documentation_renders_under_the_policy(site, login, path):
    page = login(site, site.reporter)
    page.context.add_init_script(RECORD_VIOLATIONS)

    policy = visit(page, f"{site.url}{path}")

    assert policy and "style-src 'self'" in policy
    # Each lists the API's operations, read from the schema.
    expect(page.get_by_text("/api/v1/updates/", exact=False).first).to_be_visible(timeout=15000)
    # Redoc's footer asks for its logo from its makers' site: the policy refuses it, as it should.
    assert [found for found in violations(page) if "cdn.redoc.ly" not in found] == []


def test_a_committee_members_pages_run_under_the_policy_without_a_violation(committee_site, login):
    site = committee_site
    update = ProgressUpdateFactory(
        activity=site.activity, period=site.period, office=site.office, state="approved", rag="on_track",
        percent_complete=40,
    )  # fmt: skip
    MeasurementFactory(update=update, indicator=site.indicator, value=12)
    report = ProgressReport(plan=site.plan, period=site.period, requested_by=site.officer, snapshot={},
                            state=ProgressReport.State.SUCCEEDED, progress=100, content_hash="0" * 64)  # fmt: skip
    # Stand-ins: the page is what is tested here, not the files.
    report.pdf.save("report.pdf", ContentFile(b"%PDF-1.4\n%%EOF\n"), save=False)
    report.xlsx.save("report.xlsx", ContentFile(b"PK stand-in"), save=False)
    report.save()
    page = login(site, site.committee)
    page.context.add_init_script(RECORD_VIOLATIONS)

    assert_pages_run_under_the_policy(
        page.context,
        site,
        [
            reverse("home"),
            reverse("dashboard"),
            reverse("meeting-list"),
            reverse("meeting-detail", args=[site.meeting.pk]),
            reverse("action-items"),
            reverse("report-list"),
            reverse("report-detail", args=[report.pk]),
        ],
    )


def test_the_admins_pages_run_under_the_policy_without_a_violation(site, login):
    from audit.models import AccessEvent
    from tests.e2e.conftest import PASSWORD
    from tests.factories import UserFactory

    administrator = UserFactory(username="administrator", is_staff=True, is_superuser=True)
    administrator.set_password(PASSWORD)
    administrator.save()
    AccessEvent.objects.create(
        user=site.reporter, username=site.reporter.username, kind=AccessEvent.Kind.values[0], object_type="activity",
        object_id=site.restricted.code, label=site.restricted.title, address="192.0.2.1",
    )  # fmt: skip
    page = login(site, administrator)
    page.context.add_init_script(RECORD_VIOLATIONS)

    assert_pages_run_under_the_policy(
        page.context,
        site,
        [
            "/admin/",
            "/admin/actionplan/activity/",
            f"/admin/actionplan/activity/{site.activity.pk}/change/",
            "/admin/audit/accessevent/",
        ],
    )
