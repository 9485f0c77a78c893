from django.contrib.auth.models import AnonymousUser
from django.utils.functional import SimpleLazyObject

from . import roles
from .models import Notification

# The navigation's sections by the start of their pages' paths, the longest first.
SECTIONS = (
    ("/steering/meetings/", "meetings"),
    ("/steering/action-items/", "action-items"),
    ("/steering/reports/", "reports"),
    ("/steering/", "dashboard"),
    ("/updates/review/", "review"),
    ("/updates/", "updates"),
    ("/activities/", "activities"),
    ("/plan/", "plan"),
    ("/notifications/", "notifications"),
)


def section_of(path: str) -> str:
    """The navigation section a page belongs to ("home" for the home page, "" for none)."""
    if path == "/":
        return "home"
    return next((section for prefix, section in SECTIONS if path.startswith(prefix)), "")


def user_roles(request):
    """Tell templates which of the portal's roles the user holds, for the navigation."""
    # A request refused before the user is known (a Host not allowed) still gets its error page.
    user = getattr(request, "user", None) or AnonymousUser()
    return {
        "nav_section": section_of(request.path),
        "is_officer": roles.is_officer(user),
        "is_committee": roles.is_committee(user),
        "is_reporter": user.is_authenticated and roles.Role.FIELD_REPORTER in roles.group_names(user),
        # Counted only when a page shows it.
        "unread_notifications": SimpleLazyObject(
            lambda: Notification.objects.filter(recipient=user).unread().count() if user.is_authenticated else 0
        ),
    }
