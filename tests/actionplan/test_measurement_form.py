"""Measurements in the browser: numbers read as the language writes them, breakdowns, yes/no,
refusals beside the indicator's field with the input kept, and warnings to confirm."""

from decimal import Decimal

import pytest
from django.urls import reverse

from actionplan.models import Indicator, Measurement, ProgressUpdate
from tests.factories import MeasurementFactory, ProgressUpdateFactory


def post(client, world, language="en", **values):
    data = {
        "period": world.period.code,
        "office": world.office.code,
        "rag": "on_track",
        "percent_complete": "40",
        "save": "",
        **values,
    }
    return client.post(reverse("update-create", args=[world.activity.code]), data, HTTP_ACCEPT_LANGUAGE=language)


def field(world, indicator=None):
    return f"measurement_{(indicator or world.indicator).pk}"


def stored(world):
    return Measurement.objects.totals().get(indicator=world.indicator).value


@pytest.mark.parametrize(
    "language, typed, value",
    [
        ("en", "1,234.5", Decimal("1234.5")),
        ("en", "12 500", Decimal("12500")),
        ("en", "12.5", Decimal("12.5")),
        ("fr", "12,5", Decimal("12.5")),
        ("fr", "12 500", Decimal("12500")),
        ("fr", "1 234,5", Decimal("1234.5")),
        ("es", "12,5", Decimal("12.5")),
        ("es", "1.234,5", Decimal("1234.5")),
        ("ru", "12,5", Decimal("12.5")),
        ("ru", "1\u00a0234,5", Decimal("1234.5")),
        ("ar", "12.5", Decimal("12.5")),
        ("ar", "١٢٫٥", Decimal("12.5")),
        ("ar", "١٬٢٣٤٫٥", Decimal("1234.5")),
        ("ar", "۱۲۵", Decimal("125")),
        ("zh-hans", "1,234.5", Decimal("1234.5")),
    ],
)
def test_numbers_are_read_as_the_language_writes_them(as_user, world, language, typed, value):
    Indicator.objects.filter(pk=world.indicator.pk).update(target_value=100_000)
    response = post(as_user(world.reporter), world, language, **{field(world): typed})
    assert response.status_code == 302
    assert stored(world) == value


@pytest.mark.parametrize(
    "language, typed, expected_form",
    [
        ("en", "12,5", "1,234.5"),
        ("en", "1.234,5", "1,234.5"),
        ("fr", "1,234.5", "1\u202f234,5"),
        ("fr", "1.234,5", "1\u202f234,5"),
        ("es", "1,234.5", "1.234,5"),
        ("ru", "1.234,5", "1\u00a0234,5"),
        ("ar", "12,5", "1,234.5"),
        ("ar", "١٢,٥", "1,234.5"),
        ("en", "twelve", "1,234.5"),
        ("en", "1e3", "1,234.5"),
    ],
)
def test_a_number_that_could_mean_two_things_is_refused_naming_the_field_and_the_form_expected(
    as_user, world, language, typed, expected_form
):
    response = post(as_user(world.reporter), world, language, **{field(world): typed}, narrative="Kept text")
    assert response.status_code == 200
    [error] = response.context["form"].errors[field(world)]
    assert error.startswith("CYB-1.1-I1 ") and typed in error and expected_form in error
    page = response.content.decode()
    assert "Kept text" in page and f'value="{typed}"' in page
    assert not ProgressUpdate.objects.exists()


def test_more_than_two_decimals_are_refused(as_user, world):
    response = post(as_user(world.reporter), world, "fr", **{field(world): "1,2345"})
    assert "plus de 2 décimales" in response.context["form"].errors[field(world)][0]


def test_a_yes_no_indicator_takes_yes_or_no_and_refuses_numbers(as_user, world):
    Indicator.objects.filter(pk=world.indicator.pk).update(measure=Indicator.Measure.YES_NO, target_value=1)
    client = as_user(world.reporter)
    assert post(client, world, **{field(world): "5"}).context["form"].errors[field(world)] == ["Answer yes or no."]
    assert post(client, world, **{field(world): "1"}).status_code == 302
    assert stored(world) == 1


def test_a_breakdown_is_stored_beside_the_total(as_user, world):
    Indicator.objects.filter(pk=world.indicator.pk).update(dimensions=["sex"])
    pk = world.indicator.pk
    response = post(
        as_user(world.reporter),
        world,
        **{field(world): "30", f"breakdown_{pk}_sex_female": "12", f"breakdown_{pk}_sex_male": "18"},
    )
    assert response.status_code == 302
    rows = Measurement.objects.filter(indicator=world.indicator).values_list("sex", "value")
    assert sorted(rows) == [("", 30), ("female", 12), ("male", 18)]


