"""The outbox: a job asked for in a transaction reaches the queue once, however often the queue refuses it."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerUnavailable
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import OutOfMemoryError as RedisOutOfMemoryError
from redis.exceptions import TimeoutError as RedisTimeoutError

from outbox import services as outbox
from outbox.models import Message
from tests.conftest import require_service

SENDER = "tests.outbox.test_outbox.publish"
# A task renamed or removed since the message was written: its sender no longer imports.
GONE = "tests.outbox.test_outbox.publish_renamed_since"
# A sender that refuses the arguments written in the message.
STRICT = "tests.outbox.test_outbox.publish_report"
published = []
queue_down = threading.Event()


def publish(**kwargs):
    """Stand in for a task's apply_async: the queue these tests hand jobs to."""
    if queue_down.is_set():
        raise BrokerUnavailable("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
    time.sleep(0.05)  # publishing takes a moment, during which another drain may look at the row
    published.append(kwargs)


def publish_report(*, report_id):
    published.append({"report_id": report_id})


@pytest.fixture(autouse=True)
def empty_queue():
    published.clear()
    queue_down.clear()
    yield
    queue_down.clear()


def test_a_job_is_sent_once_its_transaction_commits(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = outbox.enqueue(SENDER, report_id="r-1")
        assert published == []

    assert published == [{"report_id": "r-1"}]
    message.refresh_from_db()
    assert message.sent_at is not None and message.attempts == 1


def test_a_job_asked_for_in_a_transaction_rolled_back_is_never_sent(transactional_db):
    with pytest.raises(RuntimeError), transaction.atomic():
        outbox.enqueue(SENDER, report_id="r-1")
        raise RuntimeError("the change failed")

    assert outbox.drain() == 0
    assert published == [] and not Message.objects.exists()


def test_a_job_the_queue_refuses_stays_pending_and_the_drain_sends_it_when_the_queue_is_back(
    db, django_capture_on_commit_callbacks
):
    queue_down.set()
    with django_capture_on_commit_callbacks(execute=True):
        message = outbox.enqueue(SENDER, report_id="r-1")

    message.refresh_from_db()
    assert message.is_pending and "Connection refused" in message.last_error
    assert outbox.drain() == 0  # still down

    queue_down.clear()
    assert outbox.drain() == 1
    assert outbox.drain() == 0
    assert published == [{"report_id": "r-1"}]


def test_the_drain_stops_at_the_first_refusal_and_keeps_the_order(db):
    for number in range(3):
        outbox.enqueue(SENDER, number=number)
    queue_down.set()

    assert outbox.drain() == 0
    assert list(Message.objects.order_by("pk").values_list("attempts", flat=True)) == [1, 0, 0]

    queue_down.clear()
    assert outbox.drain() == 3
    assert published == [{"number": 0}, {"number": 1}, {"number": 2}]


@pytest.mark.parametrize("poison", [GONE, STRICT], ids=["sender-gone", "arguments-refused"])
def test_a_message_that_fails_by_itself_does_not_block_the_ones_after_it(db, poison):
    poisoned = outbox.enqueue(poison, number=0)
    outbox.enqueue(SENDER, number=1)

    assert outbox.drain() == 1

    assert published == [{"number": 1}]
    poisoned.refresh_from_db()
    assert poisoned.is_pending and (poisoned.attempts, poisoned.failures) == (1, 1)
    assert poisoned.last_error.startswith(("ModuleNotFoundError", "ImportError", "TypeError"))
    outbox.enqueue(SENDER, number=2)
    assert outbox.drain() == 1
    assert published == [{"number": 1}, {"number": 2}]


def test_a_message_that_keeps_failing_is_given_up_after_max_failures_and_shown_in_the_admin(db, admin_client):
    poisoned = outbox.enqueue(STRICT, number=0)

    for failures in range(1, outbox.MAX_FAILURES):
        assert outbox.send(message_id=poisoned.pk) is outbox.Sent.BROKEN
        poisoned.refresh_from_db()
        assert poisoned.is_pending and poisoned.failures == failures
    assert outbox.drain() == 0

    poisoned.refresh_from_db()
    assert not poisoned.is_pending and poisoned.sent_at is None and poisoned.failed_at is not None
    assert (poisoned.attempts, poisoned.failures) == (outbox.MAX_FAILURES, outbox.MAX_FAILURES)
    assert "TypeError" in poisoned.last_error
    # No longer tried, nor deleted with the sent ones.
    assert outbox.drain() == 0
    assert outbox.send(message_id=poisoned.pk) is outbox.Sent.TAKEN
    poisoned.refresh_from_db()
    assert poisoned.attempts == outbox.MAX_FAILURES

    page = admin_client.get("/admin/outbox/message/", {"failed_at__isnull": "False"}).content.decode()
    assert "publish_report" in page and "TypeError" in page


def test_the_admin_tries_a_given_up_message_again(db, admin_client):
    poisoned = outbox.enqueue(GONE, number=0)
    Message.objects.filter(pk=poisoned.pk).update(failures=outbox.MAX_FAILURES, failed_at=timezone.now())
    Message.objects.filter(pk=poisoned.pk).update(sender=SENDER)  # the fault fixed

    admin_client.post("/admin/outbox/message/", {"action": "try_again", "_selected_action": [poisoned.pk]})

    assert outbox.drain() == 1
    assert published == [{"number": 0}]


@pytest.mark.parametrize(
    "error",
    [
        BrokerUnavailable("Error 111 connecting to 127.0.0.1:6379. Connection refused."),
        RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused."),
        RedisTimeoutError("Timeout reading from socket"),
        RedisOutOfMemoryError("command not allowed when used memory > 'maxmemory'."),
        ConnectionRefusedError(111, "Connection refused"),
    ],
    ids=["kombu", "redis-connection", "redis-timeout", "redis-out-of-memory", "os"],
)
def test_a_broker_error_stops_the_drain_keeps_both_pending_and_never_gives_them_up(db, monkeypatch, error):
    def unreachable(**kwargs):
        raise error

    monkeypatch.setattr(SENDER, unreachable)
    first, second = outbox.enqueue(SENDER, number=0), outbox.enqueue(SENDER, number=1)

    for _ in range(outbox.MAX_FAILURES + 2):
        assert outbox.drain() == 0

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.is_pending and second.is_pending
    assert (first.attempts, first.failures, second.attempts) == (outbox.MAX_FAILURES + 2, 0, 0)
    assert type(error).__name__ in first.last_error


def test_a_message_another_process_is_sending_is_left_alone_until_its_claim_lapses(db):
    message = outbox.enqueue(SENDER, report_id="r-1")
    Message.objects.filter(pk=message.pk).update(claimed_until=timezone.now() + timedelta(minutes=1))

    assert outbox.drain() == 0

    # That process died before it finished: after its claim, the message is sent again.
    Message.objects.filter(pk=message.pk).update(claimed_until=timezone.now() - timedelta(seconds=1))
    assert outbox.drain() == 1
    assert published == [{"report_id": "r-1"}]


def test_two_drains_at_once_send_each_message_once(transactional_db):
    if connection.vendor != "postgresql":
        require_service("DATABASE_URL is not PostgreSQL: SQLite serialises the writers this race needs")
    queue_down.set()  # outside a transaction, enqueue sends at once: let these wait for the drains
    for number in range(6):
        outbox.enqueue(SENDER, number=number)
    queue_down.clear()
    start = threading.Barrier(2)
    counts = []

    def drain():
        try:
            start.wait(timeout=10)
            counts.append(outbox.drain())
        finally:
            connection.close()

    threads = [threading.Thread(target=drain) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(message["number"] for message in published) == list(range(6))
    assert sum(counts) == 6
    assert not Message.objects.filter(sent_at__isnull=True).exists()


def test_sending_a_message_costs_three_queries(db, django_assert_num_queries):
    message = outbox.enqueue(SENDER, report_id="r-1")

    # Claim it (a conditional UPDATE), read it, mark it sent.
    with django_assert_num_queries(3):
        assert outbox.send(message_id=message.pk) is outbox.Sent.SENT


def test_a_drain_with_nothing_waiting_costs_two_queries(db, django_assert_num_queries):
    # List what waits; delete what was sent long ago.
    with django_assert_num_queries(2):
        assert outbox.drain() == 0


def test_sent_messages_are_deleted_after_the_days_kept(db, settings):
    settings.OUTBOX_KEEP_DAYS = 7
    old, recent, pending = (outbox.enqueue(SENDER, number=number) for number in range(3))
    Message.objects.filter(pk=old.pk).update(sent_at=timezone.now() - timedelta(days=8))
    Message.objects.filter(pk=recent.pk).update(sent_at=timezone.now() - timedelta(days=6))
    Message.objects.filter(pk=pending.pk).update(created_at=timezone.now() - timedelta(days=30))

    assert outbox.drain() == 1  # the old pending one, sent now and kept

    assert set(Message.objects.values_list("pk", flat=True)) == {recent.pk, pending.pk}


def test_the_drain_runs_every_minute_once_the_reference_data_is_loaded(db):
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    from portal.reference import load_reference_data

    load_reference_data()

    job = PeriodicTask.objects.get(task="outbox.tasks.drain_outbox")
    assert job.enabled and (job.interval.every, job.interval.period) == (1, IntervalSchedule.MINUTES)
