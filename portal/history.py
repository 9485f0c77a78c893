"""django-simple-history's ``HistoricalRecords``, whose ``history`` manager class is built once a model.

simple_history builds the manager's class anew (``Manager.from_queryset``: every method of the queryset
looked up and copied onto a new class) each time ``history`` is read, and its ``post_save`` reads it for every
tracked row saved: a fifth of a millisecond of the processor on each save of an update, an indicator or an
activity. Here the class is built when the model is, and each read makes only the manager.
"""

from simple_history import models as simple_history_models
from simple_history.manager import HistoryDescriptor


class HistoryBuiltOnce(HistoryDescriptor):
    def __init__(self, model, manager, queryset):
        super().__init__(model, manager=manager, queryset=queryset)
        self._built = manager.from_queryset(queryset)

    def __get__(self, instance, owner):
        return self._built(self.model, instance)


class HistoricalRecords(simple_history_models.HistoricalRecords):
    def finalize(self, sender, **kwargs):
        super().finalize(sender, **kwargs)
        descriptor = sender.__dict__.get(self.manager_name)
        if type(descriptor) is HistoryDescriptor:
            built = HistoryBuiltOnce(descriptor.model, descriptor.manager_class, descriptor.queryset_class)
            setattr(sender, self.manager_name, built)
