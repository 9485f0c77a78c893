"""Answer which organisation a user works for: the signatures of the two parties rest on it."""

from .models import Organization, Profile


def organisation_of(user) -> Organization | None:
    """The user's organisation: the one on the profile, else the one all the user's offices belong to.

    A user whose offices belong to several organisations, or who has none, has no organisation
    until an administrator (or single sign-on) sets it on the profile.
    """
    if not user.is_authenticated:
        return None
    chosen = Profile.objects.filter(user=user, organization__isnull=False).select_related("organization").first()
    if chosen is not None:
        return chosen.organization
    of_offices = list(Organization.objects.filter(offices__memberships__user=user).distinct()[:2])
    return of_offices[0] if len(of_offices) == 1 else None
