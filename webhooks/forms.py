from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Event


class WebhookForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, help_text=_("The partner system, as you know it."))
    # Any scheme is let through here: ``check_url`` refuses, naming the field, what is not http(s).
    url = forms.CharField(
        label=_("URL"), max_length=500, help_text=_("The partner's https:// address that receives the events.")
    )
    events = forms.MultipleChoiceField(
        label=_("Events"), choices=Event.choices, widget=forms.CheckboxSelectMultiple, initial=Event.values
    )
