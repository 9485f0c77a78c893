"""A real Celery worker on real Redis delivers the events of a committed change to the receiver, and none is
lost when a worker is killed while it delivers."""

import os
import signal
import time
import uuid
from datetime import timedelta
from types import SimpleNamespace

from django.utils import timezone

from actionplan import services as updates
from tests.factories import ActivityFactory, ProgressUpdateFactory
from webhooks import services as webhooks
from webhooks.models import Delivery, Event
from webhooks.tasks import send_delivery

TIMEOUT = 60


def test_a_worker_delivers_each_event_of_a_record_in_order(queue, start_worker, monkeypatch, world, receiver):
    def to_this_queue(*, delivery_id):
        send_delivery.apply_async(args=[delivery_id], queue=queue, ignore_result=True)

    monkeypatch.setattr("webhooks.tasks.enqueue_delivery", to_this_queue)
    webhook = webhooks.create_webhook(by=world.officer, name="Partner", url=receiver.url + "/hook", events=Event.values)
    receiver.secrets["/hook"] = webhook.secret
    start_worker(WEBHOOK_ALLOW_LOOPBACK="true")  # the receiver is on 127.0.0.1, refused by default

    update = ProgressUpdateFactory(
        activity=world.activity, period=world.period, office=world.office, author=world.reporter
    )
    update = updates.submit_update(by=world.reporter, update=update)
    updates.approve_update(by=world.officer, update=update)

    deadline = time.monotonic() + TIMEOUT
    # The receiver counts a request before it answers, and the worker records the answer after: wait for both.
    while (len(receiver.received) < 2 or Delivery.objects.pending().exists()) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert receiver.events() == ["update.submitted", "update.approved"]
    assert receiver.refused_signatures == 0
    assert set(Delivery.objects.values_list("state", flat=True)) == {"succeeded"}


def test_every_event_arrives_though_a_worker_is_killed_while_it_delivers(
    queue, start_worker, monkeypatch, world, receiver
):
    def to_this_queue(*, delivery_id):
        send_delivery.apply_async(args=[delivery_id], queue=queue, ignore_result=True)

    monkeypatch.setattr("webhooks.tasks.enqueue_delivery", to_this_queue)
    # The minute's sweep (``send_due``), sent to this test's queue.
    monkeypatch.setattr(
        "webhooks.services.current_app",
        SimpleNamespace(send_task=lambda _name, args, **_options: to_this_queue(delivery_id=args[0])),
    )
    webhook = webhooks.create_webhook(by=world.officer, name="Partner", url=receiver.url + "/hook", events=Event.values)
    receiver.secrets["/hook"] = webhook.secret
    receiver.hold_first = True
    for activity in [world.activity, *ActivityFactory.create_batch(2, objective=world.objective)]:
        activity.implementing_offices.add(world.office)
        update = ProgressUpdateFactory(
            activity=activity, period=world.period, office=world.office, author=world.reporter
        )
        update = updates.submit_update(by=world.reporter, update=update)
        updates.approve_update(by=world.officer, update=update)
    sent = dict(Delivery.objects.values_list("delivery_id", "event"))
    assert len(sent) == 6

    first, _log = start_worker(WEBHOOK_ALLOW_LOOPBACK="true", CELERY_VISIBILITY_TIMEOUT="2")
    assert receiver.holding.wait(TIMEOUT), "no delivery reached the receiver"
    # Killed while its request is open: the receiver has the event, the portal never hears its answer.
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    receiver.release.set()
    start_worker(WEBHOOK_ALLOW_LOOPBACK="true", CELERY_VISIBILITY_TIMEOUT="2")
    # The dead worker's claim lapses (after ``CLAIM``, two minutes, in production): as if it had.
    Delivery.objects.pending().update(claimed_until=timezone.now() - timedelta(seconds=1))

    deadline = time.monotonic() + TIMEOUT
    while Delivery.objects.pending().exists() and time.monotonic() < deadline:
        webhooks.send_due()
        time.sleep(1)

    assert set(Delivery.objects.values_list("state", flat=True)) == {"succeeded"}
    arrived = [(headers["X-JAP-Delivery"], headers["X-JAP-Event"]) for _path, headers, _payload in receiver.received]
    # None lost; the one held when the worker died came again (its answer never reached the portal), with its id.
    assert {uuid.UUID(delivery): event for delivery, event in arrived} == sent
    assert len(arrived) == 7 and arrived.count(arrived[0]) == 2
    assert receiver.refused_signatures == 0
    # Each record's events in order: its approval after its submission.
    by_record = {}
    for _path, _headers, payload in receiver.received:
        by_record.setdefault(payload["record"]["id"], []).append(payload["event"])
    for events in by_record.values():
        assert list(dict.fromkeys(events)) == ["update.submitted", "update.approved"]
