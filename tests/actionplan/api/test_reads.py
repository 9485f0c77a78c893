"""Reads: paginated, filtered, stably ordered, incremental, scoped to what the user may see."""

import datetime

import pytest
from django.utils import timezone

from actionplan.models import Activity, ProgressUpdate
from tests.factories import ProgressUpdateFactory, grow_plan


def codes(response, key="code"):
    assert response.status_code == 200, response.content
    return [row[key] for row in response.json()["results"]]


def test_lists_are_paginated_with_count_and_links(world, api):
    response = api(world.officer).get("/api/v1/activities/?page_size=2")
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 4 and len(body["results"]) == 2 and body["next"] and body["previous"] is None


def test_reporter_sees_the_activities_its_office_implements_restricted_ones_included(world, api):
    assert codes(api(world.reporter).get("/api/v1/activities/")) == ["CYB-1.1", "CYB-1.2"]


@pytest.mark.parametrize("persona", ["officer", "committee"])
def test_officers_and_committee_see_every_activity(world, api, persona):
    assert codes(api(getattr(world, persona)).get("/api/v1/activities/")) == [
        "CYB-1.1",
        "CYB-1.2",
        "CYB-1.3",
        "CYB-1.4",
    ]


def test_outsider_sees_no_activity(world, api):
    assert codes(api(world.outsider).get("/api/v1/activities/")) == []


def test_activity_of_another_office_is_not_found(world, api):
    assert api(world.reporter).get("/api/v1/activities/CYB-1.4/").status_code == 404


def test_activity_detail_carries_its_indicators(world, api):
    body = api(world.reporter).get("/api/v1/activities/CYB-1.1/").json()
    assert [indicator["code"] for indicator in body["indicators"]] == ["CYB-1.1-I1", "CYB-1.1-I2"]
    assert body["implementing_offices"] == ["UNODC-ROSEAP"]


@pytest.mark.parametrize(
    "query, expected",
    [
        ("focus_area=CYB", ["CYB-1.1", "CYB-1.2", "CYB-1.3", "CYB-1.4"]),
        ("focus_area=TER", []),
        ("objective=CYB-1", ["CYB-1.1", "CYB-1.2", "CYB-1.3", "CYB-1.4"]),
        ("office=INTERPOL-RB-NBO", ["CYB-1.3", "CYB-1.4"]),
        ("status=ongoing", ["CYB-1.3"]),
        ("country=KEN", ["CYB-1.3"]),
        ("period=2020-Q2", ["CYB-1.1", "CYB-1.2", "CYB-1.3"]),
    ],
)
def test_activity_filters(world, api, query, expected):
    from portal.models import Country

    Activity.objects.filter(code="CYB-1.3").update(status="ongoing")
    world.other_activity.beneficiary_countries.add(
        Country.objects.create(iso3="KEN", iso2="KE", name="Kenya", region="Eastern Africa", continent="Africa")
    )
    Activity.objects.filter(code="CYB-1.4").update(planned_start=datetime.date(2021, 1, 1))
    assert codes(api(world.officer).get(f"/api/v1/activities/?{query}")) == expected


def test_unknown_status_filter_is_refused_naming_it(world, api):
    response = api(world.officer).get("/api/v1/activities/?status=sleeping")
    assert response.status_code == 400
    assert "status" in response.json()


def test_updated_since_returns_only_later_changes(world, api):
    Activity.objects.update(updated_at=timezone.now() - datetime.timedelta(days=2))
    Activity.objects.filter(code="CYB-1.2").update(updated_at=timezone.now())
    since = (timezone.now() - datetime.timedelta(days=1)).isoformat()
    assert codes(api(world.reporter).get("/api/v1/activities/", {"updated_since": since})) == ["CYB-1.2"]


def test_malformed_updated_since_is_refused_naming_it(world, api):
    response = api(world.reporter).get("/api/v1/activities/?updated_since=yesterday")
    assert response.status_code == 400
    assert "updated_since" in response.json()


def test_periods_show_state_and_due_date(world, api):
    body = api(world.reporter).get("/api/v1/periods/").json()["results"]
    assert [(p["code"], p["state"], p["due_date"]) for p in body] == [
        ("2020-Q1", "locked", "2020-04-15"),
        ("2020-Q2", "open", "2020-07-15"),
    ]
    assert codes(api(world.reporter).get("/api/v1/periods/?state=open")) == ["2020-Q2"]


