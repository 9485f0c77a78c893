"""The dashboard's figures are cached, and any write to the data behind them drops them."""

import threading
import uuid
from datetime import date

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from actionplan import services
from actionplan.models import Activity, ProgressUpdate
from steering import dashboard, dashboard_cache
from steering.dashboard import Filters
from tests.factories import (
    ActionItemFactory,
    ActionPlanFactory,
    ActivityFactory,
    FocusAreaFactory,
    IndicatorFactory,
    MeasurementFactory,
    MeetingFactory,
    ProgressUpdateFactory,
    ReportingPeriodFactory,
)


def figures(client, **query):
    response = client.get(reverse("dashboard"), query)
    assert response.status_code == 200
    return response.context["figures"]


def cyber(figures):
    return next(row for row in figures["focus_areas"] if row["code"] == "CYB")


def figure_queries(client) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        figures(client)
    return [query["sql"] for query in queries if "actionplan_indicatorfigure" in query["sql"]]


def test_second_view_of_the_dashboard_is_served_from_the_cache(committee_client):
    assert figure_queries(committee_client)

    assert figure_queries(committee_client) == []


def choice_queries(client) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        figures(client)
    return [query["sql"] for query in queries if "actionplan_planversion" in query["sql"]]


def test_second_view_of_the_dashboard_reads_its_filters_choices_from_the_cache(committee_client):
    assert choice_queries(committee_client)

    assert choice_queries(committee_client) == []


def test_an_update_approved_leaves_the_filters_choices_in_the_cache(
    committee_client, world, django_capture_on_commit_callbacks
):
    update = ProgressUpdateFactory(activity=world.activity, period=world.period, office=world.office, state="submitted")
    assert choice_queries(committee_client)

    with django_capture_on_commit_callbacks(execute=True):
        services.approve_update(by=world.officer, update=update)

    assert choice_queries(committee_client) == []


def test_a_version_recorded_is_offered_by_the_cached_dashboards_filters_at_once(committee_client, world):
    from actionplan import versions

    assert 'value="1.0"' not in committee_client.get(reverse("dashboard")).content.decode()

    versions.record_version(plan=world.plan, endorsement="Lyon, 6 June 2018")

    assert 'value="1.0"' in committee_client.get(reverse("dashboard")).content.decode()


def test_an_approved_update_shows_on_the_cached_dashboard_at_once(
    committee_client, world, django_capture_on_commit_callbacks
):
    update = ProgressUpdateFactory(
        activity=world.activity, period=world.period, office=world.office, state="submitted", rag="off_track"
    )
    assert cyber(figures(committee_client))["rag"]["off_track"] == 0

    with django_capture_on_commit_callbacks(execute=True):
        services.approve_update(by=world.officer, update=update)

    assert cyber(figures(committee_client))["rag"]["off_track"] == 1


def test_an_office_added_to_an_activity_shows_on_the_cached_dashboard(committee_client, world):
    before = cyber(figures(committee_client))["expected"]

    world.activity.implementing_offices.add(world.other_office)

    assert cyber(figures(committee_client))["expected"] == before + 1


def test_a_new_action_item_shows_on_the_cached_dashboard(committee_client, world):
    assert figures(committee_client)["action_items"]["open"] == 0

    ActionItemFactory(meeting=MeetingFactory(committee__plan=world.plan))

    assert figures(committee_client)["action_items"]["open"] == 1


def test_each_filter_has_its_own_cached_figures(committee_client, world):
    FocusAreaFactory(plan=world.plan, code="TER")
    whole_plan = figures(committee_client)

    one_area = figures(committee_client, focus_area="CYB")

    assert [row["code"] for row in whole_plan["focus_areas"]] == ["CYB", "TER"]
    assert [row["code"] for row in one_area["focus_areas"]] == ["CYB"]


def test_a_reporter_never_gets_the_figures_cached_for_the_committee(committee_client, client, world):
    # The dashboard is the committee's and the officers': a field reporter is refused it (need to know).
    figures(committee_client)
    client.force_login(world.reporter)
    assert client.get(reverse("dashboard")).status_code == 403


def test_figures_cached_in_redis_are_dropped_by_a_write(redis_url, settings, committee_client, world):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        }
    }
    assert figure_queries(committee_client)
    assert figure_queries(committee_client) == []

    ProgressUpdateFactory(activity=world.activity, period=world.period, office=world.office, state="approved")

    assert figure_queries(committee_client)


