"""The activity register's filter choices, kept in the cache (Redis) until a row they name changes.

They name the offices, lead organisations, regions, countries and tags of the activities a user may
see, some 400 choices at scale L whose countries are named through CLDR in the language: building
them took most of a register view's time, for lists that change only when the plan or the offices do.
They are filed per language and per reader (everyone who sees the whole plan shares one set), under a
generation that any write to the rows they are read from replaces (``portal.cache.Generation``).
Writes that send no signal (bulk loads, ``QuerySet.update``) are bounded by ``TIMEOUT``; the bulk
loads of the demo and reference data drop them explicitly.
"""

from django.core.cache import cache
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils.translation import get_language

from portal.cache import Generation, safely
from portal.roles import sees_whole_plan

from .models import Activity

GENERATION = Generation("register-choices:generation")
TIMEOUT = 600


def for_user(user) -> dict[str, list[tuple[str, str]]]:
    """The register's choices of offices, organisations, regions, countries and tags, as the user may see them."""
    scope = "plan" if sees_whole_plan(user) else f"user-{user.pk}"
    key = f"register-choices:{GENERATION.current()}:{scope}:{get_language()}"
    choices = safely(cache.get, key)
    if choices is None:
        choices = Activity.objects.visible_to(user).filter_choices()
        safely(cache.set, key, choices, TIMEOUT)
    return choices


def invalidate(**_signal_arguments) -> None:
    """Drop every cached set of choices, now and again when the current transaction commits."""
    GENERATION.renew()


def watch_rows_named_by_the_choices() -> None:
    from actionplan.models import Tag
    from portal.models import Country, Membership, Office, Organization

    # Memberships decide which activities a reporter sees; the others, what the choices name.
    for model in (Activity, Tag, Office, Organization, Country, Membership):
        post_save.connect(invalidate, sender=model, dispatch_uid=f"register-choices-save-{model._meta.label}")
        post_delete.connect(invalidate, sender=model, dispatch_uid=f"register-choices-delete-{model._meta.label}")
    for relation in (Activity.implementing_offices, Activity.beneficiary_countries, Activity.tags):
        m2m_changed.connect(
            invalidate, sender=relation.through, dispatch_uid=f"register-choices-m2m-{relation.field.name}"
        )
