"""A list read as values answers exactly what its serializer answers for the same rows."""

import datetime
import json
from decimal import Decimal

import pytest
from rest_framework.renderers import JSONRenderer

from actionplan.api import serializers
from actionplan.models import Activity, Measurement, ProgressUpdate, Tag
from portal.api import rows
from tests import factories

pytestmark = pytest.mark.django_db


def rendered(data) -> list:
    return json.loads(JSONRenderer().render(data))


@pytest.fixture
def updates(world):
    """Updates of every shape: with a breakdown, files, a review and a warning, and a bare draft."""
    country = factories.CountryFactory()
    reviewed = factories.ProgressUpdateFactory(
        activity=world.activity, period=world.period, office=world.office, state=ProgressUpdate.State.APPROVED,
        reviewed_by=world.officer, reviewed_at=datetime.datetime(2020, 7, 1, 9, 30, tzinfo=datetime.UTC),
        submitted_at=datetime.datetime(2020, 6, 30, 17, 5, 1, 123456, tzinfo=datetime.UTC),
        warnings=[{"indicator": "CYB-1.1-I1", "rule": "jump", "message": "A jump."}], review_comment="Fine.",
    )  # fmt: skip
    for indicator, value, extra in (
        (world.second_indicator, Decimal("7.5"), {}),
        (world.indicator, Decimal("12"), {}),
        (world.indicator, Decimal("5"), {"sex": Measurement.Sex.FEMALE}),
        (world.indicator, Decimal("7"), {"country": country}),
    ):
        Measurement.objects.create(update=reviewed, indicator=indicator, value=value, **extra)
    for name in ("b.pdf", "a.csv"):
        factories.EvidenceFactory(update=reviewed, original_name=name)
    draft = factories.ProgressUpdateFactory(activity=world.restricted, period=world.period, office=world.office)
    return [reviewed, draft]


def test_a_page_of_updates_read_as_values_is_what_the_serializer_answers(updates):
    pks = [update.pk for update in reversed(updates)]
    expected = [serializers.UpdateSerializer(ProgressUpdate.objects.with_details().get(pk=pk)).data for pk in pks]

    assert rendered(serializers.update_rows().read(pks)) == rendered(expected)


def test_the_shared_shape_of_one_update_answers_what_a_serializer_of_its_own_answers(updates):
    # One serializer shapes every update in turn (its fields built once): nothing of one may show in the next.
    read = [ProgressUpdate.objects.with_details().get(pk=update.pk) for update in updates]
    expected = [serializers.UpdateSerializer(update).data for update in read]

    shaped = [serializers.update_shape().to_representation(update) for update in [*read, *reversed(read)]]

    assert rendered(shaped) == rendered([*expected, *reversed(expected)])


def test_a_page_of_activities_read_as_values_is_what_the_serializer_answers(world):
    world.activity.partner_organizations.set(
        [factories.OrganizationFactory(code="B"), factories.OrganizationFactory(code="A")]
    )
    world.activity.beneficiary_countries.set(
        [factories.CountryFactory(name="Zambia"), factories.CountryFactory(name="Chad")]
    )
    world.activity.tags.set([Tag.objects.create(name="SARTO"), Tag.objects.create(name="FTF")])
    world.activity.implementing_offices.add(world.other_office)
    pks = [world.activity.pk, world.restricted.pk, world.other_activity.pk]
    expected = [serializers.ActivitySerializer(Activity.objects.get(pk=pk)).data for pk in pks]

    assert rendered(serializers.activity_rows().read(pks)) == rendered(expected)


def test_a_reader_keeps_the_order_it_is_given_and_skips_rows_that_are_gone(updates):
    first, second = updates
    read = serializers.update_rows().read([second.pk, first.pk, factories.ProgressUpdateFactory.build().pk])
    assert [row["id"] for row in read] == [str(second.pk), str(first.pk)]


def test_a_reader_refuses_a_nested_list_it_was_not_told_how_to_read():
    with pytest.raises(ValueError, match="measurements: a nested list needs a Many"):
        rows.Reader(serializers.UpdateSerializer)
