"""Show people by the name others know them by, never by their login."""

from django import template
from django.utils.translation import gettext as _

register = template.Library()


def display_name(user) -> str:
    """The user's full name; its login only when it has no name; "the system" for no user."""
    if user is None or user == "":
        return _("the system")
    return user.get_full_name() or user.get_username()


@register.filter
def person(user):
    """``{{ update.author|person }}``"""
    return display_name(user)
