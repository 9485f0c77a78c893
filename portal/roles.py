"""Answer which of the portal's roles a user holds.

Roles are Django groups (see ``portal.models.Role``). The group names of a user are
read once per request and cached on the user object, so templates and querysets can
ask as often as they like.
"""

from .models import Role

__all__ = ["Role", "group_names", "is_committee", "is_officer", "sees_whole_plan"]


def group_names(user) -> frozenset[str]:
    if not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_portal_group_names", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))
        user._portal_group_names = cached
    return cached


def is_officer(user) -> bool:
    return user.is_superuser or Role.PROGRAMME_OFFICER in group_names(user)


def is_committee(user) -> bool:
    names = group_names(user)
    return Role.COMMITTEE_MEMBER in names or Role.COMMITTEE_SECRETARY in names


def sees_whole_plan(user) -> bool:
    """Tell whether the user reads every activity, restricted ones included."""
    return user.is_authenticated and (is_officer(user) or is_committee(user))