def never_compute(names):
    raise AssertionError(f"{names} were computed a second time")


def a_key():
    return f"dashboard:test:{uuid.uuid4().hex}"


def test_a_request_waits_for_the_figures_another_is_computing():
    key = a_key()
    cache.add(f"{key}:computing", True, 10)
    threading.Timer(0.2, cache.set, args=[key, {"computed": "elsewhere"}]).start()

    assert dashboard_cache._computed_once({"figures": key}, never_compute) == {"figures": {"computed": "elsewhere"}}


def body_renders(client, **query) -> int:
    """How many times the dashboard's body was rendered to answer one view."""
    response = client.get(reverse("dashboard"), query)
    assert response.status_code == 200
    return [template.name for template in response.templates].count("steering/includes/dashboard_body.html")


def test_the_dashboards_body_is_rendered_once_per_language_until_a_write_drops_it(committee_client, world):
    assert body_renders(committee_client) == 1
    assert body_renders(committee_client) == 0
    committee_client.cookies["django_language"] = "fr"
    assert body_renders(committee_client) == 1
    assert (
        "Respect des obligations de rapport par bureau" in committee_client.get(reverse("dashboard")).content.decode()
    )

    ProgressUpdateFactory(activity=world.activity, period=world.period, office=world.office, state="submitted")

    assert body_renders(committee_client) == 1


def renders(client, template: str) -> int:
    """How many times ``template`` was rendered to answer one view of the dashboard."""
    response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    return [rendered.name for rendered in response.templates].count(f"steering/includes/{template}.html")


def test_an_approval_renders_the_body_again_but_not_what_was_received(
    committee_client, world, django_capture_on_commit_callbacks
):
    update = ProgressUpdateFactory(activity=world.activity, period=world.period, office=world.office, state="submitted")
    assert renders(committee_client, "dashboard_reporting") == 1

    with django_capture_on_commit_callbacks(execute=True):
        services.approve_update(by=world.officer, update=update)

    response = committee_client.get(reverse("dashboard"))
    rendered = [template.name for template in response.templates]
    assert "steering/includes/dashboard_body.html" in rendered
    assert "steering/includes/dashboard_reporting.html" not in rendered


def test_a_submission_renders_what_was_received_again(committee_client, world):
    assert renders(committee_client, "dashboard_reporting") == 1

    ProgressUpdateFactory(activity=world.activity, period=world.period, office=world.office, state="submitted")

    assert renders(committee_client, "dashboard_reporting") == 1


def received_section(client) -> str:
    page = client.get(reverse("dashboard")).content.decode()
    return page[page.index('id="compliance-heading"') : page.index('id="dashboard-charts"')]


def test_what_was_received_shown_after_an_approval_equals_it_rendered_afresh(
    committee_client, world, django_capture_on_commit_callbacks
):
    update = ProgressUpdateFactory(activity=world.activity, period=world.period, office=world.office, state="submitted")
    received_section(committee_client)

    with django_capture_on_commit_callbacks(execute=True):
        services.approve_update(by=world.officer, update=update)
    shown = received_section(committee_client)
    cache.clear()

    assert shown == received_section(committee_client)
    assert world.office.name in shown


def test_a_request_computes_the_figures_itself_when_the_other_never_finishes(monkeypatch):
    monkeypatch.setattr(dashboard_cache, "COMPUTE_WAIT", 0.2)
    key = a_key()
    cache.add(f"{key}:computing", True, 10)

    computed = dashboard_cache._computed_once({"figures": key}, lambda names: {"figures": {"computed": "here"}})
    assert computed["figures"]["computed"] == "here"


@pytest.fixture
def unreachable_redis(settings):
    # Nothing listens on port 1: every cache call fails at once with a connection error.
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    }


def test_dashboard_is_computed_without_the_cache_when_redis_is_unreachable(unreachable_redis, committee_client):
    assert cyber(figures(committee_client))["status"]["planned"] == 4


def test_a_write_succeeds_when_redis_is_unreachable(unreachable_redis, world, django_capture_on_commit_callbacks):
    update = ProgressUpdateFactory(activity=world.activity, period=world.period, office=world.office, state="submitted")

    with django_capture_on_commit_callbacks(execute=True):
        services.approve_update(by=world.officer, update=update)

    update.refresh_from_db()
    assert update.state == "approved"


