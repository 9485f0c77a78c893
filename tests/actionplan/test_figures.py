"""The indicator figure rule: hand-computed figures for each way values combine."""

import dataclasses
import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest

from actionplan import figures
from actionplan.models import Indicator, Measurement, ProgressUpdate
from tests import factories

pytestmark = pytest.mark.django_db

# Approved values per office and quarter (None: nothing reported), and when each was submitted.
VALUES = {
    "A": {"Q1": 10, "Q2": None, "Q3": 30, "Q4": None},
    "B": {"Q1": 20, "Q2": 25, "Q3": 40, "Q4": None},
    "C": {"Q1": 5, "Q2": None, "Q3": None, "Q4": None},
}
SUBMITTED_DAY = {"A": 5, "B": 3, "C": 9}


def _rules(office_rule, period_rule, **extra):
    return {"office_rule": office_rule, "period_rule": period_rule, **extra}


RULES = {
    "SUM-CUM": _rules(Indicator.OfficeRule.SUM, Indicator.PeriodRule.CUMULATIVE),
    "MEAN-PER": _rules(Indicator.OfficeRule.MEAN, Indicator.PeriodRule.PER_PERIOD),
    "MAX-LATEST": _rules(Indicator.OfficeRule.MAX, Indicator.PeriodRule.LATEST),
    "LAST-PER": _rules(Indicator.OfficeRule.LATEST, Indicator.PeriodRule.PER_PERIOD),
    "DECREASE": _rules(
        Indicator.OfficeRule.MAX,
        Indicator.PeriodRule.PER_PERIOD,
        direction=Indicator.Direction.DECREASE,
        baseline_value=Decimal(100),
        target_value=Decimal(40),
    ),
}
# The decrease indicator's values: 80 in Q1 (office B), 35 in Q3 (office A).
DECREASE_VALUES = {("B", "Q1"): 80, ("A", "Q3"): 35}


def approved(activity, period, office, day, state=ProgressUpdate.State.APPROVED):
    submitted = datetime.datetime.combine(period.ends_on, datetime.time(9), tzinfo=datetime.UTC)
    return factories.ProgressUpdateFactory(
        activity=activity,
        period=period,
        office=office,
        state=state,
        submitted_at=submitted + datetime.timedelta(days=day),
    )


@pytest.fixture
def plan():
    """One activity implemented by offices A, B and C, four quarters, and an indicator per rule."""
    the_plan = factories.ActionPlanFactory()
    area = factories.FocusAreaFactory(plan=the_plan, code="FIG")
    objective = factories.ObjectiveFactory(focus_area=area, code="FIG-1")
    activity = factories.ActivityFactory(objective=objective, code="FIG-1.1")
    offices = {name: factories.OfficeFactory(code=f"OFFICE-{name}") for name in VALUES}
    activity.implementing_offices.set(offices.values())
    periods = {
        f"Q{n}": factories.ReportingPeriodFactory(
            plan=the_plan,
            code=f"2020-Q{n}",
            starts_on=datetime.date(2020, 3 * n - 2, 1),
            ends_on=datetime.date(2020, 3 * n, 28),
            due_on=datetime.date(2020, 3 * n, 28) + datetime.timedelta(days=15),
        )
        for n in range(1, 5)
    }
    indicators = {
        name: factories.IndicatorFactory(activity=activity, code=f"FIG-1.1-{name}", **rules)
        for name, rules in RULES.items()
    }
    measurements = []
    for office_name, by_quarter in VALUES.items():
        for quarter, value in by_quarter.items():
            decrease = DECREASE_VALUES.get((office_name, quarter))
            if value is None and decrease is None:
                continue
            update = approved(activity, periods[quarter], offices[office_name], SUBMITTED_DAY[office_name])
            for name, indicator in indicators.items():
                reported = decrease if name == "DECREASE" else value
                if reported is not None:
                    measurements.append(Measurement(update=update, indicator=indicator, value=Decimal(reported)))
    factories.write_measurements_at_once(measurements, plan=the_plan)
    return SimpleNamespace(
        plan=the_plan, area=area, objective=objective, activity=activity, offices=offices, periods=periods,
        indicators=indicators,
    )  # fmt: skip


