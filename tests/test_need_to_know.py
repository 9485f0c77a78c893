"""Need to know, crawled: a field reporter reads nothing of a restricted activity of another office, nor of
another office's draft, on any page, API endpoint, export, report file or e-mail it can reach.

Every free text of the secret records carries ``SECRET`` followed by the field's name, so that a
leak names the field it came from. A control crawl by the reporter of the office that owns them
finds the secret, which proves the crawl reaches where it would be.
"""

import datetime
import re
from decimal import Decimal

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from actionplan import evidence, services
from actionplan.measurements import MeasurementInput
from actionplan.models import Tag
from portal.notifications import send_due
from steering import schedules
from steering import services as steering_services
from steering.models import ProgressReport
from steering.reports import services as report_services
from tests import factories
from tests.crawler import Crawler, api_crawl, readable_text

SECRET = "ntksecret7q"
FOUND = re.compile(SECRET + r"[a-z_]*")


def leaks(visits) -> dict[str, set[str]]:
    """The secret fields each address showed, by address."""
    return {url: set(FOUND.findall(visit.text)) for url, visit in visits.items() if SECRET in visit.text}


def csv_upload(name: str, content: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, f"office,value\n{content},1\n".encode(), content_type="text/csv")


@pytest.fixture
def secrets(committee_world, settings, tmp_path, django_capture_on_commit_callbacks):
    """The world with work of office ROSEAP that office NBO must not read, and work of NBO's own.

    - CYB-1.2, restricted, implemented by ROSEAP alone: every text secret, an indicator of its
      own, an update returned, discussed and approved, with measurements (also on the objective's
      indicator, which NBO reads), evidence, and a lead organisation, a country and a tag of its own.
    - CYB-1.1, implemented by ROSEAP and NBO: ROSEAP's draft and an approved update of ROSEAP's, every
      text secret.
    - An action item of ROSEAP's, secret.
    - NBO's own approved update on CYB-1.3 and an action item, so the crawl has NBO's work to read.
    """
    settings.MEDIA_ROOT = tmp_path / "media"
    world = committee_world
    world.activity.implementing_offices.add(world.other_office)
    restricted = world.restricted
    for name in ("title", "description", "funding_source"):
        setattr(restricted, name, f"{SECRET}{name}")
    restricted.save()
    restricted.lead_organization = factories.OrganizationFactory(code=f"{SECRET}org", name=f"{SECRET}org_name")
    restricted.save()
    restricted.tags.add(Tag.objects.create(name=f"{SECRET}tag"))
    restricted.beneficiary_countries.add(factories.CountryFactory(name=f"{SECRET}country"))
    world.objective_indicator = factories.IndicatorFactory(
        objective=world.objective, activity=None, code="CYB-1-I1", name="Cases referred"
    )
    world.restricted_indicator = factories.IndicatorFactory(
        activity=restricted,
        code="CYB-1.2-I1",
        name=f"{SECRET}indicator_name",
        unit="cases",
        means_of_verification=f"{SECRET}means_of_verification",
    )

    def texts(prefix):
        return {name: f"{SECRET}{prefix}_{name}" for name in ("narrative", "challenges", "next_steps")}

    def measurements(prefix, *indicators):
        return [
            MeasurementInput(indicator=indicator, value=Decimal(7), note=f"{SECRET}{prefix}_measurement_note")
            for indicator in indicators
        ]

    with django_capture_on_commit_callbacks(execute=True):
        update = services.create_update(
            by=world.reporter, activity=restricted, period=world.period, office=world.office, rag="at_risk",
            percent_complete=40, measurements=measurements("restricted", world.restricted_indicator,
                                                            world.objective_indicator),
            **texts("restricted"),
        )  # fmt: skip
        upload = csv_upload(f"{SECRET}evidence_name.csv", f"{SECRET}evidence_content")
        evidence.add_evidence(by=world.reporter, update=update, upload=upload)
        services.submit_update(by=world.reporter, update=update, note=f"{SECRET}submission_note")
        services.return_update(by=world.officer, update=update, comment=f"{SECRET}return_comment")
        services.add_comment(by=world.reporter, update=update, text=f"{SECRET}reply")
        services.submit_update(by=world.reporter, update=update, note=f"{SECRET}resubmission_note")
        services.approve_update(by=world.officer, update=update, comment=f"{SECRET}approval_comment")
        world.restricted_update = update

        draft = services.create_update(
            by=world.reporter, activity=world.activity, period=world.period, office=world.office, rag="on_track",
            percent_complete=20, measurements=measurements("draft", world.indicator), **texts("draft"),
        )  # fmt: skip
        upload = csv_upload(f"{SECRET}draft_evidence_name.csv", f"{SECRET}draft_evidence_content")
        evidence.add_evidence(by=world.reporter, update=draft, upload=upload)
        services.add_comment(by=world.reporter, update=draft, text=f"{SECRET}draft_comment")
        world.draft = draft

        # ROSEAP's approved update on the shared activity: its value counts in the figures NBO reads, its
        # texts and its listed value stay ROSEAP's.
        world.q3 = factories.ReportingPeriodFactory(
            plan=world.plan, code="2020-Q3", starts_on=datetime.date(2020, 7, 1), ends_on=datetime.date(2020, 9, 30),
            due_on=datetime.date(2020, 10, 15),
        )  # fmt: skip
        shared = services.create_update(
            by=world.reporter, activity=world.activity, period=world.q3, office=world.office, rag="on_track",
            percent_complete=30, measurements=measurements("shared", world.indicator), **texts("shared"),
        )  # fmt: skip
        services.submit_update(by=world.reporter, update=shared, note=f"{SECRET}shared_submission_note")
        services.approve_update(by=world.officer, update=shared, comment=f"{SECRET}shared_approval_comment")
        world.shared_update = shared

        own = services.create_update(
            by=world.other_reporter, activity=world.other_activity, period=world.period, office=world.other_office,
            rag="on_track", percent_complete=60, narrative="Two courses held in Nairobi.",
            measurements=[MeasurementInput(indicator=world.other_indicator, value=Decimal(12), note="Course lists")],
        )  # fmt: skip
        evidence.add_evidence(by=world.other_reporter, update=own, upload=csv_upload("attendance.csv", "Nairobi"))
        services.submit_update(by=world.other_reporter, update=own, note="Both courses are done.")
        services.approve_update(by=world.officer, update=own, comment="Thank you.")

        world.secret_item = steering_services.add_action_item(
            by=world.secretary, meeting=world.meeting, description=f"{SECRET}action_item",
            due_on=datetime.date(2020, 12, 1), owner_office=world.office,
        )  # fmt: skip
        world.own_item = steering_services.add_action_item(
            by=world.secretary, meeting=world.meeting, description="Share the course material",
            due_on=datetime.date(2020, 12, 1), owner_office=world.other_office,
        )  # fmt: skip
    return world


