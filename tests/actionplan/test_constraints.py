"""The database itself refuses rows that break the plan's rules."""

import datetime
from decimal import Decimal

import pytest

from actionplan.models import Measurement
from tests import factories
from tests.conftest import assert_refused

pytestmark = pytest.mark.django_db


def test_activity_codes_are_unique():
    activity = factories.ActivityFactory()
    assert_refused(lambda: factories.ActivityFactory(code=activity.code))


def test_focus_area_codes_are_unique():
    area = factories.FocusAreaFactory()
    assert_refused(lambda: factories.FocusAreaFactory(code=area.code))


def test_period_codes_are_unique():
    period = factories.ReportingPeriodFactory()
    assert_refused(lambda: factories.ReportingPeriodFactory(code=period.code))


def test_indicator_codes_are_unique():
    indicator = factories.IndicatorFactory()
    assert_refused(lambda: factories.IndicatorFactory(code=indicator.code))


def test_one_update_per_activity_period_and_office():
    update = factories.ProgressUpdateFactory()
    assert_refused(
        lambda: factories.ProgressUpdateFactory(activity=update.activity, period=update.period, office=update.office)
    )


def test_same_activity_and_period_may_be_reported_by_another_office():
    update = factories.ProgressUpdateFactory()
    factories.ProgressUpdateFactory(activity=update.activity, period=update.period)


@pytest.mark.parametrize("percent", [101, -1])
def test_percent_complete_stays_between_0_and_100(percent):
    assert_refused(lambda: factories.ProgressUpdateFactory(percent_complete=percent))


def test_client_key_is_unique_per_author():
    update = factories.ProgressUpdateFactory(client_key="retry-1")
    assert_refused(lambda: factories.ProgressUpdateFactory(author=update.author, client_key="retry-1"))


def test_updates_without_client_key_do_not_collide():
    update = factories.ProgressUpdateFactory(client_key=None)
    factories.ProgressUpdateFactory(author=update.author, client_key=None)


def test_activity_planned_end_not_before_start():
    assert_refused(
        lambda: factories.ActivityFactory(
            planned_start=datetime.date(2019, 5, 1), planned_end=datetime.date(2019, 4, 30)
        )
    )


def test_activity_actual_end_not_before_start():
    assert_refused(
        lambda: factories.ActivityFactory(actual_start=datetime.date(2019, 5, 1), actual_end=datetime.date(2019, 4, 1))
    )


def test_activity_budget_is_not_negative():
    assert_refused(lambda: factories.ActivityFactory(budget_amount=Decimal("-0.01")))


def test_plan_end_not_before_start():
    assert_refused(
        lambda: factories.ActionPlanFactory(starts_on=datetime.date(2020, 1, 1), ends_on=datetime.date(2019, 12, 31))
    )


def test_period_end_not_before_start():
    assert_refused(
        lambda: factories.ReportingPeriodFactory(
            starts_on=datetime.date(2019, 4, 1), ends_on=datetime.date(2019, 3, 31), due_on=datetime.date(2019, 4, 15)
        )
    )


def test_period_due_date_not_before_its_end():
    assert_refused(
        lambda: factories.ReportingPeriodFactory(
            starts_on=datetime.date(2019, 1, 1), ends_on=datetime.date(2019, 3, 31), due_on=datetime.date(2019, 3, 30)
        )
    )


def test_agreement_in_force_to_not_before_from():
    assert_refused(
        lambda: factories.AgreementFactory(
            in_force_from=datetime.date(2018, 1, 1), in_force_to=datetime.date(2017, 12, 31)
        )
    )


def test_indicator_measures_an_objective_or_an_activity_not_both():
    objective = factories.ObjectiveFactory()
    assert_refused(lambda: factories.IndicatorFactory(objective=objective))


def test_indicator_measures_something():
    assert_refused(lambda: factories.IndicatorFactory(activity=None))


def test_one_measurement_per_update_and_indicator():
    measurement = factories.MeasurementFactory()
    assert_refused(lambda: factories.MeasurementFactory(update=measurement.update, indicator=measurement.indicator))


def test_one_measurement_per_update_indicator_and_country():
    country = factories.CountryFactory()
    measurement = factories.MeasurementFactory(country=country)
    assert_refused(
        lambda: factories.MeasurementFactory(
            update=measurement.update, indicator=measurement.indicator, country=country
        )
    )


def test_measurements_disaggregated_by_sex_are_distinct():
    measurement = factories.MeasurementFactory(sex=Measurement.Sex.FEMALE)
    factories.MeasurementFactory(update=measurement.update, indicator=measurement.indicator, sex=Measurement.Sex.MALE)


def test_evidence_checksum_is_a_sha256_hex_digest():
    assert_refused(lambda: factories.EvidenceFactory(sha256="not-a-digest"))


def test_the_dimensions_an_indicator_may_name_are_those_described():
    from actionplan import dimensions
    from actionplan.models import DIMENSION_KEYS

    assert tuple(dimensions.DIMENSIONS) == DIMENSION_KEYS


@pytest.mark.parametrize("value", [["gender"], "sex", ["sex", "sex"], [1], [["sex"]], {"sex": 1}])
def test_unknown_or_repeated_dimensions_are_refused(value):
    from django.core.exceptions import ValidationError

    from actionplan.models import validate_dimensions

    with pytest.raises(ValidationError):
        validate_dimensions(value)