def test_a_reporter_saving_a_draft_keeps_the_cached_dashboard(committee_client, world):
    figures(committee_client)

    ProgressUpdateFactory(activity=world.activity, period=world.period, office=world.office, state="draft")

    assert figure_queries(committee_client) == []


def test_a_reporter_saving_a_draft_with_measurements_keeps_the_cached_dashboard(committee_client, world):
    from actionplan import services
    from actionplan.measurements import MeasurementInput

    update = services.create_update(
        by=world.reporter, activity=world.activity, period=world.period, office=world.office, rag="on_track",
        percent_complete=10, measurements=[MeasurementInput(indicator=world.indicator, value=3)],
    )  # fmt: skip
    figures(committee_client)
    services.edit_update(
        by=world.reporter, update=update, expected_version=update.version, changes={},
        measurements=[MeasurementInput(indicator=world.indicator, value=4)],
    )  # fmt: skip
    assert figure_queries(committee_client) == []


def test_a_reporter_saving_a_returned_update_again_and_again_keeps_the_cached_dashboard(committee_client, world):
    from actionplan.measurements import MeasurementInput

    update = services.create_update(
        by=world.reporter, activity=world.activity, period=world.period, office=world.office, rag="on_track",
        percent_complete=10, measurements=[MeasurementInput(indicator=world.indicator, value=3)], submit=True,
    )  # fmt: skip
    assert cyber(figures(committee_client))["received"] == 1

    # Returned, it leaves the figures (no longer received) ...
    update = services.return_update(by=world.officer, update=update, comment="Say what the 3 stands for.")
    assert cyber(figures(committee_client))["received"] == 0

    # ... and its office saving it, however often, leaves the cached figures alone ...
    for value in range(4, 8):
        update = services.edit_update(
            by=world.reporter, update=update, expected_version=update.version,
            changes={"narrative": f"Trained {value} officers.", "rag": "at_risk", "percent_complete": value},
            measurements=[MeasurementInput(indicator=world.indicator, value=value)],
        )  # fmt: skip
        assert figure_queries(committee_client) == []

    # ... until it is submitted again.
    services.submit_update(by=world.reporter, update=update)
    assert cyber(figures(committee_client))["received"] == 1


def test_withdrawing_a_submitted_update_drops_the_cached_dashboard(committee_client, world):
    update = services.create_update(
        by=world.reporter, activity=world.activity, period=world.period, office=world.office, rag="on_track",
        percent_complete=10, submit=True,
    )  # fmt: skip
    assert cyber(figures(committee_client))["received"] == 1

    services.withdraw_update(by=world.reporter, update=update)
    assert cyber(figures(committee_client))["received"] == 0


def test_an_update_read_without_its_state_drops_the_cached_dashboard_when_saved(committee_client, world):
    from actionplan.models import ProgressUpdate

    ProgressUpdateFactory(activity=world.activity, period=world.period, office=world.office, state="submitted")
    assert cyber(figures(committee_client))["received"] == 1

    # Its state unknown when read, the save may have changed a counted one: the figures go.
    partial = ProgressUpdate.objects.only("pk", "narrative").get()
    ProgressUpdate.objects.filter(pk=partial.pk).update(state="draft")  # no signal: bounded by TIMEOUT
    partial.narrative = "Changed."
    partial.save(update_fields=["narrative"])
    assert cyber(figures(committee_client))["received"] == 0


def test_a_submitted_update_drops_the_cached_dashboard(committee_client, world):
    figures(committee_client)

    ProgressUpdateFactory(activity=world.activity, period=world.period, office=world.office, state="submitted")

    assert cyber(figures(committee_client))["received"] == 1


def _bulk(api, world, *, submit):
    item = {"client_key": "k", "activity": world.activity.code, "period": world.period.code, "rag": "on_track",
            "percent_complete": 10, "submit": submit}  # fmt: skip
    [answer] = api(world.reporter).post("/api/v1/updates/bulk/", [item], format="json").json()
    assert answer["status"] == 201


def test_a_submitted_update_created_in_bulk_drops_the_cached_dashboard(committee_client, world, api):
    figures(committee_client)

    _bulk(api, world, submit=True)

    assert cyber(figures(committee_client))["received"] == 1


def test_a_draft_created_in_bulk_keeps_the_cached_dashboard(committee_client, world, api):
    figures(committee_client)

    _bulk(api, world, submit=False)

    assert figure_queries(committee_client) == []