@pytest.fixture
def small_pages(monkeypatch):
    """Two rows a page on the browser's lists, so that the crawl follows their pages in a small world."""
    from actionplan.views import activities, plan, review, updates

    monkeypatch.setattr(activities, "PAGE_SIZE", 2)
    monkeypatch.setattr(plan, "ACTIVITIES_PER_PAGE", 2)
    monkeypatch.setattr(review, "PAGE_SIZE", 2)
    monkeypatch.setattr(updates, "PAGE_SIZE", 2)


def secret_addresses(world) -> list[str]:
    """The browser's addresses of every secret record, as someone who guessed or was sent them would type them."""
    restricted, draft = world.restricted_update, world.draft
    evidence_ids = [item.pk for update in (restricted, draft) for item in update.evidence.all()]
    return [
        f"/activities/{world.restricted.code}/",
        f"/activities/{world.restricted.code}/report/",
        f"/plan/indicators/{world.restricted_indicator.code}/",
        f"/plan/activity/{world.restricted.code}/edit/",
        f"/plan/indicator/{world.restricted_indicator.code}/edit/",
        f"/activities/?q={world.restricted.code}",
        f"/activities/?q={world.restricted.code}&export=csv",
        f"/activities/?q={world.restricted.code}&export=xlsx",
        f"/steering/action-items/{world.secret_item.pk}/",
        *[
            f"/updates/{update.pk}/{suffix}"
            for update in (restricted, draft, world.shared_update)
            for suffix in ("", "edit/")
        ],
        *[f"/evidence/{pk}/" for pk in evidence_ids],
    ]


