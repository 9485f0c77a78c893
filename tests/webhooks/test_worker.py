"""A real Celery worker on real Redis delivers the events of a committed change to the receiver."""

import time

from actionplan import services as updates
from tests.factories import ProgressUpdateFactory
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
    while len(receiver.received) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert receiver.events() == ["update.submitted", "update.approved"]
    assert receiver.refused_signatures == 0
    assert set(Delivery.objects.values_list("state", flat=True)) == {"succeeded"}