def test_a_waiting_request_takes_over_when_the_computation_it_waits_for_fails(monkeypatch):
    monkeypatch.setattr(dashboard_cache, "COMPUTE_WAIT", 30)
    key = a_key()
    lock = f"{key}:computing"
    cache.add(lock, "the failing request", 30)
    threading.Timer(0.2, cache.delete, args=[lock]).start()

    def compute_holding_the_lock(names):
        assert cache.get(lock) not in (None, "the failing request")
        return {"figures": {"computed": "by the waiter"}}

    assert dashboard_cache._computed_once({"figures": key}, compute_holding_the_lock)["figures"] == {
        "computed": "by the waiter"
    }


@pytest.fixture
def two_areas(world):
    """The world's focus area (CYB) and a second one (TER) with an activity of the world's office."""
    terrorism = ActivityFactory(
        objective__focus_area=FocusAreaFactory(plan=world.plan, code="TER", order=2), code="TER-1.1"
    )
    terrorism.implementing_offices.add(world.office)
    return terrorism


@pytest.fixture
def parts_computed(monkeypatch):
    """Each computation of a half of the areas' parts: the half, and the codes of the areas computed."""
    computed = []

    def counting(half, build):
        def build_counted(filters, user, areas):
            computed.append((half, sorted(area.code for area in areas)))
            return build(filters, user, areas)

        return build_counted

    for half in ("reporting", "standing"):
        monkeypatch.setattr(dashboard, f"build_{half}", counting(half, getattr(dashboard, f"build_{half}")))
    return computed


BOTH_AREAS_IN_FULL = [("reporting", ["CYB", "TER"]), ("standing", ["CYB", "TER"])]


def test_an_update_approved_in_one_focus_area_recomputes_the_standing_half_of_that_areas_part_only(
    committee_client, world, two_areas, parts_computed, django_capture_on_commit_callbacks
):
    update = ProgressUpdateFactory(
        activity=two_areas, period=world.period, office=world.office, state="submitted", rag="off_track"
    )
    figures(committee_client)

    with django_capture_on_commit_callbacks(execute=True):
        services.approve_update(by=world.officer, update=update)
    terrorism = next(row for row in figures(committee_client)["focus_areas"] if row["code"] == "TER")

    assert parts_computed == [*BOTH_AREAS_IN_FULL, ("standing", ["TER"])]
    assert terrorism["rag"]["off_track"] == 1
    assert terrorism["received"] == 1


def test_figures_after_an_approval_equal_those_computed_afresh(
    committee_client, world, two_areas, django_capture_on_commit_callbacks
):
    update = ProgressUpdateFactory(
        activity=two_areas, period=world.period, office=world.office, state="submitted", rag="at_risk"
    )
    figures(committee_client)

    with django_capture_on_commit_callbacks(execute=True):
        services.approve_update(by=world.officer, update=update)
    shown = figures(committee_client)

    afresh = dashboard.build(Filters.from_query({}, world.plan), world.committee)
    assert {key: value for key, value in shown.items() if not key.endswith("_key")} == afresh


def test_an_update_submitted_in_one_focus_area_recomputes_the_reporting_half_of_that_areas_part_only(
    committee_client, world, two_areas, parts_computed
):
    figures(committee_client)

    ProgressUpdateFactory(activity=two_areas, period=world.period, office=world.office, state="submitted")
    terrorism = next(row for row in figures(committee_client)["focus_areas"] if row["code"] == "TER")

    assert parts_computed == [*BOTH_AREAS_IN_FULL, ("reporting", ["TER"])]
    assert terrorism["received"] == 1


@pytest.mark.parametrize(
    ("action", "halves"),
    [
        ("withdraw", [("reporting", ["TER"])]),
        ("return", [("reporting", ["TER"])]),
        ("remove", [("reporting", ["TER"])]),
        ("approve", [("standing", ["TER"])]),
        ("remove approved", [("reporting", ["TER"]), ("standing", ["TER"])]),
    ],
)
def test_each_step_of_the_workflow_recomputes_the_halves_it_changes_and_they_equal_those_computed_afresh(
    committee_client, world, two_areas, parts_computed, django_capture_on_commit_callbacks, action, halves
):
    state = "approved" if action == "remove approved" else "submitted"
    update = ProgressUpdateFactory(
        activity=two_areas, period=world.period, office=world.office, state=state, rag="off_track"
    )
    figures(committee_client)
    with django_capture_on_commit_callbacks(execute=True):
        if action == "withdraw":
            services.withdraw_update(by=world.reporter, update=update)
        elif action == "return":
            services.return_update(by=world.officer, update=update, comment="Add the participants.")
        elif action == "approve":
            services.approve_update(by=world.officer, update=update)
        else:
            update.delete()
    shown = figures(committee_client)

    assert parts_computed == [*BOTH_AREAS_IN_FULL, *halves]
    afresh = dashboard.build(Filters.from_query({}, world.plan), world.committee)
    assert {key: value for key, value in shown.items() if not key.endswith("_key")} == afresh


