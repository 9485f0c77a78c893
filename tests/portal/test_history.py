"""The change history of tracked rows (django-simple-history), with its manager class built once a model."""

from django.apps import apps

from actionplan.models import ProgressUpdate
from tests.factories import ProgressUpdateFactory


def test_each_update_reads_its_own_history_through_a_manager_class_built_once(world):
    first = ProgressUpdateFactory(
        activity=world.activity, period=world.period, office=world.office, percent_complete=10
    )
    second = ProgressUpdateFactory(activity=world.other_activity, period=world.period, office=world.other_office)
    first.percent_complete = 50
    first.save()

    assert list(first.history.order_by("history_date").values_list("percent_complete", flat=True)) == [10, 50]
    assert list(second.history.values_list("id", flat=True)) == [second.pk]
    assert ProgressUpdate.history.count() == 3
    assert type(first.history) is type(second.history) is type(ProgressUpdate.history)


def test_every_tracked_model_builds_its_history_manager_class_once():
    tracked = [model for model in apps.get_models() if hasattr(model._meta, "simple_history_manager_attribute")]
    assert ProgressUpdate in tracked
    for model in tracked:
        history = model._meta.simple_history_manager_attribute
        assert type(getattr(model, history)) is type(getattr(model, history)), model
