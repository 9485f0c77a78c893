"""Forms of the browser portal; the rules themselves are in services.py."""

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from portal import languages, numbers

from . import dimensions
from .measurements import MeasurementInput
from .models import RAG, ProgressUpdate

TEXT_MAX_LENGTH = 20_000
MAX_DIGITS, DECIMAL_PLACES = 14, 2


def _language_name() -> str:
    """The active language named in itself, as a sentence writes it (CLDR): English, français, русский."""
    locale = numbers.locale_of()
    return locale.languages[locale.language]


class LocalizedDecimalField(forms.CharField):
    """A number typed the way the active language writes it, or refused with the form expected.

    Never guessed at: "12,5" is 12.5 in French and refused in English, where the comma
    groups thousands, instead of silently becoming 125.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}))
        super().__init__(**kwargs)

    def to_python(self, value):
        text = super().to_python(value)
        if text in self.empty_values:
            return None
        names = {"field": self.label, "text": text, "language": _language_name()}
        try:
            number = numbers.parse(text)
        except numbers.NotANumber as error:
            raise ValidationError(
                _("%(field)s: “%(text)s” is not a number as written in %(language)s; write it like %(example)s."),
                code="invalid",
                params={**names, "example": error.example},
            ) from None
        sign, digits, exponent = number.as_tuple()
        if exponent < -DECIMAL_PLACES:
            raise ValidationError(
                _("%(field)s: “%(text)s” has more than %(places)d decimals."),
                code="max_decimal_places",
                params={**names, "places": DECIMAL_PLACES},
            )
        if len(digits) + min(exponent, 0) > MAX_DIGITS - DECIMAL_PLACES:
            raise ValidationError(_("%(field)s: “%(text)s” is too large."), code="max_digits", params=names)
        return number

    def prepare_value(self, value):
        # Shown back the language's way; what the user typed is shown back as typed.
        return numbers.show(value) if isinstance(value, Decimal) else value


class YesNoField(forms.TypedChoiceField):
    """A yes/no answer, stored as 1 or 0; a number is refused."""

    def __init__(self, **kwargs):
        super().__init__(
            choices=[("1", _("Yes")), ("0", _("No"))],
            coerce=Decimal,
            empty_value=None,
            widget=forms.RadioSelect,
            error_messages={"invalid_choice": _("Answer yes or no.")},
            **kwargs,
        )

    def prepare_value(self, value):
        return str(int(value)) if isinstance(value, Decimal) else value


def _value_field(indicator, **kwargs) -> forms.Field:
    if indicator.measure == indicator.Measure.YES_NO:
        return YesNoField(required=False, **kwargs)
    return LocalizedDecimalField(required=False, **kwargs)


class UpdateForm(forms.Form):
    """An office's progress update: a value per indicator, with its breakdown where the indicator has one."""

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
    confirm_warnings = forms.BooleanField(label=_("I have checked these figures: they are right."), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, indicators, countries=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.indicators = list(indicators)
        self.countries = list(countries)
        self.warnings = []
        for indicator in self.indicators:
            self.fields[self.measurement_field(indicator)] = _value_field(
                indicator,
                label=f"{indicator.code} {languages.isolated(f'{indicator.name} ({indicator.unit})')}",
                help_text=_("Baseline %(baseline)s, target %(target)s")
                % {"baseline": numbers.show(indicator.baseline_value), "target": numbers.show(indicator.target_value)},
            )
            for dimension in dimensions.of(indicator):
                for category, label in dimension.categories(self.countries):
                    cell = _value_field(indicator, label=f"{indicator.code}, {dimension.label}: {label}")
                    cell.widget.attrs["class"] = "form-control form-control-sm breakdown-cell"
                    self.fields[self.breakdown_field(indicator, dimension.key, category)] = cell

    @staticmethod
    def measurement_field(indicator) -> str:
        return f"measurement_{indicator.pk}"

    @staticmethod
    def breakdown_field(indicator, dimension: str, category: str) -> str:
        return f"breakdown_{indicator.pk}_{dimension}_{category}"

    def field_of(self, indicator_code: str) -> str | None:
        """The name of the field that holds an indicator's value, to show a rule's refusal beside it."""
        return next((self.measurement_field(i) for i in self.indicators if i.code == indicator_code), None)

    def measurement_rows(self):
        """Per indicator: its value field and, per dimension, the fields of its breakdown (for the template)."""
        return [
            {
                "indicator": indicator,
                "field": self[self.measurement_field(indicator)],
                "breakdown": [
                    {
                        "dimension": dimension,
                        "fields": [
                            (label, self[self.breakdown_field(indicator, dimension.key, category)])
                            for category, label in dimension.categories(self.countries)
                        ],
                    }
                    for dimension in dimensions.of(indicator)
                ],
            }
            for indicator in self.indicators
        ]

    def text_fields(self):
        return [self[name] for name in ("narrative", "challenges", "next_steps")]

    def _breakdown(self, indicator) -> dict:
        parts = {}
        for dimension in dimensions.of(indicator):
            values = {
                category: self.cleaned_data.get(self.breakdown_field(indicator, dimension.key, category))
                for category, _label in dimension.categories(self.countries)
            }
            values = {category: value for category, value in values.items() if value is not None}
            if values:
                parts[dimension.key] = values
        return parts

    def clean(self):
        data = super().clean()
        for indicator in self.indicators:
            if self._breakdown(indicator) and data.get(self.measurement_field(indicator)) is None:
                self.add_error(
                    self.measurement_field(indicator),
                    _("%(indicator)s: give the total beside its breakdown.") % {"indicator": indicator.code},
                )
        return data

    def measurements(self) -> list[MeasurementInput]:
        return [
            MeasurementInput(
                indicator=indicator,
                value=self.cleaned_data[self.measurement_field(indicator)],
                breakdown=self._breakdown(indicator),
            )
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
        totals, breakdowns = dimensions.breakdown_of(update.measurements.all())
        for indicator_id, row in totals.items():
            initial[f"measurement_{indicator_id}"] = row.value
        for indicator_id, parts in breakdowns.items():
            for key, values in parts.items():
                for category, value in values.items():
                    initial[f"breakdown_{indicator_id}_{key}_{category}"] = value
        return initial


class ReturnForm(forms.Form):
    comment = forms.CharField(
        label=_("What should the office fix?"), max_length=TEXT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3})
    )
    # The version the officer read: a change since refuses the review instead of acting on unseen content.
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)


class ApproveForm(forms.Form):
    comment = forms.CharField(
        label=_("A note with your approval (optional)"),
        required=False,
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        # Beside the return form on one page: ids of its own, the same field names.
        kwargs.setdefault("auto_id", "approve-%s")
        super().__init__(*args, **kwargs)


class CommentForm(forms.Form):
    text = forms.CharField(
        label=_("Your message"), max_length=TEXT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3})
    )


class EvidenceForm(forms.Form):
    file = forms.FileField(label=_("Add an evidence file"), help_text=_("PDF, DOCX, XLSX, CSV, PNG or JPEG"))