def test_a_submitted_update_removed_recomputes_what_was_received(committee_client, world, two_areas):
    update = ProgressUpdateFactory(activity=two_areas, period=world.period, office=world.office, state="submitted")
    assert [row["received"] for row in figures(committee_client)["focus_areas"]] == [0, 1]

    update.delete()

    assert [row["received"] for row in figures(committee_client)["focus_areas"]] == [0, 0]


def test_an_approved_update_moved_to_another_office_recomputes_what_was_received(committee_client, world, two_areas):
    update = ProgressUpdateFactory(activity=two_areas, period=world.period, office=world.office, state="approved")
    two_areas.implementing_offices.add(world.other_office)

    def received_by_office() -> tuple[int, int]:
        compliance = {row["code"]: row["received"] for row in figures(committee_client)["compliance"]}
        return compliance[world.office.code], compliance[world.other_office.code]

    assert received_by_office() == (1, 0)

    update.office = world.other_office
    update.save()

    assert received_by_office() == (0, 1)


def test_the_whole_plans_dashboard_and_one_areas_share_that_areas_part(committee_client, two_areas, parts_computed):
    figures(committee_client)

    assert [row["code"] for row in figures(committee_client, focus_area="TER")["focus_areas"]] == ["TER"]
    assert parts_computed == BOTH_AREAS_IN_FULL


def test_a_write_to_the_plan_recomputes_every_areas_part(committee_client, world, two_areas, parts_computed):
    figures(committee_client)

    world.activity.implementing_offices.add(world.other_office)
    figures(committee_client)

    assert parts_computed == BOTH_AREAS_IN_FULL * 2


def off_track(client) -> list[int]:
    return [row["rag"]["off_track"] for row in figures(client)["focus_areas"]]


def test_an_update_moved_to_an_activity_of_another_area_recomputes_both_areas(
    committee_client, world, two_areas, parts_computed
):
    update = ProgressUpdateFactory(
        activity=world.activity, period=world.period, office=world.office, state="approved", rag="off_track"
    )
    assert off_track(committee_client) == [1, 0]

    update.activity = two_areas
    update.save()

    assert off_track(committee_client) == [0, 1]
    assert parts_computed == BOTH_AREAS_IN_FULL * 2


def test_an_update_read_without_its_activity_and_moved_recomputes_every_area(
    committee_client, world, two_areas, parts_computed
):
    update = ProgressUpdateFactory(
        activity=world.activity, period=world.period, office=world.office, state="approved", rag="off_track"
    )
    figures(committee_client)
    read = ProgressUpdate.objects.only("state", "period").get(pk=update.pk)

    read.activity = two_areas
    read.save()

    assert off_track(committee_client) == [0, 1]


def test_a_plan_without_focus_areas_has_figures_of_none(world):
    filters = Filters.from_query({}, ActionPlanFactory())

    assert dashboard_cache.figures(filters, world.committee)["focus_areas"] == []


def test_a_measurement_of_an_approved_update_recomputes_the_standing_half_of_its_areas_part(
    committee_client, world, two_areas, parts_computed
):
    indicator = IndicatorFactory(activity=two_areas)
    update = ProgressUpdateFactory(activity=two_areas, period=world.period, office=world.office, state="approved")
    figures(committee_client)

    MeasurementFactory(update=update, indicator=indicator, value=7)
    figures(committee_client)

    assert parts_computed == [*BOTH_AREAS_IN_FULL, ("standing", ["TER"])]


