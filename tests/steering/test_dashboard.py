"""The steering dashboard: figures from SQL, filters in the URL, drill-down links, fixed query counts."""

import json

import pytest
from django.urls import reverse

from actionplan.models import Activity
from tests.factories import (
    ActionItemFactory,
    ActivityFactory,
    CommitteeFactory,
    IndicatorFactory,
    MeasurementFactory,
    MeetingFactory,
    ProgressUpdateFactory,
    grow_plan,
)


def dashboard(client, **query):
    response = client.get(reverse("dashboard"), query)
    assert response.status_code == 200
    return response


def area(response, code="CYB"):
    return next(row for row in response.context["figures"]["focus_areas"] if row["code"] == code)


def test_activities_are_counted_by_status(committee_client, world):
    Activity.objects.filter(code__in=["CYB-1.1", "CYB-1.2"]).update(status="ongoing")
    assert area(dashboard(committee_client))["status"] == {
        "planned": 2, "ongoing": 2, "completed": 0, "delayed": 0, "cancelled": 0,
    }  # fmt: skip


def test_activities_are_counted_by_rag_of_their_latest_approved_update(committee_client, world):
    ProgressUpdateFactory(
        activity=world.activity, period=world.locked_period, office=world.office, state="approved", rag="on_track"
    )
    ProgressUpdateFactory(
        activity=world.activity, period=world.period, office=world.office, state="approved", rag="off_track"
    )
    ProgressUpdateFactory(
        activity=world.restricted, period=world.period, office=world.office, state="submitted", rag="at_risk"
    )
    assert area(dashboard(committee_client))["rag"] == {"on_track": 0, "at_risk": 0, "off_track": 1, "none": 3}


def test_rag_of_an_earlier_period_counts_the_updates_approved_by_then(committee_client, world):
    ProgressUpdateFactory(
        activity=world.activity, period=world.locked_period, office=world.office, state="approved", rag="on_track"
    )
    ProgressUpdateFactory(
        activity=world.activity, period=world.period, office=world.office, state="approved", rag="off_track"
    )
    rag = area(dashboard(committee_client, period=world.locked_period.code))["rag"]
    assert (rag["on_track"], rag["off_track"]) == (1, 0)


def test_updates_received_against_expected_this_period(committee_client, world):
    ProgressUpdateFactory(activity=world.activity, period=world.period, office=world.office, state="submitted")
    ProgressUpdateFactory(activity=world.restricted, period=world.period, office=world.office, state="draft")
    row = area(dashboard(committee_client, period="2020-Q2"))
    assert (row["expected"], row["received"]) == (4, 1)


def test_indicator_progress_against_target(committee_client, world):
    update = ProgressUpdateFactory(activity=world.activity, period=world.period, office=world.office, state="approved")
    MeasurementFactory(update=update, indicator=world.indicator, value=100)  # baseline 0, target 100: reached
    MeasurementFactory(update=update, indicator=world.second_indicator, value=50)  # half way
    # The world's three indicators of the area; two with a figure for the current period.
    assert area(dashboard(committee_client))["indicators"] == {
        "all": 3,
        "with_actual": 2,
        "on_track": 1,
        "average_percent": 75.0,
    }


def _version_then_target_raised(world):
    """Version 1.0 with the world's targets (100), then the live end target of the first indicator raised to 200."""
    from actionplan import versions
    from actionplan.models import Indicator

    versions.record_version(plan=world.plan, endorsement="Lyon")
    Indicator.objects.filter(pk=world.indicator.pk).update(target_value=200)
    update = ProgressUpdateFactory(activity=world.activity, period=world.period, office=world.office, state="approved")
    MeasurementFactory(update=update, indicator=world.indicator, value=100)


def test_dashboard_as_at_a_version_measures_against_that_versions_targets(committee_client, world):
    _version_then_target_raised(world)
    # Against 1.0's target of 100 the value 100 reached it; against today's 200, half way.
    assert area(dashboard(committee_client, version="1.0"))["indicators"]["on_track"] == 1
    assert area(dashboard(committee_client, version="1.0"))["indicators"]["average_percent"] == 100.0


