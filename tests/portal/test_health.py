"""/healthz says the process answers; /readyz whether the node can serve: database, migrations,
Redis, a worker and beat, in JSON, 503 when one is missing."""

import datetime
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from portal.celery import app
from portal.health import BEAT_HEARTBEAT_TASK
from tests.conftest import ROOT, database_url_of_tests, wait_for_line


def beat_ran(ago: datetime.timedelta):
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.MINUTES)
    PeriodicTask.objects.update_or_create(
        name="outbox drain",
        defaults={"task": BEAT_HEARTBEAT_TASK, "interval": every_minute, "last_run_at": timezone.now() - ago},
    )


def test_the_process_answers_alive_without_asking_the_database(client):
    # No database for this test: a query would fail it.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "alive"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db(transaction=True)
def test_a_node_without_a_worker_or_beat_is_not_ready_and_says_which(client, settings):
    settings.READY_WORKER_SECONDS = 1
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["migrations"] == "ok"
    assert body["checks"]["workers"] == "Unavailable: Celery workers unavailable"
    assert body["checks"]["beat"].startswith("Unavailable: beat has never run")


@pytest.mark.django_db(transaction=True)
def test_beat_that_last_ran_too_long_ago_makes_the_node_not_ready(client, settings):
    settings.READY_WORKER_SECONDS = 1
    beat_ran(ago=datetime.timedelta(minutes=10))
    assert client.get("/readyz").json()["checks"]["beat"] == "Unavailable: beat last ran 600 s ago"


def test_a_node_with_its_database_redis_a_worker_and_beat_is_ready(client, settings, start_worker, redis_url):
    beat_ran(ago=datetime.timedelta(seconds=30))
    # Every queue has a worker: here one takes them all, after the other tests' leftovers are dropped.
    app.control.purge()
    _, log = start_worker(queues=[queue.name for queue in settings.CELERY_TASK_QUEUES])
    wait_for_line(log, "ready")
    # The probe stops listening at the reply that shows every queue taken: it never waits out its timeout.
    settings.READY_WORKER_SECONDS = 30
    answers = []
    probe = threading.Thread(target=lambda: answers.append(client.get("/readyz")), daemon=True)
    probe.start()
    probe.join(timeout=20)
    assert answers, "/readyz waits out READY_WORKER_SECONDS"
    response = answers[0]
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "status": "ready",
        "checks": {"database": "ok", "migrations": "ok", "redis": "ok", "workers": "ok", "beat": "ok"},
    }


def test_a_queue_without_a_worker_makes_the_node_not_ready(client, settings, start_worker):
    beat_ran(ago=datetime.timedelta(seconds=30))
    app.control.purge()
    _, log = start_worker(queues=[queue.name for queue in settings.CELERY_TASK_QUEUES if "reports" not in queue.name])
    wait_for_line(log, "ready")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["workers"] == "Unavailable: No worker for Celery task queue reports"


@pytest.mark.django_db(transaction=True)
def test_readiness_names_no_password_or_address_of_the_services(client, settings):
    settings.READY_WORKER_SECONDS = 1
    text = client.get("/readyz").content.decode()
    database = settings.DATABASES["default"]
    assert database["NAME"] not in text
    assert (database["PASSWORD"] or "no password") not in text
    assert "redis://" not in text


def test_a_running_beat_makes_the_node_ready_within_its_jobs_interval(client, queue, settings, tmp_path):
    # Beat writes a job's last run when it sends it: kept for minutes in its memory, /readyz would call a
    # running beat dead.
    settings.CELERY_QUEUE_PREFIX = f"{queue}-"
    every_second, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.create(name="outbox drain", task=BEAT_HEARTBEAT_TASK, interval=every_second)
    log = tmp_path / "beat.log"
    beat = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "portal", "beat", "--loglevel", "INFO", "--logfile", str(log),
         "--schedule", str(tmp_path / "beat-schedule")],
        cwd=ROOT,
        env={**os.environ, "DEBUG": "true", "DATABASE_URL": database_url_of_tests(),
             "CELERY_QUEUE_PREFIX": f"{queue}-"},
        start_new_session=True,
    )  # fmt: skip
    drain = PeriodicTask.objects.filter(task=BEAT_HEARTBEAT_TASK)
    try:
        wait_for_line(log, "Sending due task outbox drain", timeout=30)
        runs = set()
        deadline = time.monotonic() + 15
        # Beat writes its first sending at once whatever the setting: the test waits for a later one.
        while time.monotonic() < deadline and len(runs - {None}) < 2:
            runs.add(drain.get().last_run_at)
            time.sleep(0.2)
        assert len(runs - {None}) >= 2, f"beat wrote only {runs} in 15 s"
    finally:
        os.killpg(beat.pid, signal.SIGKILL)
        beat.wait(timeout=10)
    settings.READY_WORKER_SECONDS = 1
    assert client.get("/readyz").json()["checks"]["beat"] == "ok"
