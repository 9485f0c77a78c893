"""The form that asks for a progress report."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from actionplan.models import FocusArea, PlanVersion, ReportingPeriod

from .reports import languages


class ReportRequestForm(forms.Form):
    # Every period and area is a valid choice here: that they belong to the plan is the
    # service's rule, which answers with a message naming the field.
    period = forms.ModelChoiceField(label=_("Period"), queryset=ReportingPeriod.objects.order_by("-starts_on"))
    focus_area = forms.ModelChoiceField(
        label=_("Scope"),
        queryset=FocusArea.objects.order_by("order", "code"),
        required=False,
        empty_label=_("Whole plan"),
    )
    # Left out, the plan as it stands; a version, the plan "as endorsed at" it (that version's targets).
    version = forms.ModelChoiceField(
        label=_("Targets"),
        queryset=PlanVersion.objects.none(),
        required=False,
        empty_label=_("Current plan"),
    )
    # Left out, the page's language. Other languages can be had later from the report's page.
    language = forms.ChoiceField(label=_("Language"), required=False)

    def __init__(self, *args, plan, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = settings.LANGUAGES
        self.fields["period"].label_from_instance = lambda period: f"{period.code} ({period.get_state_display()})"
        self.fields["focus_area"].label_from_instance = str
        # The plan's versions only (newest first): a version of another plan is no choice at all.
        self.fields["version"].queryset = (
            PlanVersion.objects.filter(plan=plan).defer("snapshot").order_by("-major", "-minor")
        )
        self.fields["version"].label_from_instance = lambda version: (
            _("As endorsed at version %(number)s") % {"number": version.number}
        )
        latest_ended = ReportingPeriod.objects.filter(plan=plan).order_by("-ends_on").first()
        if latest_ended is not None and not self.is_bound:
            self.initial.setdefault("period", latest_ended.pk)
        if not self.is_bound:
            self.initial.setdefault("language", languages.active())