def figure_of(plan, name, quarter):
    found = figures.figures(Indicator.objects.filter(pk=plan.indicators[name].pk), plan.periods.values())
    return found.get((plan.indicators[name].pk, plan.periods[quarter].pk, figures.TOTAL))


def values_of(plan, name):
    return [
        None if (figure := figure_of(plan, name, quarter)) is None else figure.value
        for quarter in ("Q1", "Q2", "Q3", "Q4")
    ]


def test_cumulative_sum_counts_an_office_that_skipped_a_period_with_its_last_value(plan):
    # Q2: A's 10 and C's 5 carried, B's 25 reported; Q3: C's 5 carried; Q4: all carried.
    assert values_of(plan, "SUM-CUM") == [35, 40, 75, 75]


def test_cumulative_period_with_no_report_is_a_gap_not_a_drop(plan):
    q2, q4 = figure_of(plan, "SUM-CUM", "Q2"), figure_of(plan, "SUM-CUM", "Q4")
    assert (q2.values, q2.reported, q2.is_gap) == (3, 1, False)
    assert (q4.values, q4.reported, q4.is_gap) == (3, 0, True)
    chart = figures.series([plan.indicators["SUM-CUM"]], list(plan.periods.values()), plan.periods["Q4"])
    assert chart["FIG-1.1-SUM-CUM"].chart()["actuals"] == [35.0, 40.0, 75.0, None]


def test_mean_per_period_takes_only_that_periods_values(plan):
    # Q1: (10 + 20 + 5) / 3 = 11.67; Q2: 25; Q3: (30 + 40) / 2 = 35; Q4: nothing reported.
    assert values_of(plan, "MEAN-PER") == [Decimal("11.67"), 25, 35, None]


def test_maximum_of_the_latest_round_stands_until_another_round(plan):
    assert values_of(plan, "MAX-LATEST") == [20, 25, 40, 40]


def test_latest_reported_takes_the_value_submitted_last(plan):
    # Q1: C submitted last (day 9); Q3: A (day 5) after B (day 3).
    assert values_of(plan, "LAST-PER") == [5, 25, 30, None]


def test_decrease_indicator_reaches_its_target_at_or_below_it(plan):
    q1, q3 = figure_of(plan, "DECREASE", "Q1"), figure_of(plan, "DECREASE", "Q3")
    assert (q1.value, q1.reached, round(q1.share, 2)) == (80, False, 33.33)
    assert (q3.value, q3.reached, round(q3.share, 2)) == (35, True, 108.33)


def test_period_target_is_used_where_set_and_the_end_target_elsewhere(plan):
    factories.PeriodTargetFactory(indicator=plan.indicators["SUM-CUM"], period=plan.periods["Q2"], value=50)
    q2, q3 = figure_of(plan, "SUM-CUM", "Q2"), figure_of(plan, "SUM-CUM", "Q3")
    assert (q2.target, q2.target_kind, q2.share, q2.reached) == (50, "period", 80.0, False)
    assert (q3.target, q3.target_kind, q3.share, q3.reached) == (100, "end", 75.0, False)


@pytest.mark.parametrize(
    "state", [ProgressUpdate.State.DRAFT, ProgressUpdate.State.SUBMITTED, ProgressUpdate.State.RETURNED]
)
def test_values_not_yet_approved_count_in_no_figure(plan, state):
    update = approved(plan.activity, plan.periods["Q4"], plan.offices["A"], 1, state=state)
    Measurement.objects.create(update=update, indicator=plan.indicators["MEAN-PER"], value=99)
    assert figure_of(plan, "MEAN-PER", "Q4") is None


def test_breakdown_values_never_count_in_the_total(plan):
    update = ProgressUpdate.objects.get(period=plan.periods["Q3"], office=plan.offices["B"])
    Measurement.objects.create(update=update, indicator=plan.indicators["SUM-CUM"], value=400, sex="female")
    assert values_of(plan, "SUM-CUM") == [35, 40, 75, 75]


def test_breakdown_figures_combine_each_category_by_the_same_rule(plan):
    indicator = plan.indicators["SUM-CUM"]
    for office, female in (("A", 12), ("B", 15)):
        update = ProgressUpdate.objects.get(period=plan.periods["Q3"], office=plan.offices[office])
        Measurement.objects.create(update=update, indicator=indicator, value=female, sex="female")
    found = figures.figures(Indicator.objects.filter(pk=indicator.pk), [plan.periods["Q3"]], dimension="sex")
    assert {key[2]: figure.value for key, figure in found.items()} == {"female": 27}