def test_dashboard_measures_against_the_current_targets_by_default(committee_client, world):
    _version_then_target_raised(world)
    assert area(dashboard(committee_client))["indicators"]["on_track"] == 0
    assert area(dashboard(committee_client))["indicators"]["average_percent"] == 50.0


def test_the_cached_dashboard_is_kept_apart_per_version(committee_client, world):
    _version_then_target_raised(world)
    assert area(dashboard(committee_client))["indicators"]["on_track"] == 0
    assert area(dashboard(committee_client, version="1.0"))["indicators"]["on_track"] == 1


def test_dashboard_as_at_a_version_counts_only_the_indicators_it_holds(committee_client, world):
    _version_then_target_raised(world)
    IndicatorFactory(activity=world.activity, code="CYB-1.1-I7")
    assert area(dashboard(committee_client, version="1.0"))["indicators"]["all"] == 3
    assert area(dashboard(committee_client))["indicators"]["all"] == 4


def test_dashboard_with_an_unknown_version_says_so_and_shows_current_targets(committee_client, world):
    _version_then_target_raised(world)
    response = dashboard(committee_client, version="9.9")
    assert "Unknown version 9.9" in response.content.decode()
    assert area(response)["indicators"]["on_track"] == 0


def test_indicators_of_objectives_count_unless_an_organisation_is_chosen(committee_client, world):
    from tests.factories import IndicatorFactory

    objective_indicator = IndicatorFactory(activity=None, objective=world.objective, target_value=10)
    update = ProgressUpdateFactory(activity=world.activity, period=world.period, office=world.office, state="approved")
    MeasurementFactory(update=update, indicator=objective_indicator, value=10)
    assert area(dashboard(committee_client))["indicators"]["on_track"] == 1
    organization = world.activity.lead_organization.code
    assert area(dashboard(committee_client, organization=organization))["indicators"]["on_track"] == 0


def test_compliance_by_office_counts_on_time_late_and_missing(committee_client, world):
    import datetime

    on_time = datetime.datetime(2020, 7, 10, tzinfo=datetime.UTC)
    late = datetime.datetime(2020, 7, 30, tzinfo=datetime.UTC)
    ProgressUpdateFactory(
        activity=world.activity, period=world.period, office=world.office, state="submitted", submitted_at=on_time
    )
    ProgressUpdateFactory(
        activity=world.restricted, period=world.period, office=world.office, state="approved", submitted_at=late
    )
    rows = {row["code"]: row for row in dashboard(committee_client, period="2020-Q2").context["figures"]["compliance"]}
    assert {k: rows["UNODC-ROSEAP"][k] for k in ("expected", "on_time", "late", "missing")} == {
        "expected": 2,
        "on_time": 1,
        "late": 1,
        "missing": 0,
    }
    assert rows["INTERPOL-RB-NBO"]["missing"] == 2


def test_each_office_and_country_links_to_its_register_list_in_the_period_shown(committee_client, world):
    from portal.models import Country

    kenya = Country.objects.create(iso3="KEN", iso2="KE", name="Kenya", region="Eastern Africa", region_code="014")
    world.activity.beneficiary_countries.add(kenya)

    page = dashboard(committee_client, period="2020-Q2").content.decode()

    register = reverse("activity-list")
    assert f'href="{register}?office=UNODC-ROSEAP&amp;period=2020-Q2"' in page
    assert f'href="{register}?country=KEN"' in page


