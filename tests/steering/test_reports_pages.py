"""Report pages and the reports API: asking, the live state, downloads, comparing; fixed query counts."""

import pytest
from django.urls import reverse

from steering.models import ProgressReport, SentNotification
from tests import factories


@pytest.fixture
def officer_client(client, reported):
    client.force_login(reported.officer)
    return client


def test_the_navigation_and_the_dashboard_link_to_the_reports(officer_client):
    url = reverse("report-list")
    assert f'href="{url}"' in officer_client.get(reverse("home")).content.decode()
    assert f'href="{url}"' in officer_client.get(reverse("dashboard")).content.decode()


def test_an_officer_asks_for_a_report_and_its_page_polls_its_state(officer_client, reported):
    response = officer_client.post(reverse("report-list"), {"period": reported.period.pk, "focus_area": ""})

    report = ProgressReport.objects.get()
    assert response.status_code == 302 and response.url == reverse("report-detail", args=[report.pk])
    assert (report.state, report.focus_area, report.requested_by) == ("queued", None, reported.officer)
    page = officer_client.get(response.url).content.decode()
    assert f'hx-get="{reverse("report-state", args=[report.pk])}"' in page and 'hx-trigger="every 1s"' in page
    assert 'aria-valuenow="0"' in page


def test_asking_twice_while_it_compiles_opens_the_same_report(officer_client, reported):
    for _ in range(2):
        response = officer_client.post(reverse("report-list"), {"period": reported.period.pk, "focus_area": ""})
    assert ProgressReport.objects.count() == 1
    assert response.url == reverse("report-detail", args=[ProgressReport.objects.get().pk])


def test_a_period_of_another_plan_is_refused_beside_the_field(officer_client, reported):
    other = factories.ReportingPeriodFactory(code="OTHER-Q1")
    response = officer_client.post(reverse("report-list"), {"period": other.pk, "focus_area": ""})
    assert response.status_code == 400
    assert "belongs to another action plan" in response.content.decode()
    assert not ProgressReport.objects.exists()


def test_a_focus_area_outside_the_plan_is_refused_beside_the_field(officer_client, reported):
    outside = factories.FocusAreaFactory(code="ELSE")
    response = officer_client.post(reverse("report-list"), {"period": reported.period.pk, "focus_area": outside.pk})
    assert response.status_code == 400
    assert "is not part of this action plan" in response.content.decode()


def test_the_state_card_stops_polling_and_reloads_the_page_once_done(officer_client, compiled):
    report = compiled()
    card = officer_client.get(reverse("report-state", args=[report.pk]), HTTP_HX_REQUEST="true")
    assert card["HX-Refresh"] == "true"
    html = card.content.decode()
    assert "hx-trigger" not in html and report.content_hash in html
    assert reverse("report-pdf", args=[report.pk]) in html


def test_a_compiled_report_shows_its_summary_hash_and_downloads(officer_client, compiled):
    report = compiled()
    page = officer_client.get(reverse("report-detail", args=[report.pk])).content.decode()
    assert report.content_hash in page and "Cybercrime" in page
    pdf = officer_client.get(reverse("report-pdf", args=[report.pk]))
    assert pdf.status_code == 200 and b"".join(pdf.streaming_content).startswith(b"%PDF")
    assert 'filename="progress-report-2020-q2-plan.pdf"' in pdf["Content-Disposition"]
    assert officer_client.get(reverse("report-xlsx", args=[report.pk])).status_code == 200


def test_no_download_before_a_report_succeeds(officer_client, reported):
    report = ProgressReport.objects.create(plan=reported.plan, period=reported.period)
    assert officer_client.get(reverse("report-pdf", args=[report.pk])).status_code == 404


# Every report page: (url name, whether it takes the report's id, method).
REPORT_PAGES = [
    ("report-list", False, "get"),
    ("report-list", False, "post"),
    ("report-compare", False, "get"),
    ("report-detail", True, "get"),
    ("report-state", True, "get"),
    ("report-pdf", True, "get"),
    ("report-xlsx", True, "get"),
    ("report-retry", True, "post"),
    ("report-languages", True, "get"),
    ("report-render", True, "post"),
]