def test_office_filter_keeps_only_those_offices_values(plan):
    indicator = plan.indicators["SUM-CUM"]
    found = figures.figures(
        Indicator.objects.filter(pk=indicator.pk), [plan.periods["Q3"]], offices=[plan.offices["A"]]
    )
    assert found[(indicator.pk, plan.periods["Q3"].pk, "")].value == 30


def test_summary_by_area_counts_figures_reached_targets_and_average_share(plan):
    objective_indicator = factories.IndicatorFactory(objective=plan.objective, activity=None, target_value=10)
    update = ProgressUpdate.objects.get(period=plan.periods["Q3"], office=plan.offices["A"])
    Measurement.objects.create(update=update, indicator=objective_indicator, value=12)
    summary = figures.summary_by_area(Indicator.objects.all(), plan.periods["Q3"])
    # Q3 figures: SUM-CUM 75 %, MEAN-PER 35 %, MAX-LATEST 40 %, LAST-PER 30 %, DECREASE 108.33 % (reached),
    # and the objective's own indicator 120 % (reached).
    assert (summary["FIG"]["all"], summary["FIG"]["with_actual"], summary["FIG"]["on_track"]) == (6, 6, 2)
    assert summary["FIG"]["average_percent"] == pytest.approx((75 + 35 + 40 + 30 + 108.3333 + 120) / 6, abs=1e-3)


def test_summary_by_area_counts_indicators_without_a_figure_in_all_only(plan):
    summary = figures.summary_by_area(Indicator.objects.all(), plan.periods["Q4"])
    # Q4: the per-period indicators (MEAN-PER, LAST-PER, DECREASE) have no value of their own.
    assert (summary["FIG"]["all"], summary["FIG"]["with_actual"]) == (5, 2)


@pytest.mark.parametrize("extra_offices", [0, 6])
def test_figures_take_one_query_however_many_values(plan, extra_offices, django_assert_num_queries):
    for number in range(extra_offices):
        office = factories.OfficeFactory()
        update = approved(plan.activity, plan.periods["Q2"], office, number)
        Measurement.objects.create(update=update, indicator=plan.indicators["SUM-CUM"], value=1)
    indicators = Indicator.objects.filter(activity=plan.activity)
    with django_assert_num_queries(1):
        figures.figures(indicators, list(plan.periods.values()))


def test_breakdowns_belong_to_the_updates_whose_totals_stand(plan):
    # Office B's Q3 total (40) carries forward in Q4; its breakdown goes with it, not an older one.
    indicator = plan.indicators["SUM-CUM"]
    older = ProgressUpdate.objects.get(period=plan.periods["Q2"], office=plan.offices["B"])
    Measurement.objects.create(update=older, indicator=indicator, value=25, sex="male")
    newer = ProgressUpdate.objects.get(period=plan.periods["Q3"], office=plan.offices["B"])
    Measurement.objects.create(update=newer, indicator=indicator, value=40, sex="female")
    found = figures.figures(Indicator.objects.filter(pk=indicator.pk), [plan.periods["Q4"]], dimension="sex")
    assert {key[2]: figure.value for key, figure in found.items()} == {"female": 40}


def test_every_dimension_at_once_gives_what_each_dimension_gives_alone(plan):
    # The report's breakdowns take every dimension in one query; each must come out as when asked alone.
    egypt = factories.CountryFactory(iso3="EGY", iso2="EG", name="Egypt")
    for indicator_code, office, period, value, category in (
        ("SUM-CUM", "A", "Q3", 12, {"sex": "female"}),
        ("SUM-CUM", "B", "Q3", 15, {"sex": "female"}),
        ("SUM-CUM", "B", "Q3", 25, {"sex": "male"}),
        ("SUM-CUM", "B", "Q2", 9, {"age_band": "18-24"}),
        ("SUM-CUM", "A", "Q3", 30, {"country": egypt}),
        ("MAX-LATEST", "B", "Q3", 7, {"age_band": "18-24"}),
        ("MAX-LATEST", "A", "Q3", 11, {"age_band": "18-24"}),
    ):
        update = ProgressUpdate.objects.get(period=plan.periods[period], office=plan.offices[office])
        Measurement.objects.create(update=update, indicator=plan.indicators[indicator_code], value=value, **category)
    indicators = Indicator.objects.filter(activity=plan.activity)
    periods = [plan.periods["Q3"], plan.periods["Q4"]]

    every = figures.figures(indicators, periods, dimension=figures.EVERY_DIMENSION)

    alone = {
        (indicator, period, f"{key}:{category}"): dataclasses.replace(figure, category=f"{key}:{category}")
        for key in ("sex", "age", "country")
        for (indicator, period, category), figure in figures.figures(indicators, periods, dimension=key).items()
    }
    assert every == alone
    q3 = plan.periods["Q3"].pk
    assert every[(plan.indicators["SUM-CUM"].pk, q3, "sex:female")].value == 27
    assert every[(plan.indicators["SUM-CUM"].pk, q3, "country:EGY")].value == 30
    assert every[(plan.indicators["MAX-LATEST"].pk, q3, "age:18-24")].value == 11


