"""Programme officers keep the plan: create and edit activities, objectives, indicators, periods."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from actionplan import versions
from actionplan.models import Activity, Indicator, Objective, ReportingPeriod
from actionplan.plan_editing import save_plan_item
from actionplan.plan_forms import ActivityForm, IndicatorForm, ObjectiveForm, PeriodForm
from audit import services as audit
from portal.errors import DomainError
from portal.roles import is_officer

EDITABLE = {
    "activity": (Activity, ActivityForm, lambda item: reverse("activity-detail", args=[item.code])),
    "objective": (Objective, ObjectiveForm, lambda item: reverse("objective", args=[item.code])),
    "indicator": (Indicator, IndicatorForm, lambda item: reverse("indicator", args=[item.code])),
    "period": (ReportingPeriod, PeriodForm, lambda item: reverse("plan")),
}


@login_required
def edit_plan_item(request, kind, code=None):
    """Create (no code) or edit a plan item; a concurrent edit is refused and the officer's input kept."""
    if not is_officer(request.user):
        raise PermissionDenied
    if kind not in EDITABLE:
        raise Http404
    model, form_class, after = EDITABLE[kind]
    item = get_object_or_404(model, code=code) if code else None
    if request.method == "GET" and item is not None:
        _record_restricted(request, item)
    # Read before the form changes the instance it is given.
    governed_by = versions.governing_version(item) if item is not None and kind in versions.GOVERNED else None
    form = form_class(request.POST or None, instance=item)
    if request.method == "POST" and form.is_valid():
        try:
            saved = save_plan_item(by=request.user, form=form, expected_version=form.cleaned_data["expected_version"])
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                _("%(item)s %(code)s saved.") % {"item": model._meta.verbose_name.capitalize(), "code": saved.code},
            )
            return redirect(after(saved))
    return render(
        request,
        "actionplan/plan_item_form.html",
        {
            "form": form,
            "item": item,
            "kind": model._meta.verbose_name,
            "back_url": after(item) if item else reverse("plan"),
            "governed_by": governed_by,
            "propose_url": reverse("change-propose", args=[kind, item.code]) if governed_by else None,
            "governed_fields": ", ".join(versions.field_label(kind, name) for name in versions.GOVERNED[kind])
            if governed_by
            else "",
        },
    )


def _record_restricted(request, item) -> None:
    """Log the edit page of a restricted activity, or of an indicator of one, as a view of it."""
    if isinstance(item, Activity):
        audit.record_restricted_view(request, item)
    elif isinstance(item, Indicator):
        audit.record_restricted_view(request, item.activity, item)
