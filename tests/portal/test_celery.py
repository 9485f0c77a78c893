"""A real Celery worker on real Redis runs the health ping, and a task outlives its worker."""

import os
import signal

from portal.models import HealthPing
from portal.tasks import ping
from tests.conftest import wait_for_line

RESULT_TIMEOUT = 60


def test_worker_runs_the_health_ping_and_writes_a_row(queue, start_worker):
    start_worker()

    row_id = ping.apply_async(args=["round trip"], queue=queue).get(timeout=RESULT_TIMEOUT)

    assert HealthPing.objects.get(pk=row_id).note == "round trip"


def test_task_sent_while_no_worker_runs_is_run_when_one_starts(queue, start_worker):
    result = ping.apply_async(args=["waited"], queue=queue)
    # Seen in Redis, not waited for: the task is kept in its queue while no worker takes it.
    with ping.app.connection_for_read() as connection:
        assert connection.default_channel.queue_declare(queue=queue, passive=True).message_count == 1
    assert not HealthPing.objects.filter(note="waited").exists()

    start_worker()

    assert result.get(timeout=RESULT_TIMEOUT) == HealthPing.objects.get(note="waited").pk


def test_task_whose_worker_is_killed_runs_once_on_the_next_worker(queue, start_worker):
    # A short visibility timeout lets Redis hand the unacknowledged task to the next
    # worker as it starts; it stays longer than the task, which must not be delivered twice.
    first, log = start_worker(CELERY_VISIBILITY_TIMEOUT="2")
    result = ping.apply_async(args=["survivor"], kwargs={"hold_seconds": 1}, queue=queue)
    wait_for_line(log, "Task portal.tasks.ping")
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=10)

    start_worker(CELERY_VISIBILITY_TIMEOUT="2")

    assert result.get(timeout=RESULT_TIMEOUT) == HealthPing.objects.get(note="survivor").pk
    assert HealthPing.objects.filter(note="survivor").count() == 1