def test_a_breakdown_that_does_not_add_up_is_refused_beside_the_indicator(as_user, world):
    Indicator.objects.filter(pk=world.indicator.pk).update(dimensions=["sex"])
    pk = world.indicator.pk
    response = post(
        as_user(world.reporter),
        world,
        **{field(world): "30", f"breakdown_{pk}_sex_female": "12", f"breakdown_{pk}_sex_male": "16"},
    )
    assert response.status_code == 200
    [error] = response.context["form"].errors[field(world)]
    assert "CYB-1.1-I1 by sex adds up to 28, 2 short of the total 30" in error
    assert 'value="16"' in response.content.decode()
    assert not ProgressUpdate.objects.exists()


def test_a_breakdown_without_its_total_is_refused(as_user, world):
    Indicator.objects.filter(pk=world.indicator.pk).update(dimensions=["sex"])
    response = post(as_user(world.reporter), world, **{f"breakdown_{world.indicator.pk}_sex_female": "12"})
    assert "give the total beside its breakdown" in response.context["form"].errors[field(world)][0]


@pytest.mark.parametrize(
    "measure, typed, message",
    [
        (Indicator.Measure.NUMBER, "-3", "counts, so it cannot be negative"),
        (Indicator.Measure.PERCENTAGE, "120", "is a percentage from 0 to 100"),
    ],
)
def test_values_beyond_the_indicators_limits_are_refused_beside_it(as_user, world, measure, typed, message):
    Indicator.objects.filter(pk=world.indicator.pk).update(measure=measure)
    response = post(as_user(world.reporter), world, **{field(world): typed})
    assert message in response.context["form"].errors[field(world)][0]
    assert not ProgressUpdate.objects.exists()


def test_objective_indicators_are_offered_beside_the_activitys_own(as_user, world):
    objective_indicator = Indicator.objects.create(objective=world.objective, code="CYB-1-I1", name="x", target_value=9)
    response = post(as_user(world.reporter), world, **{field(world, objective_indicator): "4"})
    assert response.status_code == 302
    assert Measurement.objects.get(indicator=objective_indicator).value == 4


def test_an_implausible_value_is_saved_only_once_confirmed_and_its_warning_is_kept(as_user, world):
    client = as_user(world.reporter)
    response = post(client, world, **{field(world): "160"})
    assert response.status_code == 200
    assert "more than 150 % of the target 100" in response.content.decode()
    assert not ProgressUpdate.objects.exists()

    response = post(client, world, **{field(world): "160"}, confirm_warnings="on")
    assert response.status_code == 302
    [warning] = ProgressUpdate.objects.get().warnings
    assert warning["rule"] == "above_target"


def test_a_value_far_above_the_offices_previous_one_asks_to_confirm(as_user, world):
    previous = ProgressUpdateFactory(
        activity=world.activity, period=world.locked_period, office=world.office, state="approved"
    )
    MeasurementFactory(update=previous, indicator=world.indicator, value=10)
    response = post(as_user(world.reporter), world, **{field(world): "40"})
    assert "more than 3 times the 10 this office reported before" in response.content.decode()


def test_a_running_total_lower_than_the_last_approved_asks_to_confirm(as_user, world):
    previous = ProgressUpdateFactory(
        activity=world.activity, period=world.locked_period, office=world.office, state="approved", percent_complete=60
    )
    MeasurementFactory(update=previous, indicator=world.indicator, value=50)
    page = post(as_user(world.reporter), world, **{field(world): "45"}).content.decode()
    assert "running total: 45 is lower than the 50 last approved" in page
    assert "Percent complete is 40 %, lower than the 60 % last approved" in page


def test_the_officer_sees_the_confirmed_warnings_on_the_review_page_and_in_the_queue(as_user, world, client):
    post(as_user(world.reporter), world, **{field(world): "160"}, confirm_warnings="on", submit="")
    update = ProgressUpdate.objects.get()
    client.force_login(world.officer)
    assert (
        "more than 150 % of the target 100" in client.get(reverse("update-detail", args=[update.pk])).content.decode()
    )
    assert "data-flagged" in client.get(reverse("review-queue")).content.decode()


def test_editing_shows_the_stored_breakdown_and_keeps_it(as_user, world):
    Indicator.objects.filter(pk=world.indicator.pk).update(dimensions=["sex"])
    pk = world.indicator.pk
    client = as_user(world.reporter)
    post(client, world, **{field(world): "30", f"breakdown_{pk}_sex_female": "12", f"breakdown_{pk}_sex_male": "18"})
    update = ProgressUpdate.objects.get()
    form = client.get(reverse("update-edit", args=[update.pk])).context["form"]
    # Shown back the language's way, ready to be sent again as it stands.
    assert form[f"breakdown_{pk}_sex_female"].value() == "12"
    data = {name: form[name].value() for name in form.fields if form[name].value() not in (None, "")}
    assert client.post(reverse("update-edit", args=[update.pk]), {**data, "save": ""}).status_code == 302
    assert sorted(Measurement.objects.values_list("sex", "value")) == [("", 30), ("female", 12), ("male", 18)]
