"""GET /api/v1/indicators/{code}/figures/: an indicator's figures by its own rule."""

import pytest

from actionplan.models import Indicator
from tests.factories import MeasurementFactory, PeriodTargetFactory, ProgressUpdateFactory


@pytest.fixture
def reported(world):
    """Both offices report on the world's activity: 30 and 20 approved in 2020-Q1, 35 of one office in 2020-Q2."""
    world.activity.implementing_offices.add(world.other_office)
    for office, period, value in (
        (world.office, world.locked_period, 30),
        (world.other_office, world.locked_period, 20),
        (world.office, world.period, 35),
    ):
        update = ProgressUpdateFactory(activity=world.activity, period=period, office=office, state="approved")
        MeasurementFactory(update=update, indicator=world.indicator, value=value)
        if office == world.office:
            MeasurementFactory(update=update, indicator=world.indicator, value=value - 10, sex="female")
    Indicator.objects.filter(pk=world.indicator.pk).update(dimensions=["sex"])
    return world


def figures_of(client, code="CYB-1.1-I1", **query):
    response = client.get(f"/api/v1/indicators/{code}/figures/", query)
    assert response.status_code == 200, response.content
    return response.json()


def test_cumulative_sum_at_the_current_period_carries_the_office_that_did_not_report(api, reported):
    data = figures_of(api(reported.officer))
    # 35 reported for 2020-Q2 and the other office's 20 carried from 2020-Q1; end target 100.
    assert data["figure"] == {
        "period": "2020-Q2", "value": "55.00", "target": "100.00", "target_kind": "end", "percent_of_target": 55.0,
        "target_reached": False, "values": 2, "offices": 2, "reported_in_period": 1, "latest_values_of": "2020-Q2",
    }  # fmt: skip
    assert [(point["period"], point["value"]) for point in data["series"]] == [
        ("2020-Q1", "50.00"),
        ("2020-Q2", "55.00"),
    ]
    assert data["rule"].startswith("sum of 2 approved values from 2 offices; cumulative")


def test_a_period_target_is_what_the_figure_is_compared_with(api, reported):
    PeriodTargetFactory(indicator=reported.indicator, period=reported.locked_period, value=40)
    figure = figures_of(api(reported.officer), period="2020-Q1")["figure"]
    assert (figure["value"], figure["target"], figure["target_kind"], figure["target_reached"]) == (
        "50.00", "40.00", "period", True,
    )  # fmt: skip


def test_the_breakdown_combines_each_category_by_the_same_rule(api, reported):
    assert figures_of(api(reported.officer))["breakdown"] == {"sex": [{"category": "female", "value": "25.00"}]}


def test_a_reporter_sees_the_combined_figure_of_its_activity(api, reported):
    assert figures_of(api(reported.reporter))["figure"]["value"] == "55.00"


def test_an_office_filter_combines_only_that_offices_values(api, reported):
    assert figures_of(api(reported.officer), office="UNODC-ROSEAP")["figure"]["value"] == "35.00"


def test_a_reporter_may_not_ask_for_another_offices_figures(api, reported):
    response = api(reported.reporter).get("/api/v1/indicators/CYB-1.1-I1/figures/", {"office": "INTERPOL-RB-NBO"})
    assert response.status_code == 403
    assert "office" in response.json()


def test_an_unknown_period_is_refused_naming_it(api, reported):
    response = api(reported.officer).get("/api/v1/indicators/CYB-1.1-I1/figures/", {"period": "1999-Q1"})
    assert response.status_code == 400 and "1999-Q1" in response.json()["period"][0]


def test_indicators_state_their_rule_and_period_targets(api, reported):
    PeriodTargetFactory(indicator=reported.indicator, period=reported.period, value=60)
    data = api(reported.reporter).get("/api/v1/indicators/CYB-1.1-I1/").json()
    assert {key: data[key] for key in ("measure", "office_rule", "period_rule", "dimensions", "period_targets")} == {
        "measure": "number", "office_rule": "sum", "period_rule": "cumulative", "dimensions": ["sex"],
        "period_targets": [{"period": "2020-Q2", "value": "60.00"}],
    }  # fmt: skip


@pytest.mark.parametrize("extra_periods", [0, 5])
def test_figures_take_a_fixed_number_of_queries(api, reported, django_assert_max_num_queries, extra_periods):
    import datetime

    from tests.factories import ReportingPeriodFactory

    for number in range(extra_periods):
        first = datetime.date(2019, 1 + number, 1)
        ReportingPeriodFactory(plan=reported.plan, starts_on=first, ends_on=first, due_on=first, state="locked")
    client = api(reported.officer)
    # token with its user's groups, indicator and its period targets, periods, figures, one breakdown
    with django_assert_max_num_queries(7):
        client.get("/api/v1/indicators/CYB-1.1-I1/figures/")
