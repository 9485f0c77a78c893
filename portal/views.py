from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from actionplan.models import ActionPlan, Activity, FocusArea, ReportingPeriod

from .forms import TokenForm
from .models import ApiToken
from .tokens import issue_token, revoke_token


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


@login_required
def tokens(request):
    """List the user's API tokens and create one; a new key is shown on this answer only."""
    new_key = None
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        _token, new_key = issue_token(
            user=request.user, name=form.cleaned_data["name"], expires_in_days=form.cleaned_data["expires_in_days"]
        )
        form = TokenForm()
    return render(
        request,
        "portal/tokens.html",
        {"form": form, "new_key": new_key, "tokens": ApiToken.objects.filter(user=request.user)},
    )


@login_required
@require_POST
def revoke(request, digest):
    if revoke_token(user=request.user, digest=digest):
        messages.success(request, _("The token was revoked: it no longer opens the API."))
    return redirect("tokens")
