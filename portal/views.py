from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.shortcuts import render

from actionplan.models import ActionPlan, Activity, FocusArea, ReportingPeriod


@login_required
def home(request):
    """Show the plan at a glance: its focus areas and what the user can see of them."""
    visible = Activity.objects.visible_to(request.user)
    plan = ActionPlan.objects.select_related("agreement").first()
    focus_areas = FocusArea.objects.filter(plan=plan).annotate(
        activity_count=Count("objectives__activities", filter=Q(objectives__activities__in=visible)),
        objective_count=Count("objectives", distinct=True),
    )
    current_period = ReportingPeriod.objects.filter(plan=plan, state=ReportingPeriod.State.OPEN).last()
    return render(
        request,
        "portal/home.html",
        {"plan": plan, "focus_areas": focus_areas, "current_period": current_period},
    )
