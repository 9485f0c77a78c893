"""Tombstones: the deletions the API's change feed reports (``GET /api/v1/deleted/``).

Each app says, with ``watch``, how a deleted row of one of its models is named and who could read
it; the key is read before the delete (``pre_delete``: a cascade removes the rows it depends on,
such as an activity's implementing offices) and the tombstones written after it (``post_delete``,
all of one deletion's at once, after its last row), in the delete's own transaction. A rolled-back
delete leaves none, and every path is covered: the API, the pages, the admin, the shell,
``queryset.delete()`` and cascades alike (Django sends the signals for each row once a model has
receivers).
"""

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import connection
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


def watch(model, key: Callable[[object, dict], Key]) -> None:
    """Write a tombstone, named and scoped by ``key(row, memo)``, for every row of ``model`` deleted.

    One deletion (a ``delete()`` and its cascade) writes its tombstones together, two statements however
    many rows it removes, once its last watched row is gone; ``memo`` is a dict the keys of one deletion
    share, to read what many of its rows have in common once (``actionplan.tombstones``).
    """
    label = model._meta.label_lower

    def remember(sender, instance, origin=None, **kwargs):
        deletion = _deletion(origin)
        instance._tombstone_key = key(instance, deletion.memo)
        deletion.awaited += 1

    def record(sender, instance, origin=None, **kwargs):
        # A row deleted without its pre_delete (none is known) still leaves a tombstone, for officers.
        known = getattr(instance, "_tombstone_key", None)
        if known is None:
            write([key(instance, {})])
            return
        deletion = _deletion(origin)
        deletion.keys.append(known)
        deletion.awaited -= 1
        if deletion.awaited <= 0:
            write(deletion.keys)
            deletion.keys = []

    pre_delete.connect(remember, sender=model, weak=False, dispatch_uid=f"tombstone-key-{label}")
    post_delete.connect(record, sender=model, weak=False, dispatch_uid=f"tombstone-{label}")


@dataclass
class _Deletion:
    """The watched rows of one deletion: how many are still to go, and the keys of those gone."""

    run: object = None
    awaited: int = 0
    keys: list[Key] = field(default_factory=list)
    memo: dict = field(default_factory=dict)


def _deletion(origin) -> _Deletion:
    # Django names the deletion's origin (the instance or queryset ``delete()`` was called on) in its signals;
    # without one, each row is a deletion of its own. A deletion runs in an atomic block of its own (the
    # collector's), so one that failed half-way leaves nothing behind for the same origin deleted again.
    run = connection.atomic_blocks[-1] if connection.atomic_blocks else None
    if origin is None:
        return _Deletion(run=run)
    deletion = origin.__dict__.get("_tombstone_deletion")
    if deletion is None or deletion.run is not run:
        deletion = origin.__dict__["_tombstone_deletion"] = _Deletion(run=run)
    return deletion


def write(keys: list[Key]) -> list[Tombstone]:
    """Record the deletions of the rows the keys name, now: two statements however many."""
    now = timezone.now()
    tombstones = Tombstone.objects.bulk_create(
        Tombstone(kind=key.kind, identifier=key.identifier, deleted_at=now, everyone=key.everyone,
                  office_id=key.office_id)
        for key in keys
    )  # fmt: skip
    offices = Tombstone.activity_offices.through
    offices.objects.bulk_create(
        offices(tombstone_id=tombstone.pk, office_id=office_id)
        for tombstone, key in zip(tombstones, keys, strict=True)
        for office_id in set(key.activity_office_ids)
    )
    return tombstones


def horizon(*, days: int) -> datetime.datetime:
    """The oldest moment from which every deletion is still known: tombstones older are purged."""
    return timezone.now() - datetime.timedelta(days=days)


def purge_tombstones(*, days: int) -> int:
    """Delete the tombstones older than ``days`` days; return how many."""
    _total, deleted = Tombstone.objects.filter(deleted_at__lt=horizon(days=days)).delete()
    return deleted.get(Tombstone._meta.label, 0)
