"""Tombstones: the deletions the API's change feed reports (``GET /api/v1/deleted/``).

Each app says, with ``watch``, how a deleted row of one of its models is named and who could read
it; the key is read before the delete (``pre_delete``: a cascade removes the rows it depends on,
such as an activity's implementing offices) and the tombstone written after it (``post_delete``),
in the delete's own transaction. A rolled-back delete leaves none, and every path is covered: the
API, the pages, the admin, the shell, ``queryset.delete()`` and cascades alike (Django sends the
signals for each row once a model has receivers).
"""

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db.models.signals import post_delete, pre_delete
from django.utils import timezone

from .models import Tombstone


@dataclass(frozen=True)
class Key:
    """What a tombstone records of a row: its kind and identifier, and who could read it."""

    kind: str
    identifier: str
    everyone: bool = False
    office_id: int | None = None
    activity_office_ids: Iterable[int] = field(default=())


def watch(model, key: Callable[[object], Key]) -> None:
    """Write a tombstone, named and scoped by ``key(row)``, for every row of ``model`` deleted."""
    label = model._meta.label_lower

    def remember(sender, instance, **kwargs):
        instance._tombstone_key = key(instance)

    def record(sender, instance, **kwargs):
        # A row deleted without its pre_delete (none is known) still leaves a tombstone, for officers.
        write(getattr(instance, "_tombstone_key", None) or key(instance))

    pre_delete.connect(remember, sender=model, weak=False, dispatch_uid=f"tombstone-key-{label}")
    post_delete.connect(record, sender=model, weak=False, dispatch_uid=f"tombstone-{label}")


def write(key: Key) -> Tombstone:
    """Record the deletion of the row ``key`` names, now."""
    tombstone = Tombstone.objects.create(
        kind=key.kind,
        identifier=key.identifier,
        deleted_at=timezone.now(),
        everyone=key.everyone,
        office_id=key.office_id,
    )
    if key.activity_office_ids:
        tombstone.activity_offices.set(list(key.activity_office_ids))
    return tombstone


def horizon(*, days: int) -> datetime.datetime:
    """The oldest moment from which every deletion is still known: tombstones older are purged."""
    return timezone.now() - datetime.timedelta(days=days)


def purge_tombstones(*, days: int) -> int:
    """Delete the tombstones older than ``days`` days; return how many."""
    _total, deleted = Tombstone.objects.filter(deleted_at__lt=horizon(days=days)).delete()
    return deleted.get(Tombstone._meta.label, 0)
