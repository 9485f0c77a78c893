"""Forms of the browser portal; the rules themselves are in services.py."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import RAG, ProgressUpdate
from .services import MeasurementInput

TEXT_MAX_LENGTH = 20_000


def plain(number) -> str:
    """Write a decimal without trailing zeros or an exponent: 100.00 → 100, 12.50 → 12.5."""
    return format(number.normalize(), "f")


class UpdateForm(forms.Form):
    """An office's progress update, with one measurement field per indicator of the activity."""

    rag = forms.ChoiceField(label=_("RAG rating"), choices=RAG.choices, widget=forms.RadioSelect)
    percent_complete = forms.IntegerField(label=_("Percent complete"), min_value=0, max_value=100)
    narrative = forms.CharField(
        label=_("Narrative"), required=False, max_length=TEXT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 4})
    )
    challenges = forms.CharField(
        label=_("Challenges"), required=False, max_length=TEXT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3})
    )
    next_steps = forms.CharField(
        label=_("Next steps"), required=False, max_length=TEXT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3})
    )
    evidence = forms.FileField(
        label=_("Evidence file"),
        required=False,
        help_text=_("PDF, DOCX, XLSX, CSV, PNG or JPEG. More files can be added on the update's page."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, indicators, **kwargs):
        super().__init__(*args, **kwargs)
        self.indicators = list(indicators)
        for indicator in self.indicators:
            self.fields[self.measurement_field(indicator)] = forms.DecimalField(
                label=f"{indicator.code} {indicator.name} ({indicator.unit})",
                required=False,
                max_digits=14,
                decimal_places=2,
                help_text=_("Baseline %(baseline)s, target %(target)s")
                % {"baseline": plain(indicator.baseline_value), "target": plain(indicator.target_value)},
            )

    @staticmethod
    def measurement_field(indicator) -> str:
        return f"measurement_{indicator.pk}"

    def measurement_fields(self):
        return [self[self.measurement_field(indicator)] for indicator in self.indicators]

    def text_fields(self):
        return [self[name] for name in ("narrative", "challenges", "next_steps")]

    def measurements(self) -> list[MeasurementInput]:
        return [
            MeasurementInput(indicator=indicator, value=self.cleaned_data[self.measurement_field(indicator)])
            for indicator in self.indicators
            if self.cleaned_data.get(self.measurement_field(indicator)) is not None
        ]

    def changes(self) -> dict:
        return {
            name: self.cleaned_data[name]
            for name in ("rag", "percent_complete", "narrative", "challenges", "next_steps")
        }

    @classmethod
    def initial_for(cls, update: ProgressUpdate) -> dict:
        initial = {
            name: getattr(update, name) for name in ("rag", "percent_complete", "narrative", "challenges", "next_steps")
        }
        initial["version"] = update.version
        for measurement in update.measurements.all():
            initial[f"measurement_{measurement.indicator_id}"] = measurement.value
        return initial


class ReturnForm(forms.Form):
    comment = forms.CharField(
        label=_("What should the office fix?"), max_length=TEXT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3})
    )


class EvidenceForm(forms.Form):
    file = forms.FileField(label=_("Add an evidence file"), help_text=_("PDF, DOCX, XLSX, CSV, PNG or JPEG"))
