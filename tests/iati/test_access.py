"""Who exports to IATI, where the pages offer it, and how a refused export is answered."""

import logging

import pytest
from django.urls import reverse

from .conftest import parsed

API = "/api/v1/iati/activities.xml"
PAGE = reverse("iati-activities")


@pytest.mark.parametrize("who", ["officer", "committee"])
def test_officers_and_the_committee_download_the_file_from_the_api_and_the_browser(api, as_user, published, who):
    user = getattr(published, who)

    from_api = api(user).get(API)
    from_browser = as_user(user).get(PAGE)

    for response in (from_api, from_browser):
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith('attachment; filename="iati-activities-JAP-TEST-')
        assert parsed(response).tag == "iati-activities"


@pytest.mark.parametrize("who", ["reporter", "outsider"])
def test_a_reporter_or_an_outsider_is_refused_by_the_api(api, published, who):
    response = api(getattr(published, who)).get(API)

    assert response.status_code == 403
    assert response.json()["code"] == "not_allowed"


@pytest.mark.parametrize("who", ["reporter", "outsider"])
def test_a_reporter_or_an_outsider_is_refused_the_download_page(as_user, published, who):
    response = as_user(getattr(published, who)).get(PAGE)

    assert response.status_code == 403
    assert "Only programme officers and the steering committee export the plan to IATI." in response.content.decode()


def test_an_anonymous_call_is_refused_for_want_of_a_token(api, published):
    response = api().get(API)

    assert response.status_code == 401


def test_an_anonymous_visitor_is_sent_to_sign_in(client, published):
    response = client.get(PAGE)

    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("who, shown", [("officer", True), ("committee", True), ("reporter", False)])
def test_the_plan_page_offers_the_download_to_officers_and_the_committee(as_user, published, who, shown):
    page = as_user(getattr(published, who)).get(reverse("plan")).content.decode()

    assert (f'href="{PAGE}"' in page) is shown


@pytest.mark.parametrize("code, shown", [("CYB-1.1", True), ("CYB-1.2", False)])
def test_the_activity_page_offers_the_download_unless_the_activity_is_restricted(as_user, published, code, shown):
    page = as_user(published.officer).get(reverse("activity-detail", args=[code])).content.decode()

    assert (f'href="{PAGE}?activity={code}"' in page) is shown


def test_an_export_that_breaks_the_schema_is_refused_as_json_naming_the_element(api, published, caplog):
    published.other_activity.planned_start = published.other_activity.planned_end = None
    published.other_activity.save()

    with caplog.at_level(logging.ERROR, logger="actionplan.iati.export"):
        response = api(published.officer).get(API)

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "iati_invalid" and body["problem_count"] == len(body["errors"]) >= 1
    problem = body["errors"][0]
    assert problem["activity"] == "XI-IATI-JAP-CYB-1.3" and problem["rule"] == "schema"
    # The schema's own message, naming the element it met and the one it expected.
    assert (problem["element"], problem["message"]) == (
        "recipient-country",
        "Element 'recipient-country': This element is not expected. Expected is ( activity-date ).",
    )
    assert "IATI export of JAP-TEST refused" in caplog.text


def test_an_export_that_breaks_a_rule_is_refused_as_a_page_naming_the_problem(as_user, published, settings, caplog):
    settings.IATI_ORGANISATION_ID = ""

    with caplog.at_level(logging.ERROR, logger="actionplan.iati.export"):
        response = as_user(published.officer).get(PAGE)

    assert response.status_code == 409
    page = response.content.decode()
    assert "IATI export refused" in page and "Traceback" not in page
    assert "reporting-org-ref" in page and "set IATI_ORGANISATION_ID" in page
    assert "IATI export of JAP-TEST refused" in caplog.text


def test_the_export_is_written_to_the_access_log(api, published):
    from audit.models import AccessEvent

    api(published.officer).get(API, {"activity": "CYB-1.1"})

    event = AccessEvent.objects.get(kind=AccessEvent.Kind.EXPORT)
    assert (event.username, event.object_type) == ("officer", "IATI activities")
    assert event.object_id.startswith("iati-activities-CYB-1.1-")


@pytest.fixture
def two_exports(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "export": "2/min"}


def test_api_exports_are_limited_to_the_export_rate(api, published, two_exports):
    client = api(published.officer)

    statuses = [client.get(API).status_code for _ in range(3)]

    assert statuses == [200, 200, 429]


def test_api_and_browser_exports_are_counted_together(api, as_user, published, two_exports):
    as_user(published.officer).get(PAGE)
    api(published.officer).get(API)

    response = api(published.officer).get(API)

    assert response.status_code == 429 and int(response["Retry-After"]) > 0
