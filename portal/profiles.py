"""Write a user's profile: the name others see, the language, the e-mails to receive."""

from django.db import transaction

from . import notifications
from .models import Profile


@transaction.atomic
def save_profile(*, user, first_name: str, last_name: str, language: str, email_choices: dict) -> Profile:
    """Save the user's name, language and e-mail choices (unknown kinds or choices are left out)."""
    user.first_name, user.last_name = first_name.strip(), last_name.strip()
    user.save(update_fields=["first_name", "last_name"])
    known = {key for key, _label in notifications.CHOICES}
    profile, _created = Profile.objects.get_or_create(user=user)
    profile.language = language
    profile.email_choices = {
        kind: choice for kind, choice in email_choices.items() if kind in notifications.KINDS and choice in known
    }
    profile.save(update_fields=["language", "email_choices", "updated_at"])
    return profile


def save_language(*, user, language: str) -> Profile:
    """Keep the language the user chose in the header's switcher."""
    profile, _created = Profile.objects.update_or_create(user=user, defaults={"language": language})
    return profile