def test_breakdowns_by_several_dimensions_take_one_query(plan, django_assert_num_queries):
    # The activity page's breakdowns: every dimension in one query, each split as its own query would.
    by_both, by_sex = plan.indicators["SUM-CUM"], plan.indicators["MAX-LATEST"]
    Indicator.objects.filter(pk=by_both.pk).update(dimensions=["sex", "age"])
    Indicator.objects.filter(pk=by_sex.pk).update(dimensions=["sex"])
    for indicator_code, office, value, category in (
        ("SUM-CUM", "A", 12, {"sex": "female"}),
        ("SUM-CUM", "B", 15, {"sex": "female"}),
        ("SUM-CUM", "B", 9, {"age_band": "18-24"}),
        ("MAX-LATEST", "A", 11, {"sex": "male"}),
        ("MAX-LATEST", "B", 7, {"age_band": "18-24"}),  # not a dimension of its own: not shown
    ):
        update = ProgressUpdate.objects.get(period=plan.periods["Q3"], office=plan.offices[office])
        Measurement.objects.create(update=update, indicator=plan.indicators[indicator_code], value=value, **category)
    indicators = list(Indicator.objects.filter(pk__in=[by_both.pk, by_sex.pk]).order_by("code"))

    with django_assert_num_queries(1):
        found = figures.breakdowns(indicators, list(plan.periods.values()), plan.periods["Q4"])

    assert {code: {key: part["by_period"] for key, part in parts.items()} for code, parts in found.items()} == {
        by_both.code: {"sex": {"Female": [None, None, 27, 27]}, "age": {"18-24": [None, None, 9, 9]}},
        by_sex.code: {"sex": {"Male": [None, None, 11, 11]}},
    }
    assert found[by_both.code]["sex"]["current"] == [("Female", 27)]


def test_summary_without_a_period_counts_the_indicators_and_no_figure(plan):
    summary = figures.summary_by_area(Indicator.objects.all(), None)
    assert summary["FIG"] == {"all": 5, "with_actual": 0, "on_track": 0, "average_percent": None}


def test_country_breakdowns_are_labelled_in_the_language(plan):
    from django.utils import translation

    indicator = plan.indicators["SUM-CUM"]
    indicator.dimensions = ["country"]
    indicator.save()
    egypt = factories.CountryFactory(iso3="EGY", iso2="EG", name="Egypt")
    update = ProgressUpdate.objects.get(period=plan.periods["Q3"], office=plan.offices["B"])
    Measurement.objects.create(update=update, indicator=indicator, value=40, country=egypt)

    with translation.override("fr"):
        found = figures.breakdowns([indicator], list(plan.periods.values()), plan.periods["Q3"])

    assert found[indicator.code]["country"]["current"] == [("Égypte", 40)]


def test_a_periods_target_is_its_own_else_the_end_target(world):
    from actionplan.models import PeriodTarget

    PeriodTarget.objects.create(indicator=world.indicator, period=world.locked_period, value=Decimal(25))
    indicators = Indicator.objects.filter(pk=world.indicator.pk)

    found = figures.targets(indicators, [world.locked_period, world.period])

    assert found == {
        (world.indicator.pk, world.locked_period.pk): (Decimal(25), "period"),
        (world.indicator.pk, world.period.pk): (Decimal(100), "end"),
    }