def report_page(client, report, name, with_id, method):
    url = reverse(name, args=[report.pk] if with_id else [])
    if name == "report-compare":
        url += f"?a={report.pk}&b={report.pk}"
    data = {"period": report.period_id, "focus_area": ""} if name == "report-list" else {}
    if name == "report-render":
        data = {"language": "fr"}
    return getattr(client, method)(url, data if method == "post" else None)


# One compiled report serves every page: compiling one takes seconds, and each page must leave it as it is.
def test_reporters_may_not_open_any_report_page(client, compiled, reported):
    client.force_login(reported.reporter)
    report = compiled()

    answers = {
        (name, method): report_page(client, report, name, with_id, method).status_code
        for name, with_id, method in REPORT_PAGES
    }

    assert answers == {(name, method): 403 for name, _with_id, method in REPORT_PAGES}
    assert ProgressReport.objects.count() == 1 and ProgressReport.objects.get().state == "succeeded"


def test_anonymous_users_are_sent_to_log_in_from_any_report_page(client, compiled):
    report = compiled()

    for name, with_id, method in REPORT_PAGES:
        response = report_page(client, report, name, with_id, method)
        assert response.status_code == 302 and response.url.startswith(reverse("login")), (name, method)
    assert ProgressReport.objects.count() == 1


def test_a_failed_report_says_why_and_can_be_tried_again(officer_client, reported):
    report = ProgressReport.objects.create(
        plan=reported.plan, period=reported.period, state="failed", attempts=3, error="The worker stopped."
    )
    page = officer_client.get(reverse("report-detail", args=[report.pk])).content.decode()
    assert "The worker stopped." in page
    officer_client.post(reverse("report-retry", args=[report.pk]))
    report.refresh_from_db()
    assert (report.state, report.attempts) == ("queued", 0)


def test_compare_lists_rag_changes_completions_and_indicator_movement(officer_client, compiled, reported):
    first = compiled()
    factories.change_approved(reported.activity.updates.filter(period=reported.period), rag="at_risk")
    factories.change_approved(reported.toc_indicator.measurements.all(), value=40)
    second = compiled()

    page = officer_client.get(reverse("report-compare"), {"a": first.pk, "b": second.pk}).content.decode()

    rag_table = page.split('id="rag-changes"')[1].split("</table>")[0]
    assert "CYB-1.1" in rag_table and "Off track" in rag_table and "At risk" in rag_table
    movement = page.split('id="indicator-movement"')[1].split("</table>")[0]
    assert "TOC-1-I1" in movement and "30" in movement and "40" in movement


def test_compare_refuses_reports_of_different_scopes(officer_client, compiled, reported):
    whole, area = compiled(), compiled(focus_area=reported.area)
    response = officer_client.get(reverse("report-compare"), {"a": whole.pk, "b": area.pk})
    assert response.status_code == 400 and "different scopes" in response.content.decode()
    assert officer_client.get(reverse("report-compare"), {"a": "nonsense", "b": area.pk}).status_code == 404


def make_reports(world, count):
    for index in range(count):
        ProgressReport.objects.create(
            plan=world.plan, period=world.period, state="failed", requested_by=world.officer, error=f"#{index}"
        )


@pytest.mark.parametrize("count", [2, 12])
def test_the_report_list_takes_a_fixed_number_of_queries(
    officer_client, reported, count, django_assert_max_num_queries
):
    make_reports(reported, count)
    # session, user, groups, the plan, the form's periods, areas and the plan's versions, the count, the page of
    # reports with period, area, version and requester, and the navigation's role checks.
    with django_assert_max_num_queries(11):
        assert officer_client.get(reverse("report-list")).status_code == 200


@pytest.mark.parametrize("earlier", [0, 6])
def test_a_report_page_takes_a_fixed_number_of_queries(
    officer_client, compiled, reported, earlier, django_assert_max_num_queries
):
    if earlier:
        # The earlier ones need not differ: one compiled, and copied.
        first = compiled()
        for _ in range(earlier - 1):
            first.pk = None
            first._state.adding = True
            first.save()
    report = compiled()
    # session, user, groups, the report, its snapshot's summary parts, the other reports to compare with;
    # the endorsement's rounds and the co-chairs' seats; the content type of reports (once per process).
    with django_assert_max_num_queries(11):
        assert officer_client.get(reverse("report-detail", args=[report.pk])).status_code == 200


