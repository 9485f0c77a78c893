"""Answer which of the portal's roles a user holds.

Roles are Django groups (see ``portal.models.Role``). The group names of a user are
read once per request and cached on the user object, so templates and querysets can
ask as often as they like.
"""

from django.contrib.auth.models import Group
from django.contrib.postgres.expressions import ArraySubquery
from django.db import connections
from django.db.models import OuterRef, QuerySet

from .models import Role

__all__ = ["Role", "belongs_to_an_office", "group_names", "is_committee", "is_officer", "sees_whole_plan"]


def group_names(user) -> frozenset[str]:
    if not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_portal_group_names", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))
        user._portal_group_names = cached
    return cached


def with_group_names(rows: QuerySet, user_field: str) -> QuerySet:
    """``rows``, each with the names of the groups of the user its ``user_field`` names, to hand to
    ``remember_group_names``: the user's roles without a query of their own. PostgreSQL reads them in the
    rows' statement, as an array; SQLite has no arrays, so there they are read when first asked."""
    if connections[rows.db].vendor != "postgresql":
        return rows
    return rows.annotate(_group_names=ArraySubquery(Group.objects.filter(user=OuterRef(user_field)).values("name")))


def remember_group_names(user, row) -> None:
    """Keep the names of the user's groups read with ``row`` (``with_group_names``) as those ``group_names``
    answers."""
    names = getattr(row, "_group_names", None)
    if names is not None:
        user._portal_group_names = frozenset(names)


def belongs_to_an_office(user) -> bool:
    """Whether the user is a member of at least one office; read once a request, or with the user's API token."""
    offices = office_ids_if_read(user)
    if offices is not None:
        return bool(offices)
    belongs = getattr(user, "_portal_belongs_to_an_office", None)
    if belongs is None:
        belongs = user.is_authenticated and user.memberships.exists()
        user._portal_belongs_to_an_office = belongs
    return belongs


def remember_membership(user, belongs: bool) -> None:
    """Keep whether the user belongs to an office, read with another row, as ``belongs_to_an_office`` answers."""
    user._portal_belongs_to_an_office = belongs


def remember_offices(user, office_ids) -> None:
    """Keep the ids of the user's offices, read with another row (its API token): ``office_ids_if_read`` and
    ``belongs_to_an_office`` answer from them."""
    user._portal_office_ids = frozenset(office_ids)


def office_ids_if_read(user) -> frozenset | None:
    """The ids of the user's offices if they were read with another row (``remember_offices``), else None: the
    visibility rules then read them in their own statement, as a subquery."""
    return getattr(user, "_portal_office_ids", None)


def is_officer(user) -> bool:
    return user.is_superuser or Role.PROGRAMME_OFFICER in group_names(user)


def is_committee(user) -> bool:
    names = group_names(user)
    return Role.COMMITTEE_MEMBER in names or Role.COMMITTEE_SECRETARY in names


def sees_whole_plan(user) -> bool:
    """Tell whether the user reads every activity, restricted ones included."""
    return user.is_authenticated and (is_officer(user) or is_committee(user))
