"""Which deletions of the plan's rows the change feed reports, and to whom (``portal.tombstones``).

Activities, indicators, updates and evidence files, focus areas and periods each leave a tombstone
named as the API names them. A measurement or a period target is no row of its own in the API: it
is part of its update's or indicator's answer, which an edit rewrites whole (``measurements.replace``
deletes and writes them all again). So its deletion leaves no tombstone: it changes its parent's
``updated_at``, and the parent comes back in ``updated_since`` with its rows as they now are.
"""

from django.db.models.signals import post_delete
from django.utils import timezone

from portal.models import Tombstone
from portal.tombstones import Key, watch

from .models import Activity, Evidence, FocusArea, Indicator, Measurement, PeriodTarget, ProgressUpdate, ReportingPeriod

Kind = Tombstone.Kind


def _implementing_offices(activity_id, memo: dict) -> list[int]:
    # Read once a deletion for each activity: an activity's removal cascades to its updates and indicators.
    key = ("implementing offices", activity_id)
    if key not in memo:
        memo[key] = list(
            Activity.implementing_offices.through.objects.filter(activity_id=activity_id).values_list(
                "office_id", flat=True
            )
        )
    return memo[key]


def _activity(activity, memo):
    return Key(Kind.ACTIVITY, activity.code, activity_office_ids=_implementing_offices(activity.pk, memo))


def _indicator(indicator, memo):
    # An objective's indicator is read by anyone signed in; an activity's, as its activity.
    if indicator.activity_id is None:
        return Key(Kind.INDICATOR, indicator.code, everyone=True)
    return Key(Kind.INDICATOR, indicator.code, activity_office_ids=_implementing_offices(indicator.activity_id, memo))


def _update(update, memo):
    return Key(
        Kind.UPDATE,
        str(update.pk),
        office_id=update.office_id,
        activity_office_ids=_implementing_offices(update.activity_id, memo),
    )


def _evidence(evidence, memo):
    # An update's removal cascades to its files: its office and activity read once for all of them.
    key = ("update", evidence.update_id)
    if key not in memo:
        memo[key] = ProgressUpdate.objects.values("office_id", "activity_id").get(pk=evidence.update_id)
    update = memo[key]
    return Key(
        Kind.EVIDENCE,
        str(evidence.pk),
        office_id=update["office_id"],
        activity_office_ids=_implementing_offices(update["activity_id"], memo),
    )


def _touch_parent(model, parent_field):
    """On the deletion of a row that is part of its parent's answer, mark the parent changed: once for
    all the rows one ``delete()`` removes of the same parent."""

    def touch(sender, instance, origin=None, **kwargs):
        parent_id = getattr(instance, parent_field)
        touched = origin.__dict__.setdefault("_tombstone_touched", set()) if origin is not None else set()
        if parent_id in touched:
            return
        touched.add(parent_id)
        model.objects.filter(pk=parent_id).update(updated_at=timezone.now())

    return touch


def watch_deletions():
    """Connect the receivers that record the deletions of the plan's rows."""
    watch(Activity, _activity)
    watch(Indicator, _indicator)
    watch(ProgressUpdate, _update)
    watch(Evidence, _evidence)
    watch(FocusArea, lambda area, memo: Key(Kind.FOCUS_AREA, area.code, everyone=True))
    watch(ReportingPeriod, lambda period, memo: Key(Kind.PERIOD, period.code, everyone=True))
    for child, parent, parent_field in [
        (Measurement, ProgressUpdate, "update_id"),
        (PeriodTarget, Indicator, "indicator_id"),
    ]:
        post_delete.connect(
            _touch_parent(parent, parent_field),
            sender=child,
            weak=False,
            dispatch_uid=f"tombstone-touch-{child._meta.label_lower}",
        )
