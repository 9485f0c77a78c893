"""Create many progress updates in one call, each answered on its own, in a number of queries that does
not grow with the number of updates.

Each item is answered as it would have been alone, by ``services.create_update`` behind an idempotency
key of its own (``BULK_ITEM_KEY`` and its client_key), and in the order sent: first its key (already used
for the same item: its first answer replayed, 200; for another: refused, 422), then the rules of a new
update in the single create's order (``services.check_new_update``), then its slot (an update already
there, or an earlier item's: 409). What these read is read once for all the items (``services.Grounds``,
the stored keys, the stored updates); the items that pass are then written together, their keys with
their answers, the updates, their history, measurements and notifications, a few statements in all.

Two calls at once: the unique indexes of the keys and of the slots stay the arbiter. Both are inserted
with ON CONFLICT DO NOTHING, in a fixed order (two calls wait on each other rather than deadlock); an
item whose key or slot another request took meanwhile, and any item answered from that one, is answered
afterwards the single create's way (``_create_one``), as that request left the key and the slot.

No model signal is sent for the rows written here. What the signals keep: the history, written here as
the single create's ``save`` writes it (a draft created, then submitted when it is); the dashboard's
cached figures, told of submitted updates by ``updates_created``; the standings
(``actionplan.standings``), which count approved updates only, so that a draft or a submitted update
changes nothing they keep (should an update ever be created approved, send it through the standings).
"""

import copy
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.dispatch import Signal
from rest_framework import status
from rest_framework.response import Response

from portal import idempotency
from portal.errors import DomainError
from webhooks import services as webhooks
from webhooks.models import Event

from . import measurements as measurement_rules
from . import notifications, services
from .models import Measurement, ProgressUpdate

# The idempotency key of one item: its client_key, kept apart from the keys of whole calls.
BULK_ITEM_KEY = "bulk-item:"

# Sent with ``updates``, those just created in bulk, which no model signal announced.
updates_created = Signal()


@dataclass(frozen=True)
class Item:
    """One item of a bulk call, its shape checked: its place in the call, its client_key, the fingerprint of
    what was sent, and the update it asks for."""

    index: int
    client_key: str
    fingerprint: str
    update: services.NewUpdate

    @property
    def key(self) -> str:
        return f"{BULK_ITEM_KEY}{self.client_key}"


@dataclass(frozen=True)
class Answer:
    """What came of one item: the status it would have had alone, and the update's id or the errors."""

    index: int
    status: int
    id: str | None = None
    errors: dict | None = None

    @classmethod
    def refused(cls, index: int, error: DomainError) -> "Answer":
        return cls(index, error.status, errors={error.field or "detail": [error.message]})

    def as_dict(self) -> dict:
        shown = {"index": self.index, "status": self.status, "id": self.id, "errors": self.errors}
        return {name: value for name, value in shown.items() if value is not None}


@dataclass
class _Planned:
    """An item that passed every check: its row to insert, as it will stand, and what goes with it."""

    item: Item
    row: ProgressUpdate
    created: ProgressUpdate  # the row as created, before a submission: its first history record
    countries: dict


def create_updates(*, by, items: list[Item], source: str) -> list[Answer]:
    """Create the items' updates, each on its own; answer each, in the items' order."""
    if not items:
        return []
    grounds = services.Grounds.read(by=by, updates=[item.update for item in items])
    # The slots before the keys: a request that stores a key and fills its slot commits both at once, so that
    # a slot read free then a key read free means neither was stored when the slots were read (the write then
    # meets the other request's key), and a slot found taken comes with its key found too (its answer replayed).
    # Read the other way round, a request committing between the two reads made its slot a 409.
    existing = _updates_in({item.update.slot for item in items})
    stored = idempotency.stored_answers(user=by, keys={item.key for item in items})
    answers, planned, depends_on = {}, {}, {}
    planned_keys, planned_slots = {}, {}
    for item in items:
        new = item.update
        first = planned_keys.get(item.key)
        if first is not None:
            # The key of an earlier item of this call: as if that one's answer were stored already.
            answers[item.index] = _replayed(item, first.item.fingerprint, {"id": str(first.row.pk)})
            depends_on[item.index] = first.item.index
            continue
        if item.key in stored:
            record = stored[item.key]
            answers[item.index] = _replayed(item, record.fingerprint, record.body)
            continue
        try:
            countries = services.check_new_update(by=by, update=new, grounds=grounds)
            warnings = measurement_rules.plausibility_warnings(
                activity=new.activity, period=new.period, office=new.office, percent_complete=new.percent_complete,
                measurements=new.measurements, approved=grounds.approved,
            )  # fmt: skip
            holder = planned_slots.get(new.slot)
            if holder is not None:
                depends_on[item.index] = holder.item.index
                raise services.already_exists(new, holder.row.pk)
            if new.slot in existing:
                raise services.already_exists(new, existing[new.slot])
        except DomainError as error:
            answers[item.index] = Answer.refused(item.index, error)
            continue
        row = new.row(by=by, source=source, warnings=warnings)
        created = copy.copy(row)
        if new.submit:
            services.stamp_submitted(row)
        planned[item.index] = planned_keys[item.key] = planned_slots[new.slot] = _Planned(item, row, created, countries)
        answers[item.index] = Answer(item.index, status.HTTP_201_CREATED, id=str(row.pk))
    overtaken = _write(by=by, planned=list(planned.values()))
    # In the items' order: an item answered from an overtaken one is answered after it, as it then stands.
    for item in items:
        if item.index in overtaken or depends_on.get(item.index) in overtaken:
            overtaken.add(item.index)
            answers[item.index] = _create_one(by=by, item=item, source=source)
    return [answers[item.index] for item in items]


