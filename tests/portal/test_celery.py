"""A real Celery worker on real Redis runs the health ping, and a task outlives its worker."""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection

from portal.models import HealthPing
from portal.tasks import ping

ROOT = Path(__file__).resolve().parents[2]
RESULT_TIMEOUT = 60


@pytest.fixture
def queue(redis_url, postgres, transactional_db):
    """A queue of this test's own, so that no other worker takes its tasks."""
    return f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def start_worker(queue, tmp_path):
    """Start a worker on the test database; stop it, and every other one started, at the end."""
    settings_dict = connection.settings_dict
    database_url = (
        f"postgres://{settings_dict['USER']}:{settings_dict['PASSWORD'] or ''}@{settings_dict['HOST']}:"
        f"{settings_dict['PORT'] or 5432}/{settings_dict['NAME']}"
    )
    workers = []

    def start(**extra_env):
        log = tmp_path / f"worker-{len(workers)}.log"
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "portal", "worker", "-Q", queue, "--pool", "solo",
             "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "INFO",
             "--hostname", f"{queue}-{len(workers)}@%h", "--logfile", str(log)],
            cwd=ROOT,
            env={**os.environ, "DEBUG": "true", "DATABASE_URL": database_url, **extra_env},
            start_new_session=True,
        )  # fmt: skip
        workers.append(process)
        return process, log

    yield start
    for process in workers:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def wait_for_line(log: Path, text: str, timeout: float = RESULT_TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists() and text in log.read_text():
            return
        time.sleep(0.1)
    raise AssertionError(f"{text!r} never appeared in the worker log:\n{log.read_text() if log.exists() else ''}")


def test_worker_runs_the_health_ping_and_writes_a_row(queue, start_worker):
    start_worker()

    row_id = ping.apply_async(args=["round trip"], queue=queue).get(timeout=RESULT_TIMEOUT)

    assert HealthPing.objects.get(pk=row_id).note == "round trip"


def test_task_sent_while_no_worker_runs_is_run_when_one_starts(queue, start_worker):
    result = ping.apply_async(args=["waited"], queue=queue)
    time.sleep(1)
    assert not HealthPing.objects.filter(note="waited").exists()

    start_worker()

    assert result.get(timeout=RESULT_TIMEOUT) == HealthPing.objects.get(note="waited").pk


def test_task_whose_worker_is_killed_runs_once_on_the_next_worker(queue, start_worker):
    # A short visibility timeout lets Redis hand the unacknowledged task to the next
    # worker soon; it stays longer than the task, which must not be delivered twice.
    first, log = start_worker(CELERY_VISIBILITY_TIMEOUT="15")
    result = ping.apply_async(args=["survivor"], kwargs={"hold_seconds": 5}, queue=queue)
    wait_for_line(log, "Task portal.tasks.ping")
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=10)

    start_worker(CELERY_VISIBILITY_TIMEOUT="15")

    assert result.get(timeout=RESULT_TIMEOUT) == HealthPing.objects.get(note="survivor").pk
    assert HealthPing.objects.filter(note="survivor").count() == 1
