"""Each kind of job waits in a queue of its own: a burst of reports never delays an e-mail."""

import time

import pytest
from django.contrib.auth import get_user_model

from actionplan.models import ReportingPeriod
from portal import queues
from portal.celery import app
from portal.demo import seed_demo
from portal.models import Notification
from portal.reference import load_reference_data
from portal.tasks import send_batched_notifications
from steering.models import ProgressReport
from steering.reports import services
from tests.conftest import wait_for_line

PROJECT_APPS = ("portal.", "actionplan.", "steering.", "audit.", "outbox.", "webhooks.")


def test_every_task_of_the_portal_is_given_its_queue_deliberately():
    app.loader.import_default_modules()
    ours = {name for name in app.tasks if name.startswith(PROJECT_APPS)}
    assert ours == set(queues.QUEUE_OF_TASK)


@pytest.mark.parametrize(
    ("task", "kind"),
    [
        ("steering.tasks.compile_report", "reports"),
        ("actionplan.tasks.run_import", "reports"),
        ("steering.tasks.remind_due_updates", "email"),
        ("webhooks.tasks.send_delivery", "webhooks"),
        ("outbox.tasks.drain_outbox", "housekeeping"),
        ("someone.elses.task", "housekeeping"),
    ],
)
def test_a_task_is_sent_to_the_queue_of_its_kind_named_with_the_prefix(settings, task, kind):
    settings.CELERY_QUEUE_PREFIX = "staging-"
    assert queues.route(task, (), {}, {}) == {"queue": f"staging-{kind}"}


def test_an_email_is_sent_while_a_long_report_keeps_the_report_worker_busy(queue, settings, start_worker, tmp_path):
    # This test's own queue names, so that no other worker, nor another test's leftovers, are involved.
    settings.CELERY_QUEUE_PREFIX = f"{queue}-"
    settings.MEDIA_ROOT = tmp_path / "media"
    load_reference_data()
    seed_demo(scale="XS", seed=2018, password="x")
    officer = get_user_model().objects.get(username="officer")
    worker_env = {"MEDIA_ROOT": str(settings.MEDIA_ROOT), "EMAIL_URL": f"filemail:///{tmp_path / 'mail'}"}
    _, reports_log = start_worker(queues=[f"{queue}-reports"], **worker_env)
    _, email_log = start_worker(queues=[f"{queue}-email"], **worker_env)
    wait_for_line(reports_log, "ready")
    wait_for_line(email_log, "ready")

    period = ReportingPeriod.objects.order_by("-starts_on")[1]
    report, _ = services.request_report(by=officer, plan=period.plan, period=period)
    notification = Notification.objects.create(
        recipient=officer, kind="update_submitted", subject="Sent while the report compiles", body="",
        delivery=Notification.Delivery.HOURLY,
    )  # fmt: skip
    send_batched_notifications.apply_async()

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not Notification.objects.filter(pk=notification.pk, emailed_at__isnull=False):
        time.sleep(0.1)
    emailed_at = Notification.objects.get(pk=notification.pk).emailed_at
    while time.monotonic() < deadline and ProgressReport.objects.filter(pk=report.pk, state="queued"):
        time.sleep(0.1)
    report.refresh_from_db()
    assert emailed_at is not None
    assert report.state != "queued", "the report worker never took the report"
    # A worker taking both queues would compile the report (seconds), then send the e-mail.
    assert report.finished_at is None or report.finished_at > emailed_at


def test_no_task_asks_for_a_soft_time_limit_beyond_its_time_limit(settings):
    # Celery refuses to send such a task (beat logs an error and never runs it).
    app.loader.import_default_modules()
    for name in queues.QUEUE_OF_TASK:
        task = app.tasks[name]
        hard = task.time_limit or settings.CELERY_TASK_TIME_LIMIT
        soft = task.soft_time_limit or settings.CELERY_TASK_SOFT_TIME_LIMIT
        assert soft <= hard, name