def test_indicators_filter_by_activity(world, api):
    assert codes(api(world.reporter).get("/api/v1/indicators/?activity=CYB-1.1")) == ["CYB-1.1-I1", "CYB-1.1-I2"]


def test_reporter_does_not_see_indicators_of_activities_it_cannot_see(world, api):
    assert codes(api(world.reporter).get("/api/v1/indicators/?activity=CYB-1.3")) == []


def test_offices_and_focus_areas_are_listed(world, api):
    client = api(world.reporter)
    assert codes(client.get("/api/v1/offices/")) == ["INTERPOL-RB-NBO", "UNODC-ROSEAP"]
    assert codes(client.get("/api/v1/focus-areas/")) == ["CYB"]


def test_reporter_sees_only_its_offices_updates(world, api):
    mine = ProgressUpdateFactory(activity=world.activity, period=world.period, office=world.office)
    ProgressUpdateFactory(activity=world.other_activity, period=world.period, office=world.other_office)
    assert codes(api(world.reporter).get("/api/v1/updates/"), key="id") == [str(mine.pk)]


@pytest.mark.parametrize(
    "query, count",
    [
        ("state=draft", 1),
        ("state=approved", 0),
        ("period=2020-Q2", 1),
        ("activity=CYB-1.1", 1),
        ("office=UNODC-ROSEAP", 1),
    ],
)
def test_update_filters(world, api, query, count):
    ProgressUpdateFactory(activity=world.activity, period=world.period, office=world.office)
    assert api(world.officer).get(f"/api/v1/updates/?{query}").json()["count"] == count


def test_updates_are_ordered_by_last_change_for_incremental_sync(world, api):
    first = ProgressUpdateFactory(activity=world.activity, period=world.period, office=world.office)
    second = ProgressUpdateFactory(activity=world.restricted, period=world.period, office=world.office)
    ProgressUpdate.objects.filter(pk=first.pk).update(updated_at=timezone.now() + datetime.timedelta(seconds=5))
    assert codes(api(world.reporter).get("/api/v1/updates/"), key="id") == [str(second.pk), str(first.pk)]


# Every call: the token with its user and the user's groups (its user's other tokens are left to the daily
# purge), then per list the count and the page; a list read as values (activities, updates) reads the page's
# keys, then its rows, then each nested list, and the restricted rows on it for the access log.
@pytest.mark.parametrize(
    "url, budget",
    [
        # + the rows, offices, partners, countries, tags; + the restricted rows and their access-log insert (CYB-1.2)
        ("/api/v1/activities/", 10),
        # activity, offices, partners, countries, tags, indicators (their activity, objective, period targets)
        ("/api/v1/activities/CYB-1.1/", 8),
        ("/api/v1/activities/CYB-1.2/", 9),  # restricted: + the access-log insert
        ("/api/v1/indicators/", 4),  # + period targets
        ("/api/v1/updates/", 6),  # + the rows, measurements, evidence
        ("/api/v1/periods/", 3),
        ("/api/v1/offices/", 3),
        ("/api/v1/focus-areas/", 3),
    ],
)
@pytest.mark.parametrize("size", [2, 20])
def test_query_count_does_not_grow_with_the_rows(
    world, api, django_assert_max_num_queries, groups_read_apart, url, budget, size
):
    grow_plan(world, size, state=ProgressUpdate.State.DRAFT, countries=True)
    client = api(world.reporter)
    with django_assert_max_num_queries(budget + groups_read_apart):
        assert client.get(url).status_code == 200


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"])
def test_updated_since_beyond_what_utc_holds_is_refused_naming_it(world, api, moment):
    response = api(world.reporter).get("/api/v1/updates/", {"updated_since": moment})
    assert response.status_code == 400
    assert response.json() == {"updated_since": ["This date and time is out of range."]}


def test_updated_since_with_a_far_offset_is_read_as_utc(world, api):
    ProgressUpdateFactory(activity=world.activity, period=world.period, office=world.office)
    response = api(world.reporter).get("/api/v1/updates/", {"updated_since": "2020-01-01T00:00:00+16:00"})
    assert response.json()["count"] == 1


@pytest.mark.parametrize(
    "path", ["/api/v1/updates/not.a.uuid/comments/", "/api/v1/no-such-thing/", "/api/v1/updates/x/evidence/m.0/"]
)
def test_an_unknown_api_address_answers_json_404(world, api, path):
    response = api(world.reporter).get(path) if "evidence" not in path else api(world.reporter).delete(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json" and response.json()["code"] == "not_found"