def _updates_in(slots) -> dict:
    """The ids of the updates stored in the (activity, period, office) slots, by slot: one query."""
    # Read for the activities, periods and offices, kept for the slots (an activity has a few offices).
    stored = ProgressUpdate.objects.filter(
        activity__in={slot[0] for slot in slots},
        period__in={slot[1] for slot in slots},
        office__in={slot[2] for slot in slots},
    )
    return {
        (a, p, o): pk
        for a, p, o, pk in stored.order_by().values_list("activity", "period", "office", "pk")
        if (a, p, o) in slots
    }


def _replayed(item: Item, fingerprint: str, body) -> Answer:
    if fingerprint != item.fingerprint:
        return Answer.refused(item.index, idempotency.reused(item.key))
    return Answer(item.index, status.HTTP_200_OK, id=body["id"])


def _write(*, by, planned: list[_Planned]) -> set[int]:
    """Write the planned items, in one transaction; return the indexes of those another request overtook
    (it holds their key or their slot now), which are not written."""
    if not planned:
        return set()
    try:
        with transaction.atomic():
            return _insert(by=by, planned=planned)
    except IntegrityError:
        # Not a key or a slot taken (those are skipped, not refused): a row named gone meanwhile. Each item
        # then goes alone, and is answered as the single create would answer it now.
        return {each.item.index for each in planned}


def _insert(*, by, planned: list[_Planned]) -> set[int]:
    answers = {
        each.item.key: (each.item.fingerprint, status.HTTP_201_CREATED, {"id": str(each.row.pk)}) for each in planned
    }
    idempotency.store_answers(user=by, answers=answers)
    # A key stored by another request meanwhile holds that request's answer, not this one's.
    held = idempotency.stored_answers(user=by, keys=answers)
    keyed = [each for each in planned if getattr(held.get(each.item.key), "body", None) == answers[each.item.key][2]]
    # In the slots' order, for the same reason as the keys'.
    rows = sorted((each.row for each in keyed), key=lambda row: (row.activity_id, row.period_id, row.office_id))
    ProgressUpdate.objects.bulk_create(rows, ignore_conflicts=True)
    inserted = set(
        ProgressUpdate.objects.filter(pk__in=[row.pk for row in rows]).order_by().values_list("pk", flat=True)
    )
    made = [each for each in keyed if each.row.pk in inserted]
    slot_taken = [each.item.key for each in keyed if each.row.pk not in inserted]
    if slot_taken:
        idempotency.forget_answers(user=by, keys=slot_taken)
    if made:
        _complete(by=by, made=made)
    return {each.item.index for each in planned} - {each.item.index for each in made}


def _complete(*, by, made: list[_Planned]):
    """Write what goes with the updates just inserted: their history, measurements and notifications."""
    for each in made:
        each.created.created_at, each.created.updated_at = each.row.created_at, each.row.updated_at
    history = ProgressUpdate.history
    history.bulk_history_create([each.created for each in made], default_user=by)
    submitted = [each.row for each in made if each.row.state == ProgressUpdate.State.SUBMITTED]
    if submitted:
        history.bulk_history_create(submitted, update=True, default_user=by)
        notifications.submitted_all(submitted)
        webhooks.emit_all(Event.UPDATE_SUBMITTED, submitted)
    Measurement.objects.bulk_create(
        [
            row
            for each in made
            for row in measurement_rules.rows(each.row, each.item.update.measurements, each.countries)
        ]
    )
    updates_created.send(sender=ProgressUpdate, updates=[each.row for each in made])


def _create_one(*, by, item: Item, source: str) -> Answer:
    """Answer the item as the single create would, behind its own key: one another request overtook."""

    def create():
        update = services.create_update(by=by, source=source, **item.update.values())
        return Response({"id": str(update.pk)}, status=status.HTTP_201_CREATED)

    try:
        response = idempotency.replay_or_run(user=by, key=item.key, request_fingerprint=item.fingerprint, run=create)
    except DomainError as error:
        return Answer.refused(item.index, error)
    replayed = response.has_header("Idempotent-Replayed")
    return Answer(item.index, status.HTTP_200_OK if replayed else response.status_code, id=response.data["id"])
