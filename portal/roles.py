"""Answer which of the portal's roles a user holds.

Roles are Django groups (see ``portal.models.Role``). The group names of a user are
read once per request and cached on the user object, so templates and querysets can
ask as often as they like.
"""

from django.contrib.auth.models import Group
from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import OuterRef

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


def group_names_of(user_field: str) -> ArraySubquery:
    """The names of the groups of the user a query's ``user_field`` names, to read with its rows and hand
    to ``remember_group_names``: the user's roles without a query of their own."""
    return ArraySubquery(Group.objects.filter(user=OuterRef(user_field)).values("name"))


def remember_group_names(user, names) -> None:
    """Keep the names of the user's groups read with it (``group_names_of``) as those ``group_names`` answers."""
    user._portal_group_names = frozenset(names)


def is_officer(user) -> bool:
    return user.is_superuser or Role.PROGRAMME_OFFICER in group_names(user)


def is_committee(user) -> bool:
    names = group_names(user)
    return Role.COMMITTEE_MEMBER in names or Role.COMMITTEE_SECRETARY in names


def sees_whole_plan(user) -> bool:
    """Tell whether the user reads every activity, restricted ones included."""
    return user.is_authenticated and (is_officer(user) or is_committee(user))
