"""Forms for programme officers to keep the plan."""

from django import forms
from django.utils.translation import gettext_lazy as _

from portal.models import Country, Office, Organization

from .dimensions import choices as dimension_choices
from .forms import LocalizedDecimalField
from .models import ActionPlan, Activity, Indicator, Objective, ReportingPeriod, Tag

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class VersionedForm(forms.ModelForm):
    """Carry the version the officer started from, to detect a concurrent edit."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["expected_version"] = self.instance.version


class PeriodTargetFields:
    """An indicator form's target for each reporting period of the indicator's plan (a field each, filled with
    the stored targets), and the limits of the indicator's measure checked on the baseline and every target."""

    def add_period_targets(self, plan_id) -> None:
        self.periods = list(ReportingPeriod.objects.filter(plan_id=plan_id).order_by("starts_on"))
        # The stored targets, {period id: value}: shown unbound, compared with what is sent bound.
        self.stored_targets = {}
        if self.instance.pk:
            self.stored_targets = dict(self.instance.period_targets.values_list("period_id", "value"))
        for period in self.periods:
            name = self.target_field(period)
            self.fields[name] = LocalizedDecimalField(
                label=_("Target for %(period)s") % {"period": period.code}, required=False
            )
            if not self.is_bound and period.pk in self.stored_targets:
                self.initial[name] = self.stored_targets[period.pk]

    @staticmethod
    def target_field(period) -> str:
        return f"target_{period.code}"

    def target_fields(self):
        return [self[self.target_field(period)] for period in self.periods]

    def check_value_limits(self, data: dict, indicator: Indicator) -> None:
        """Refuse a baseline or target outside what the ``indicator``'s measure takes, naming its field."""
        low, high = indicator.value_limits()
        for name in ("baseline_value", "target_value", *(self.target_field(period) for period in self.periods)):
            value = data.get(name)
            if value is not None and (value < low or (high is not None and value > high)):
                self.add_error(
                    name,
                    _("A %(measure)s takes values from %(low)s to %(high)s.")
                    % {"measure": indicator.get_measure_display().lower(), "low": low, "high": high}
                    if high is not None
                    else _("This cannot be negative."),
                )

    def period_targets(self) -> dict:
        """The targets set per period: {period: value}."""
        return {
            period: self.cleaned_data[self.target_field(period)]
            for period in self.periods
            if self.cleaned_data.get(self.target_field(period)) is not None
        }


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


# The figures a change of which must be explained (the audit asks why a baseline or a target moved).
FIGURE_FIELDS = ("baseline_value", "baseline_date", "target_value", "target_date")


class IndicatorForm(PeriodTargetFields, VersionedForm):
    """An indicator with the rule its figure follows and its targets, the end one and one per period.

    Changing the baseline or a target of an existing indicator takes a reason, kept in its history.
    """

    change_reason = forms.CharField(
        label=_("Reason for the change"),
        max_length=100,
        required=False,
        help_text=_("Needed when the baseline or a target changes; kept with the indicator's history."),
    )
    dimensions = forms.MultipleChoiceField(
        label=_("Broken down by"),
        choices=dimension_choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Reporters give the breakdown beside the total; sex and age bands add up to it."),
    )

    class Meta:
        model = Indicator
        fields = [
            "objective", "activity", "code", "name", "unit", "measure", "allows_over_100", "direction",
            "office_rule", "period_rule", "dimensions", "baseline_value", "baseline_date", "target_value",
            "target_date", "plausible_share_of_target", "plausible_growth", "means_of_verification",
        ]  # fmt: skip
        widgets = {"baseline_date": DATE, "target_date": DATE}
        labels = {"target_value": _("End target")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_period_targets(self._plan())
        # Last, below the targets it explains.
        self.fields["change_reason"] = self.fields.pop("change_reason")

    def _plan(self):
        """The plan whose periods may have targets: that of the objective or activity chosen, else the current."""
        objective, activity = self.data.get("objective"), self.data.get("activity")
        plans = ActionPlan.objects.latest_first()
        if (objective or "").isdigit():
            plans = plans.filter(focus_areas__objectives=objective)
        elif (activity or "").isdigit():
            plans = plans.filter(focus_areas__objectives__activities=activity)
        elif self.instance.activity_id or self.instance.objective_id:
            measured = self.instance.activity.objective if self.instance.activity_id else self.instance.objective
            return measured.focus_area.plan_id
        return plans.values_list("pk", flat=True).first()

    def clean(self):
        data = super().clean()
        if bool(data.get("objective")) == bool(data.get("activity")):
            raise forms.ValidationError(_("An indicator measures either an objective or an activity: choose one."))
        self.check_value_limits(
            data, Indicator(measure=data.get("measure"), allows_over_100=data.get("allows_over_100", False))
        )
        changed = self.changed_figures()
        if changed and not data.get("change_reason", "").strip():
            self.add_error(
                "change_reason",
                _("Give a reason for changing %(figures)s: it is kept with the indicator's history.")
                % {"figures": ", ".join(changed)},
            )
        return data

    def changed_figures(self) -> list[str]:
        """The labels of the baseline and target fields whose value differs from the stored one."""
        if self.instance.pk is None:
            return []
        data = self.cleaned_data
        changed = [
            str(self.fields[name].label)
            for name in FIGURE_FIELDS
            if name in data and data[name] != getattr(self.instance, name)
        ]
        for period in self.periods:
            name = self.target_field(period)
            if name in data and data[name] != self.stored_targets.get(period.pk):
                changed.append(str(self.fields[name].label))
        return changed


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
        if data.get("plan") and data.get("starts_on") and data.get("ends_on") and not self.errors:
            # A value belongs to one period: figures tell periods apart and order them by their dates.
            overlapping = (
                ReportingPeriod.objects.filter(
                    plan=data["plan"], starts_on__lte=data["ends_on"], ends_on__gte=data["starts_on"]
                )
                .exclude(pk=self.instance.pk)
                .first()
            )
            if overlapping is not None:
                self.add_error(
                    "starts_on",
                    _("This period overlaps %(code)s (%(start)s to %(end)s) of the same plan.")
                    % {"code": overlapping.code, "start": overlapping.starts_on, "end": overlapping.ends_on},
                )
        return data
