from django.utils.functional import SimpleLazyObject

from . import roles
from .models import Notification


def user_roles(request):
    """Tell templates which of the portal's roles the user holds, for the navigation."""
    user = request.user
    return {
        "is_officer": roles.is_officer(user),
        "is_committee": roles.is_committee(user),
        "is_reporter": user.is_authenticated and roles.Role.FIELD_REPORTER in roles.group_names(user),
        # Counted only when a page shows it.
        "unread_notifications": SimpleLazyObject(
            lambda: Notification.objects.filter(recipient=user).unread().count() if user.is_authenticated else 0
        ),
    }
