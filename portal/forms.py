from django import forms
from django.utils.translation import gettext_lazy as _

from .tokens import MAX_EXPIRY_DAYS


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=100, help_text=_("What will use it, e.g. the Bangkok M&E system")
    )
    expires_in_days = forms.IntegerField(
        label=_("Expires after (days)"),
        required=False,
        min_value=1,
        max_value=MAX_EXPIRY_DAYS,
        help_text=_("Leave empty for a token that lasts until revoked"),
    )
