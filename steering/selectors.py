"""Reads the steering pages and the reports API share."""

from django.shortcuts import get_object_or_404

from actionplan.models import ActionPlan


def current_plan_or_404(*, related: tuple[str, ...] = ()) -> ActionPlan:
    """Return the action plan the portal works on (the latest to start), or answer 404 when there is none."""
    plans = ActionPlan.objects.all()
    if related:
        plans = plans.select_related(*related)
    return get_object_or_404(plans.current())