# API -----------------------------------------------------------------------------------------------


def test_the_api_lists_reports_with_links_to_their_files(api, compiled, reported):
    report = compiled()
    body = api(reported.committee).get("/api/v1/reports/").json()
    [listed] = body["results"]
    assert listed["id"] == str(report.pk) and listed["content_hash"] == report.content_hash
    assert (listed["period"], listed["focus_area"], listed["state"]) == ("2020-Q2", None, "succeeded")
    assert listed["pdf"] == f"/api/v1/reports/{report.pk}/pdf/"
    pdf = api(reported.committee).get(listed["pdf"])
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"


def test_the_api_asks_for_a_report_and_returns_the_identical_one_in_progress(api, reported):
    client = api(reported.officer)
    created = client.post("/api/v1/reports/", {"period": "2020-Q2", "focus_area": "CYB"}, format="json")
    again = client.post("/api/v1/reports/", {"period": "2020-Q2", "focus_area": "CYB"}, format="json")
    assert (created.status_code, again.status_code) == (201, 200)
    assert created.json()["id"] == again.json()["id"] and created.json()["state"] == "queued"
    assert created["Location"] == f"/api/v1/reports/{created.json()['id']}/"


def test_the_api_refuses_a_period_of_another_plan_naming_the_field(api, reported):
    factories.ReportingPeriodFactory(code="OTHER-Q1")
    response = api(reported.officer).post("/api/v1/reports/", {"period": "OTHER-Q1"}, format="json")
    assert response.status_code == 400
    assert "period" in response.json() and response.json()["code"] == "invalid"


def test_the_api_refuses_a_file_of_a_report_not_compiled_yet(api, reported):
    report = ProgressReport.objects.create(plan=reported.plan, period=reported.period)
    response = api(reported.officer).get(f"/api/v1/reports/{report.pk}/xlsx/")
    assert response.status_code == 409 and response.json()["code"] == "wrong_state"


def test_the_api_shows_reporters_no_report_and_refuses_them_one(api, compiled, reported):
    report = compiled()
    client = api(reported.reporter)
    assert client.get("/api/v1/reports/").json()["results"] == []
    for url in (
        f"/api/v1/reports/{report.pk}/",
        f"/api/v1/reports/{report.pk}/pdf/",
        f"/api/v1/reports/{report.pk}/xlsx/",
    ):
        assert client.get(url).status_code == 404, url
    refused = client.post("/api/v1/reports/", {"period": "2020-Q2"}, format="json")
    assert refused.status_code == 403
    assert ProgressReport.objects.count() == 1


@pytest.mark.parametrize("count", [2, 12])
def test_the_api_list_takes_a_fixed_number_of_queries(api, reported, count, django_assert_max_num_queries):
    make_reports(reported, count)
    client = api(reported.officer)
    # token with its user and groups, the count, the page with plan, period, area and requester, the
    # endorsement's rounds and their signatures; the throttle uses the cache.
    with django_assert_max_num_queries(8):
        assert client.get("/api/v1/reports/").status_code == 200


# Admin -----------------------------------------------------------------------------------------------


@pytest.fixture
def superuser_client(client, db):
    client.force_login(factories.UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def admin_url(obj, page, *args):
    return reverse(f"admin:steering_{obj._meta.model_name}_{page}", args=args)


@pytest.mark.parametrize("which", ["report", "record"])
def test_the_admin_deletes_no_compiled_report_and_no_record_of_what_was_sent(
    superuser_client, compiled, reported, which
):
    report = compiled()
    record = SentNotification.objects.create(kind="period_report", key="2020-Q2", report=report)
    obj = report if which == "report" else record

    assert superuser_client.get(admin_url(obj, "delete", obj.pk)).status_code == 403
    superuser_client.post(
        admin_url(obj, "changelist"), {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"}
    )

    assert type(obj).objects.filter(pk=obj.pk).exists()
    assert report.pdf.storage.exists(report.pdf.name)


def test_the_admin_deletes_a_failed_report(superuser_client, reported):
    report = ProgressReport.objects.create(plan=reported.plan, period=reported.period, state="failed")
    superuser_client.post(admin_url(report, "delete", report.pk), {"post": "yes"})
    assert not ProgressReport.objects.filter(pk=report.pk).exists()
