"""Forms to propose a change to what an endorsed version governs, one per kind, and to decide one."""

from django import forms
from django.utils.translation import gettext_lazy as _

from portal.models import Country, Organization

from . import versions
from .models import Activity, FocusArea, Indicator, Objective
from .plan_forms import DATE, PeriodTargetFields


class ChangeForm(forms.ModelForm):
    """The governed fields of one object, as proposed, and the reason; nothing is saved by the form itself."""

    reason = forms.CharField(
        label=_("Reason for the change"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Shown to those who approve it and kept with the version it makes."),
        required=False,  # refused by the domain function with its own message when empty
    )

    kind: str

    def proposed_values(self) -> dict:
        """The proposed values of the governed fields, as the domain function takes them."""
        return {name: self.cleaned_data[name] for name in versions.GOVERNED[self.kind] if name in self.cleaned_data}


class FocusAreaChangeForm(ChangeForm):
    kind = "focus_area"

    class Meta:
        model = FocusArea
        fields = ["name", "description"]


class ObjectiveChangeForm(ChangeForm):
    kind = "objective"

    class Meta:
        model = Objective
        fields = ["statement", "focus_area"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["focus_area"].queryset = FocusArea.objects.filter(plan_id=versions.plan_id_of(self.instance))


class ActivityChangeForm(ChangeForm):
    kind = "activity"
    partner_organizations = forms.ModelMultipleChoiceField(
        Organization.objects.order_by("code"), required=False, label=_("Partner organisations")
    )
    beneficiary_countries = forms.ModelMultipleChoiceField(
        Country.objects.order_by("name"),
        required=False,
        label=_("Beneficiary countries"),
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )

    class Meta:
        model = Activity
        fields = [
            "title", "description", "objective", "lead_organization", "partner_organizations",
            "beneficiary_countries", "planned_start", "planned_end",
        ]  # fmt: skip
        widgets = {"planned_start": DATE, "planned_end": DATE}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        plan = versions.plan_id_of(self.instance)
        self.fields["objective"].queryset = Objective.objects.filter(focus_area__plan_id=plan).order_by("code")

    def clean(self):
        data = super().clean()
        if data.get("planned_start") and data.get("planned_end") and data["planned_end"] < data["planned_start"]:
            self.add_error("planned_end", _("The end cannot be before the start."))
        return data


class IndicatorChangeForm(PeriodTargetFields, ChangeForm):
    """An indicator's definition, baseline and targets, the end one and one per period of its plan."""

    kind = "indicator"

    class Meta:
        model = Indicator
        fields = [
            "name", "unit", "direction", "baseline_value", "baseline_date", "target_value", "target_date",
        ]  # fmt: skip
        widgets = {"baseline_date": DATE, "target_date": DATE}
        labels = {"target_value": _("End target")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_period_targets(versions.plan_id_of(self.instance))
        self.fields["reason"] = self.fields.pop("reason")

    def clean(self):
        data = super().clean()
        self.check_value_limits(data, self.instance)
        if data.get("baseline_date") and data.get("target_date") and data["target_date"] < data["baseline_date"]:
            self.add_error("target_date", _("The target date cannot be before the baseline date."))
        return data

    def proposed_values(self) -> dict:
        return {**super().proposed_values(), versions.PERIOD_TARGETS: self.period_targets()}


FORMS = {
    "focus_area": FocusAreaChangeForm,
    "objective": ObjectiveChangeForm,
    "activity": ActivityChangeForm,
    "indicator": IndicatorChangeForm,
}


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("Why it is rejected"), widget=forms.Textarea(attrs={"rows": 2}), required=False)


class CompareForm(forms.Form):
    """Two versions of the plan to compare, by number."""

    older = forms.ChoiceField(label=_("From version"))
    newer = forms.ChoiceField(label=_("To version"))

    def __init__(self, *args, numbers: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(number, number) for number in numbers]
        self.fields["older"].choices = choices
        self.fields["newer"].choices = choices
