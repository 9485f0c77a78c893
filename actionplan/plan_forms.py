"""Forms for programme officers to keep the plan."""

from django import forms
from django.utils.translation import gettext_lazy as _

from portal.models import Country, Office, Organization

from .models import Activity, Indicator, Objective, ReportingPeriod, Tag

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class VersionedForm(forms.ModelForm):
    """Carry the version the officer started from, to detect a concurrent edit."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["expected_version"] = self.instance.version


class ActivityForm(VersionedForm):
    implementing_offices = forms.ModelMultipleChoiceField(
        Office.objects.order_by("code"), label=_("Implementing offices"), widget=forms.SelectMultiple(attrs={"size": 6})
    )
    beneficiary_countries = forms.ModelMultipleChoiceField(
        Country.objects.order_by("name"),
        required=False,
        label=_("Beneficiary countries"),
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    partner_organizations = forms.ModelMultipleChoiceField(
        Organization.objects.order_by("code"), required=False, label=_("Partner organisations")
    )
    tags = forms.ModelMultipleChoiceField(Tag.objects.order_by("name"), required=False, label=_("Tags"))

    class Meta:
        model = Activity
        fields = [
            "objective", "code", "title", "description", "kind", "status", "sensitivity", "lead_organization",
            "partner_organizations", "implementing_offices", "beneficiary_countries", "tags", "responsible_officer",
            "planned_start", "planned_end", "actual_start", "actual_end", "budget_amount", "budget_currency",
            "funding_source",
        ]  # fmt: skip
        widgets = {name: DATE for name in ("planned_start", "planned_end", "actual_start", "actual_end")}

    def clean(self):
        data = super().clean()
        for start, end in (("planned_start", "planned_end"), ("actual_start", "actual_end")):
            if data.get(start) and data.get(end) and data[end] < data[start]:
                self.add_error(end, _("The end cannot be before the start."))
        return data


class ObjectiveForm(VersionedForm):
    class Meta:
        model = Objective
        fields = ["focus_area", "code", "statement"]


class IndicatorForm(VersionedForm):
    class Meta:
        model = Indicator
        fields = [
            "objective", "activity", "code", "name", "unit", "direction", "baseline_value", "baseline_date",
            "target_value", "target_date", "means_of_verification",
        ]  # fmt: skip
        widgets = {"baseline_date": DATE, "target_date": DATE}

    def clean(self):
        data = super().clean()
        if bool(data.get("objective")) == bool(data.get("activity")):
            raise forms.ValidationError(_("An indicator measures either an objective or an activity: choose one."))
        return data


class PeriodForm(VersionedForm):
    class Meta:
        model = ReportingPeriod
        fields = ["plan", "code", "starts_on", "ends_on", "due_on", "state"]
        widgets = {"starts_on": DATE, "ends_on": DATE, "due_on": DATE}

    def clean(self):
        data = super().clean()
        if data.get("starts_on") and data.get("ends_on") and data["ends_on"] < data["starts_on"]:
            self.add_error("ends_on", _("The end cannot be before the start."))
        if data.get("ends_on") and data.get("due_on") and data["due_on"] < data["ends_on"]:
            self.add_error("due_on", _("Updates cannot be due before the period ends."))
        return data