def api_probes(world) -> dict[str, list[str]]:
    return {
        "code": [world.restricted.code, world.restricted_indicator.code],
        "id": [str(update.pk) for update in (world.restricted_update, world.draft, world.shared_update)],
    }


def crawl_all(client, api_client, world):
    crawler = Crawler(client, queries_per_path=15)
    # The home page, and the pages of other roles the reporter could type (refused to it, they must say nothing).
    crawler.crawl("/", "/notifications/", "/steering/", "/steering/meetings/", "/steering/action-items/",
                  "/updates/review/", "/steering/reports/")  # fmt: skip
    # The secret records' own addresses last, so that a filter they set does not spend the crawl's bounds.
    pages = crawler.crawl(*secret_addresses(world))
    filters = {
        "activity": [world.restricted.code, world.activity.code],
        "office": [world.office.code],
        "objective": [world.objective.code],
        "focus_area": [world.area.code],
        "period": [world.period.code],
    }
    return pages, api_crawl(api_client, probes=api_probes(world), filters=filters)


def test_a_reporter_of_another_office_reads_no_secret_on_any_page_or_api_endpoint(secrets, small_pages, as_user, api):
    pages, api_crawler = crawl_all(as_user(secrets.other_reporter), api(secrets.other_reporter), secrets)

    assert leaks(pages) == {}
    assert leaks(api_crawler.visits) == {}
    # Not vacuous: the crawl read the reporter's own work, the register's exports and many pages.
    assert len([visit for visit in pages.values() if visit.status == 200]) >= 20, sorted(pages)
    assert "Two courses held in Nairobi." in pages[f"/activities/{secrets.other_activity.code}/"].text
    exports = {visit.content_type.split(";")[0] for url, visit in pages.items() if "export=" in url}
    assert {"text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"} <= exports
    assert any(url.startswith("/evidence/") and visit.status == 200 for url, visit in pages.items())
    assert any("page=2" in url and visit.status == 200 for url, visit in pages.items())
    assert any("page=2" in url and visit.status == 200 for url, visit in api_crawler.visits.items())
    listed = {url.partition("?")[0] for url, visit in api_crawler.visits.items() if visit.status == 200}
    # Every list answered; the IATI export, for officers and the committee alone, was refused (and read for leaks),
    # and the feed of deletions asks for its `since` (what it shows whom: tests/actionplan/api/test_deletions.py).
    assert set(api_crawler.lists) - listed == {"/api/v1/iati/activities.xml", "/api/v1/deleted/"}
    # Bad or forbidden addresses answer with their status, never a failure.
    assert [url for url, visit in {**pages, **api_crawler.visits}.items() if visit.status >= 500] == []


def test_a_user_of_no_office_and_no_role_reads_no_secret_anywhere(secrets, small_pages, as_user, api):
    pages, api_crawler = crawl_all(as_user(secrets.outsider), api(secrets.outsider), secrets)

    assert leaks(pages) == {} and leaks(api_crawler.visits) == {}
    assert len([visit for visit in pages.values() if visit.status == 200]) >= 20, sorted(pages)


def test_the_secret_records_answer_404_or_403_to_a_reporter_of_another_office(secrets, as_user, api):
    client = as_user(secrets.other_reporter)
    for url in secret_addresses(secrets):
        response = client.get(url)
        body = readable_text(response, b"".join(response.streaming_content) if response.streaming else response.content)
        if "export=" in url:
            assert response.status_code == 200 and secrets.restricted.code not in body, url
        elif "?q=" in url:
            # The search box echoes the code typed; the list found nothing.
            assert response.status_code == 200 and list(response.context["page"].object_list) == [], url
        else:
            assert response.status_code in (403, 404), url
        assert SECRET not in body, url
    api_client = api(secrets.other_reporter)
    for path, values in (
        ("activities", [secrets.restricted.code]),
        ("indicators", [secrets.restricted_indicator.code, f"{secrets.restricted_indicator.code}/figures"]),
        ("updates", [f"{pk}{suffix}" for pk in api_probes(secrets)["id"] for suffix in ("", "/comments")]),
    ):
        for value in values:
            response = api_client.get(f"/api/v1/{path}/{value}/")
            assert response.status_code in (403, 404), (path, value)
            assert SECRET not in response.content.decode(), (path, value)


