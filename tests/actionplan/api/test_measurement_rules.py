"""Measurements through the API: breakdowns, yes/no answers, limits; each refusal names the indicator."""

import pytest

from actionplan.models import Indicator, Measurement, ProgressUpdate
from tests.factories import CountryFactory

URL = "/api/v1/updates/"


@pytest.fixture
def reporter_api(world, api):
    return api(world.reporter)


def post(client, world, *measurements):
    body = {
        "activity": world.activity.code,
        "period": world.period.code,
        "rag": "on_track",
        "percent_complete": 40,
        "measurements": list(measurements),
    }
    return client.post(URL, body, format="json")


def refused(response, indicator, rule=None):
    assert response.status_code == 400, response.content
    body = response.json()
    assert indicator in str(body), body
    if rule:
        assert body["rule"] == rule, body
    assert not ProgressUpdate.objects.exists() and not Measurement.objects.exists()
    return body


def broken_down(world, *keys, **extra):
    Indicator.objects.filter(pk=world.indicator.pk).update(dimensions=list(keys), **extra)


def test_a_breakdown_by_sex_is_stored_beside_the_total(reporter_api, world):
    broken_down(world, "sex")
    response = post(
        reporter_api, world, {"indicator": "CYB-1.1-I1", "value": 30, "breakdown": {"sex": {"female": 12, "male": 18}}}
    )
    assert response.status_code == 201, response.content
    rows = {(row["sex"], row["value"]) for row in response.json()["measurements"]}
    assert rows == {("", "30.00"), ("female", "12.00"), ("male", "18.00")}


def test_a_breakdown_by_country_may_leave_people_out(reporter_api, world):
    broken_down(world, "country")
    kenya = CountryFactory(iso3="XKE")
    world.activity.beneficiary_countries.add(kenya)
    response = post(
        reporter_api, world, {"indicator": "CYB-1.1-I1", "value": 30, "breakdown": {"country": {kenya.iso3: 20}}}
    )
    assert response.status_code == 201, response.content
    assert {"country": "XKE", "value": "20.00"}.items() <= response.json()["measurements"][1].items()


def test_a_breakdown_that_does_not_add_up_is_refused_saying_by_how_much(reporter_api, world):
    broken_down(world, "sex")
    response = post(
        reporter_api, world, {"indicator": "CYB-1.1-I1", "value": 30, "breakdown": {"sex": {"female": 12, "male": 16}}}
    )
    body = refused(response, "CYB-1.1-I1", "breakdown_adds_up")
    assert "adds up to 28, 2 short of the total 30" in body["detail"]


def test_a_breakdown_over_the_total_is_refused(reporter_api, world):
    broken_down(world, "country")
    kenya = CountryFactory(iso3="XKE")
    world.activity.beneficiary_countries.add(kenya)
    response = post(
        reporter_api, world, {"indicator": "CYB-1.1-I1", "value": 10, "breakdown": {"country": {kenya.iso3: 20}}}
    )
    assert "10 over the total 10" in refused(response, "CYB-1.1-I1", "breakdown_adds_up")["detail"]


def test_a_breakdown_by_a_dimension_the_indicator_does_not_have_is_refused(reporter_api, world):
    response = post(reporter_api, world, {"indicator": "CYB-1.1-I1", "value": 30, "breakdown": {"age": {"18-24": 30}}})
    assert "is not broken down by age band" in refused(response, "CYB-1.1-I1", "unknown_dimension")["detail"]


def test_a_breakdown_category_that_does_not_exist_is_refused(reporter_api, world):
    broken_down(world, "age")
    response = post(reporter_api, world, {"indicator": "CYB-1.1-I1", "value": 30, "breakdown": {"age": {"99-120": 30}}})
    refused(response, "CYB-1.1-I1", "unknown_category")


def test_a_breakdown_by_a_country_the_activity_does_not_reach_is_refused(reporter_api, world):
    broken_down(world, "country")
    CountryFactory(iso3="XKE")
    response = post(reporter_api, world, {"indicator": "CYB-1.1-I1", "value": 30, "breakdown": {"country": {"XKE": 5}}})
    refused(response, "CYB-1.1-I1", "unknown_category")


