"""What may leave the portal as open data: one rule (``Activity.objects.publishable``), never a restricted activity."""

import pytest

from actionplan.models import Activity, Evidence
from tests.factories import ActivityFactory, EvidenceFactory, ProgressUpdateFactory


def test_restricted_activities_are_not_publishable(world):
    codes = Activity.objects.filter(objective=world.objective).publishable().values_list("code", flat=True)

    assert sorted(codes) == ["CYB-1.1", "CYB-1.3"]


@pytest.mark.parametrize("sensitivity", Activity.Sensitivity.values)
def test_an_activity_at_hand_is_publishable_exactly_when_the_queryset_keeps_it(db, sensitivity):
    activity = ActivityFactory(sensitivity=sensitivity)

    assert activity.is_publishable is Activity.objects.publishable().filter(pk=activity.pk).exists()


def test_a_public_file_of_a_restricted_activity_is_not_published(world):
    update = ProgressUpdateFactory(activity=world.restricted, period=world.locked_period, state="approved")
    EvidenceFactory(update=update, public=True)

    assert not Evidence.objects.published().exists()