def test_the_same_crawl_by_the_office_that_owns_the_secrets_finds_them(secrets, small_pages, as_user, api):
    """The control: the crawl reaches every kind of place where a secret would show."""
    pages, api_crawler = crawl_all(as_user(secrets.reporter), api(secrets.reporter), secrets)

    seen_on_pages = set().union(*leaks(pages).values())
    seen_in_api = set().union(*leaks(api_crawler.visits).values())
    for field in (
        "title", "description", "tag", "country", "org", "indicator_name", "restricted_narrative",
        "restricted_measurement_note", "evidence_name", "evidence_content", "return_comment",
        "draft_narrative", "draft_measurement_note", "draft_evidence_name", "draft_comment",
        "shared_narrative", "shared_measurement_note", "action_item",
    ):  # fmt: skip
        assert SECRET + field in seen_on_pages, field
    in_api = {"title", "restricted_narrative", "draft_narrative", "shared_narrative", "draft_measurement_note"}
    assert {SECRET + field for field in in_api} <= seen_in_api
    exported = [url for url, visit in pages.items() if "export=" in url and SECRET + "title" in visit.text]
    assert {"csv", "xlsx"} <= {url.rpartition("export=")[2][:4] for url in exported}


@pytest.fixture
def compiled_report(secrets):
    report = ProgressReport.objects.create(plan=secrets.plan, period=secrets.period, requested_by=secrets.officer)
    assert report_services.compile_report(report_id=report.pk) == "succeeded"
    return ProgressReport.objects.get(pk=report.pk)


def test_a_report_holding_the_secrets_is_refused_to_a_reporter_in_the_browser_and_the_api(
    secrets, compiled_report, as_user, api
):
    report = compiled_report
    addresses = [f"/steering/reports/{report.pk}/{suffix}" for suffix in ("", "pdf/", "xlsx/", "state/")]
    committee = as_user(secrets.committee)
    # The control: the committee's files hold the secrets.
    for suffix in ("pdf/", "xlsx/"):
        response = committee.get(f"/steering/reports/{report.pk}/{suffix}")
        assert SECRET + "title" in readable_text(response, b"".join(response.streaming_content)), suffix

    reporter = as_user(secrets.other_reporter)
    for url in [*addresses, "/steering/reports/"]:
        response = reporter.get(url)
        assert response.status_code in (403, 404), url
        assert SECRET not in response.content.decode(), url
    api_client = api(secrets.other_reporter)
    assert api_client.get("/api/v1/reports/").json()["results"] == []
    for suffix in ("", "pdf/", "xlsx/"):
        response = api_client.get(f"/api/v1/reports/{report.pk}/{suffix}")
        assert response.status_code in (403, 404), suffix
        assert SECRET not in response.content.decode(), suffix


def test_no_email_to_a_reporter_of_another_office_holds_a_secret(secrets, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        schedules.remind_due_updates(today=datetime.date(2020, 7, 10))
        schedules.send_overdue_digest(today=datetime.date(2020, 7, 20))
        for delivery in ("hourly", "daily", "now"):
            send_due(delivery)

    def received(user):
        return [message for message in mail.outbox if user.email in message.to]

    other = received(secrets.other_reporter)
    # Not vacuous: the reporter was told of its action item and reminded of its missing update.
    assert len(other) >= 2, [message.subject for message in mail.outbox]
    for message in other:
        everything = "\n".join([message.subject, message.body, *(part for part, _type in message.alternatives)])
        assert SECRET not in everything, message.subject
    # The control: the owning office's reporter was e-mailed the officer's secret comment.
    assert any(SECRET + "return_comment" in message.body for message in received(secrets.reporter))