def test_an_update_of_an_office_no_longer_implementing_counts_as_received_but_not_for_the_office(
    committee_client, world
):
    # INTERPOL-RB-NBO reported on CYB-1.1, which only UNODC-ROSEAP implements (now).
    ProgressUpdateFactory(activity=world.activity, period=world.period, office=world.other_office, state="submitted")

    response = dashboard(committee_client, period=world.period.code)

    rows = {row["code"]: row for row in response.context["figures"]["compliance"]}
    assert (area(response)["received"], response.context["figures"]["totals"]["received"]) == (1, 1)
    assert (rows["INTERPOL-RB-NBO"]["received"], rows["UNODC-ROSEAP"]["received"]) == (0, 0)


def test_open_and_overdue_action_items(committee_client, world):
    import datetime

    meeting = MeetingFactory(committee=CommitteeFactory(plan=world.plan))
    ActionItemFactory(meeting=meeting, due_on=datetime.date(2000, 1, 1))
    ActionItemFactory(meeting=meeting, due_on=datetime.date(2999, 1, 1))
    ActionItemFactory(meeting=meeting, due_on=datetime.date(2000, 1, 1), state="done")
    assert dashboard(committee_client).context["figures"]["action_items"] == {"open": 2, "overdue": 1}


def test_countries_reached_by_region(committee_client, world):
    from portal.models import Country

    kenya = Country.objects.create(
        iso3="KEN", iso2="KE", name="Kenya", region="Eastern Africa", region_code="014", continent="Africa"
    )
    world.activity.beneficiary_countries.add(kenya)
    world.other_activity.beneficiary_countries.add(kenya)
    countries = dashboard(committee_client).context["figures"]["countries"]
    assert countries == {
        "count": 1,
        "by_region": [{"region": "Eastern Africa", "region_code": "014", "n": 1}],
        "reached": [{"iso3": "KEN", "name": "Kenya"}],
    }


