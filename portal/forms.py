from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from . import notifications


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=100, help_text=_("What will use it, e.g. the Bangkok M&E system")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Made here, as the longest expiry is a setting.
        longest = settings.API_TOKEN_DAYS
        self.fields["expires_in_days"] = forms.IntegerField(
            label=_("Expires after (days)"),
            min_value=1,
            max_value=longest,
            initial=longest,
            required=False,
            help_text=_("At most %(days)d days, the default: the token is then refused, and you create a new one.")
            % {"days": longest},
        )


class ProfileForm(forms.Form):
    """A user's name as others see it, language, and which e-mails to receive."""

    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    language = forms.ChoiceField(label=_("Language of the portal"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [("", _("As my browser asks")), *settings.LANGUAGES]
        for kind in notifications.KINDS.values():
            self.fields[f"email_{kind.key}"] = forms.ChoiceField(
                label=kind.label,
                choices=notifications.CHOICES,
                widget=forms.RadioSelect,
                initial=notifications.IMMEDIATE,
                help_text=_("At once means within the hour, several together.") if kind.batched else "",
            )

    def email_fields(self):
        return [self[f"email_{key}"] for key in notifications.KINDS]

    def email_choices(self) -> dict:
        return {key: self.cleaned_data[f"email_{key}"] for key in notifications.KINDS}

    @classmethod
    def initial_for(cls, user, profile) -> dict:
        initial = {"first_name": user.first_name, "last_name": user.last_name, "language": profile.language}
        for key in notifications.KINDS:
            initial[f"email_{key}"] = profile.email_choices.get(key, notifications.IMMEDIATE)
        return initial