def test_figures_composed_of_parts_computed_one_by_one_equal_those_computed_at_once(world, two_areas):
    for activity, rag in ((world.activity, "off_track"), (two_areas, "at_risk")):
        ProgressUpdateFactory(activity=activity, period=world.period, office=world.office, state="approved", rag=rag)
    two_areas.beneficiary_countries.add(world.office.country, world.other_office.country)
    world.activity.beneficiary_countries.add(world.office.country)
    filters = Filters.from_query({}, world.plan)
    areas = dashboard.focus_areas(filters)

    one_by_one = [dashboard.build_parts(filters, world.committee, [area])[area.code] for area in areas]

    at_once = dashboard.build(filters, world.committee)
    assert dashboard.compose(filters, one_by_one) == at_once
    assert at_once["countries"]["count"] == 2 and at_once["totals"]["received"] == 2
    assert [row["code"] for row in at_once["compliance"]] == sorted(row["code"] for row in at_once["compliance"])


def test_an_office_implementing_activities_of_two_areas_is_one_compliance_row_counting_both(
    committee_client, world, two_areas
):
    for activity in (world.activity, two_areas):
        ProgressUpdateFactory(activity=activity, period=world.period, office=world.office, state="submitted")
    pairs = Activity.implementing_offices.through.objects.filter(office=world.office).count()

    rows = [row for row in figures(committee_client)["compliance"] if row["code"] == world.office.code]

    assert [(row["expected"], row["received"], row["missing"]) for row in rows] == [(pairs, 2, pairs - 2)]


@pytest.mark.parametrize("query", [{}, {"focus_area": "TER", "period": "2020-Q2"}])
def test_a_cached_view_reads_neither_the_plan_nor_its_periods_nor_its_focus_areas(committee_client, two_areas, query):
    figures(committee_client, **query)

    with CaptureQueriesContext(connection) as queries:
        figures(committee_client, **query)

    plan_tables = ("actionplan_actionplan", "actionplan_reportingperiod", "actionplan_focusarea")
    assert [query["sql"] for query in queries if any(table in query["sql"] for table in plan_tables)] == []


def test_a_period_added_is_offered_and_chosen_at_once(committee_client, world):
    figures(committee_client)

    ReportingPeriodFactory(
        plan=world.plan, code="2020-Q3", starts_on=date(2020, 7, 1), ends_on=date(2020, 9, 30), due_on=date(2020, 10, 9)
    )

    assert figures(committee_client, period="2020-Q3")["trend"]["periods"][-1] == "2020-Q3"


def test_a_focus_area_added_is_shown_at_once(committee_client, world, two_areas):
    figures(committee_client)

    FocusAreaFactory(plan=world.plan, code="MAR", order=3)

    assert [row["code"] for row in figures(committee_client)["focus_areas"]] == ["CYB", "TER", "MAR"]


def test_a_request_computes_the_values_no_other_computes_and_waits_for_the_others():
    mine, theirs = a_key(), a_key()
    cache.add(f"{theirs}:computing", "another request", 10)
    threading.Timer(0.2, cache.set, args=[theirs, "computed elsewhere"]).start()
    asked = []

    def compute(names):
        asked.append(names)
        return {name: "computed here" for name in names}

    found = dashboard_cache._computed_once({"mine": mine, "theirs": theirs}, compute)

    assert found == {"mine": "computed here", "theirs": "computed elsewhere"}
    assert asked == [["mine"]]


def test_a_view_waits_for_the_half_another_is_computing_and_computes_the_others(world, two_areas, parts_computed):
    filters = Filters.from_query({}, world.plan)
    terrorism = two_areas.objective.focus_area
    half = dashboard.build_reporting(filters, world.committee, [terrorism])["TER"]
    parts_computed.clear()
    generations = {
        (terrorism.pk, kind): dashboard_cache.area_generation(terrorism.pk, kind).current()
        for kind in dashboard_cache.KINDS
    }
    keys = dashboard_cache._half_keys(
        filters, world.committee, [terrorism], dashboard_cache.GENERATION.current(), generations
    )
    key = keys["TER", "reporting"]
    cache.add(f"{key}:computing", "another view", 10)
    threading.Timer(0.2, cache.set, args=[key, {**half, "name": "computed elsewhere"}]).start()

    shown = dashboard_cache.figures(filters, world.committee)["focus_areas"]

    assert [row["name"] for row in shown] == [world.area.name, "computed elsewhere"]
    assert parts_computed == [("reporting", ["CYB"]), ("standing", ["CYB", "TER"])]


def test_a_view_served_from_the_cache_waits_for_nothing(committee_client, monkeypatch):
    figures(committee_client)

    def no_wait(seconds):
        raise AssertionError(f"a view of cached figures waited {seconds} s")

    monkeypatch.setattr(dashboard_cache.time, "sleep", no_wait)
    assert figures(committee_client)["focus_areas"]