def test_a_negative_count_is_refused(reporter_api, world):
    refused(post(reporter_api, world, {"indicator": "CYB-1.1-I1", "value": -3}), "CYB-1.1-I1", "not_negative")


def test_a_percentage_over_100_is_refused_unless_the_indicator_allows_it(reporter_api, world):
    broken_down(world, measure=Indicator.Measure.PERCENTAGE)
    refused(post(reporter_api, world, {"indicator": "CYB-1.1-I1", "value": 120}), "CYB-1.1-I1", "percentage_limit")
    Indicator.objects.filter(pk=world.indicator.pk).update(allows_over_100=True)
    assert post(reporter_api, world, {"indicator": "CYB-1.1-I1", "value": 120}).status_code == 201


def test_text_in_a_number_field_is_refused(reporter_api, world):
    response = post(reporter_api, world, {"indicator": "CYB-1.1-I1", "value": "12,5"})
    assert response.status_code == 400
    [message] = response.json()["measurements"]["0"]["value"]
    assert message == "Indicator CYB-1.1-I1: A valid number is required."
    assert not ProgressUpdate.objects.exists()


def test_a_measurement_of_another_activity_is_refused_naming_the_indicator(reporter_api, world):
    other = Indicator.objects.create(activity=world.restricted, code="CYB-1.2-I1", name="x", target_value=1)
    refused(post(reporter_api, world, {"indicator": other.code, "value": 1}), "CYB-1.2-I1", "other_activity")


@pytest.mark.parametrize("answer, stored", [(True, "1.00"), (False, "0.00"), ("yes", "1.00"), ("no", "0.00")])
def test_a_yes_no_indicator_takes_yes_or_no(reporter_api, world, answer, stored):
    broken_down(world, measure=Indicator.Measure.YES_NO, target_value=1)
    response = post(reporter_api, world, {"indicator": "CYB-1.1-I1", "value": answer})
    assert response.status_code == 201, response.content
    assert response.json()["measurements"][0]["value"] == stored


@pytest.mark.parametrize("number", [1, 0, 5])
def test_a_yes_no_indicator_refuses_numbers(reporter_api, world, number):
    broken_down(world, measure=Indicator.Measure.YES_NO, target_value=1)
    response = post(reporter_api, world, {"indicator": "CYB-1.1-I1", "value": number})
    assert response.status_code == 400
    assert "CYB-1.1-I1 takes yes or no" in str(response.json())
    assert not ProgressUpdate.objects.exists()


def test_a_number_indicator_refuses_yes_or_no(reporter_api, world):
    response = post(reporter_api, world, {"indicator": "CYB-1.1-I1", "value": True})
    assert "CYB-1.1-I1 takes a number" in str(response.json())


def test_implausible_values_are_stored_with_their_warnings(reporter_api, world):
    # 160 of a target of 100 is above the 150 % the indicator finds plausible.
    response = post(reporter_api, world, {"indicator": "CYB-1.1-I1", "value": 160})
    assert response.status_code == 201
    [warning] = response.json()["warnings"]
    assert (warning["indicator"], warning["rule"]) == ("CYB-1.1-I1", "above_target")
    assert ProgressUpdate.objects.get().warnings == [warning]


def test_an_update_without_figures_is_compared_with_the_approved_percent_alone(world, django_assert_num_queries):
    from actionplan.measurements import Approved
    from tests import factories

    factories.ProgressUpdateFactory(
        activity=world.activity,
        period=world.locked_period,
        office=world.office,
        state=ProgressUpdate.State.APPROVED,
        percent_complete=60,
    )
    # The approved percents only: with no figure to compare, neither the approved values nor the period targets
    # are read (nor their queries built).
    with django_assert_num_queries(1):
        approved = Approved.read([(world.activity, world.period, world.office, [])])
    assert approved.last_percent(world.activity, world.office, world.period) == 60
    assert approved.values == {} and approved.targets == {}