def test_dashboard_names_regions_and_countries_in_the_language_and_keeps_the_filter_values(committee_client, world):
    from portal.models import Country

    world.office.country.region, world.office.country.region_code = "Eastern Africa", "014"
    world.office.country.save()
    ethiopia = Country.objects.create(
        iso3="ETH", iso2="ET", name="Ethiopia", region="Eastern Africa", region_code="014", continent="Africa"
    )
    world.activity.beneficiary_countries.add(ethiopia)

    page = committee_client.get(reverse("dashboard"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    assert '<option value="Eastern Africa">Afrique orientale</option>' in page
    assert "<tr><td>Afrique orientale</td>" in page
    assert ">Éthiopie</a>" in page
    filtered = committee_client.get(reverse("dashboard"), {"region": "Eastern Africa"}, HTTP_ACCEPT_LANGUAGE="fr")
    assert filtered.context["filters"].region == "Eastern Africa"


def test_focus_area_filter_narrows_the_figures(committee_client, world):
    from tests.factories import FocusAreaFactory, ObjectiveFactory

    terrorism = FocusAreaFactory(plan=world.plan, code="TER", name="Terrorism")
    ActivityFactory(objective=ObjectiveFactory(focus_area=terrorism))
    response = dashboard(committee_client, focus_area="TER")
    assert [row["code"] for row in response.context["figures"]["focus_areas"]] == ["TER"]


@pytest.mark.parametrize(
    "query", [{"focus_area": "NOPE"}, {"period": "1999-Q9"}, {"organization": "ACME"}, {"region": "Atlantis"}]
)
def test_unknown_filter_code_is_ignored_with_a_visible_notice(committee_client, world, query):
    response = dashboard(committee_client, **query)
    value = next(iter(query.values()))
    assert any(value in notice for notice in response.context["filters"].notices)
    assert value in response.content.decode()


def test_every_bar_links_to_the_matching_register_list(committee_client, world):
    charts = dashboard(committee_client).context["charts"]
    ongoing = next(d for d in charts["status"]["datasets"] if d["key"] == "ongoing")
    assert ongoing["links"][0] == "/activities/?focus_area=CYB&status=ongoing"
    off_track = next(d for d in charts["rag"]["datasets"] if d["key"] == "off_track")
    assert off_track["links"][0] == "/activities/?focus_area=CYB&rag=off_track&as_of=2020-Q2"


def test_the_list_behind_each_status_and_rag_bar_holds_what_the_bar_counts(committee_client, client, world):
    for period, rag in ((world.locked_period, "on_track"), (world.period, "off_track")):
        ProgressUpdateFactory(activity=world.activity, period=period, office=world.office, state="approved", rag=rag)
    ProgressUpdateFactory(
        activity=world.other_activity, period=world.period, office=world.other_office, state="approved", rag="at_risk"
    )
    organization = world.activity.lead_organization.code
    charts = dashboard(committee_client, period=world.locked_period.code, organization=organization).context["charts"]

    for chart in ("status", "rag", "trend"):
        for dataset in charts[chart]["datasets"]:
            for counted, link in zip(dataset["data"], dataset["links"], strict=True):
                listed = committee_client.get(link).context["page"].paginator.count
                assert listed == counted, f"{chart} {dataset['key']}: {link}"


def test_hostile_labels_stay_text_in_the_chart_data(committee_client, world):
    hostile = "<svg onload=1>"  # a code has at most 16 characters, and no slash
    world.area.code = hostile
    world.area.save()
    page = dashboard(committee_client).content.decode()
    assert hostile not in page
    data = page.split('id="dashboard-charts" type="application/json">')[1].split("</script>")[0]
    assert json.loads(data)["status"]["labels"] == [hostile]


def test_a_field_reporter_is_refused_the_committees_dashboard(client, world):
    # Need to know: the dashboard shows every office's compliance and the committee's action items.
    client.force_login(world.reporter)
    response = client.get(reverse("dashboard"))
    assert response.status_code == 403 and "open to the committee" in response.content.decode()


@pytest.mark.parametrize("size", [2, 30])
def test_query_count_does_not_grow_with_the_data(committee_client, world, django_assert_max_num_queries, size):
    grow_plan(world, size)
    # session, user, groups; period lookup; focus areas; status, RAG, expected, received, indicators;
    # trend periods and counts; compliance (expected, received); countries (names, regions); action items;
    # filter choices (periods, focus areas, organisations, regions, plan versions); the navigation's unread
    # notifications.
    with django_assert_max_num_queries(24):
        dashboard(committee_client)


@pytest.mark.parametrize("size", [2, 30])
def test_query_count_as_at_a_version_does_not_grow_with_the_data(
    committee_client, world, django_assert_max_num_queries, size
):
    from actionplan import versions

    grow_plan(world, size)
    versions.record_version(plan=world.plan, endorsement="Lyon")
    # As above, + the version asked for.
    with django_assert_max_num_queries(25):
        dashboard(committee_client, version="1.0")


def test_rows_kept_by_their_activities_area_are_those_of_the_activities_listed(world):
    from actionplan.models import ProgressUpdate
    from steering.dashboard import Filters, _activities, focus_areas

    for activity in (world.activity, world.other_activity, world.restricted):
        ProgressUpdateFactory(activity=activity, period=world.period, office=world.office, state="submitted")
    filters = Filters.from_query({}, world.plan)
    shown = _activities(filters, world.committee, focus_areas(filters))

    kept = shown.of(ProgressUpdate.objects.all())

    assert not shown.narrowed
    assert set(kept) == set(ProgressUpdate.objects.filter(activity__in=shown.activities))


@pytest.mark.parametrize("narrowing", ["reporter", "organization", "region"])
def test_rows_are_kept_to_the_activities_listed_when_the_user_or_a_filter_narrows_them(world, narrowing):
    from steering.dashboard import Filters, _activities, focus_areas

    query = {"organization": world.activity.lead_organization.code} if narrowing == "organization" else {}
    if narrowing == "region":
        query = {"region": world.office.country.region}
    user = world.reporter if narrowing == "reporter" else world.committee
    filters = Filters.from_query(query, world.plan)

    assert _activities(filters, user, focus_areas(filters)).narrowed
