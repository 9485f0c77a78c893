"""Change the plan itself: activities, objectives, indicators, reporting periods (programme officers)."""

from django.db import transaction
from django.utils.translation import gettext as _

from portal.errors import NotAllowed, StaleVersion
from portal.roles import is_officer

from .models import PeriodTarget


@transaction.atomic
def save_plan_item(*, by, form, expected_version: int | None):
    """Save a plan item from its validated form, unless someone changed it since ``expected_version``.

    The row is locked while its version is compared, so of two officers saving the
    same version, the second is told to reload instead of silently overwriting.
    """
    if not is_officer(by):
        raise NotAllowed(_("Only a programme officer changes the plan."))
    item = form.instance
    if item.pk is not None:
        current = type(item).objects.select_for_update().values_list("version", flat=True).get(pk=item.pk)
        if current != expected_version:
            raise StaleVersion(
                _(
                    "Someone else saved this %(item)s while you were editing it (now version %(current)d, "
                    "yours was %(expected)s). Your changes are below: reload the page to see theirs, "
                    "then apply yours again."
                )
                % {"item": item._meta.verbose_name, "current": current, "expected": expected_version},
                current_version=current,
            )
        item.version = current + 1
    saved = form.save()
    if hasattr(form, "period_targets"):
        set_period_targets(indicator=saved, targets=form.period_targets())
    return saved


def set_period_targets(*, indicator, targets: dict):
    """Make the indicator's period targets exactly ``targets`` ({period: value})."""
    indicator.period_targets.exclude(period__in=list(targets)).delete()
    for period, value in targets.items():
        PeriodTarget.objects.update_or_create(indicator=indicator, period=period, defaults={"value": value})
