"""/metrics: Prometheus's text format for a scraper holding the token or at an allowed address; request time and
queries by view, Celery queue lengths, and reports, e-mails and sign-ins read from the database at each scrape."""

import datetime
import http.client
import ipaddress
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
import redis
from axes.models import AccessFailureLog
from django.core import mail
from django.db import connection, reset_queries
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from portal import notifications
from portal.models import EmailFailure, Notification
from portal.tasks import ping
from steering import schedules
from steering.models import ProgressReport, SentNotification
from tests import factories
from tests.portal.test_server_header import ROOT, free_port

TOKEN = "metrics-token-" + "0123456789abcdef" * 2
FAMILIES = {
    "portal_http_request_duration_seconds",
    "portal_http_request_queries",
    "portal_celery_queue_length",
    "portal_report_compile_seconds",
    "portal_reports_failed_recent",
    "portal_reports_in_progress",
    "portal_emails_sent_recent",
    "portal_emails_failed_recent",
    "portal_login_failures_recent",
    "portal_login_lockouts_recent",
    "portal_login_locked_out",
    "portal_metrics_source_up",
}


@pytest.fixture
def token(settings):
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def scrape(client) -> dict:
    """Read /metrics with the token; every sample by its name, then its labels."""
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[frozenset(sample.labels.items())] = sample.value
    return samples


def value(samples, name, **labels) -> float:
    return samples.get(name, {}).get(frozenset(labels.items()), 0.0)


def test_metrics_is_not_there_when_neither_a_token_nor_addresses_are_configured(client, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_ADDRESSES = []
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 404


def test_metrics_are_refused_without_the_token(client, token, db):
    assert client.get("/metrics").status_code == 403


@pytest.mark.parametrize("header", [f"Bearer {TOKEN[:-1]}x", f"Token {TOKEN}", "Bearer ", TOKEN])
def test_metrics_are_refused_with_a_wrong_token(client, token, db, header):
    assert client.get("/metrics", HTTP_AUTHORIZATION=header).status_code == 403


def test_metrics_are_refused_to_an_address_outside_the_allowed_networks(client, settings, db):
    settings.METRICS_ALLOWED_ADDRESSES = [ipaddress.ip_network("10.0.0.0/8")]
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.7").status_code == 403


def test_an_allowed_address_is_read_as_the_trusted_proxy_saw_it(client, settings, db):
    settings.METRICS_ALLOWED_ADDRESSES = [ipaddress.ip_network("10.0.0.0/8")]
    settings.TRUSTED_PROXY_COUNT = 1
    # The proxy (192.0.2.1) appends the address it was reached from; what the client wrote first is ignored.
    allowed = client.get("/metrics", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR="192.0.2.9, 10.1.2.3")
    forged = client.get("/metrics", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR="10.1.2.3, 192.0.2.9")
    assert allowed.status_code == 200
    assert forged.status_code == 403


def test_metrics_are_served_over_plain_http_where_other_pages_redirect(client, token, settings, db):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get(reverse("login")).status_code == 301
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200


def test_the_exposition_parses_and_holds_every_family(client, token, db, redis_url):
    # The Celery queues' lengths are read from Redis.
    client.get(reverse("login"))
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    assert {family.name for family in text_string_to_metric_families(response.content.decode())} >= FAMILIES


def test_a_request_is_timed_under_its_views_name_method_and_status_class(client, token, db):
    labels = {"view": "login", "method": "GET", "status": "2xx"}
    before = value(scrape(client), "portal_http_request_duration_seconds_count", **labels)
    client.get(reverse("login"))
    samples = scrape(client)
    assert value(samples, "portal_http_request_duration_seconds_count", **labels) == before + 1
    # Labelled by the route's name, never by the path a client typed.
    assert not any("/accounts/" in str(key) for key in samples["portal_http_request_duration_seconds_count"])


def test_the_queries_a_request_made_are_observed_under_its_view(client, token, world):
    before = scrape(client)
    client.force_login(world.officer)
    reset_queries()  # the log keeps at most 9,000 queries, after which it counts none
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("notifications")).status_code == 200
    made = len(queries)  # read before the next request clears the log
    after = scrape(client)
    assert made > 0
    assert value(after, "portal_http_request_queries_count", view="notifications") == (
        value(before, "portal_http_request_queries_count", view="notifications") + 1
    )
    assert value(after, "portal_http_request_queries_sum", view="notifications") == (
        value(before, "portal_http_request_queries_sum", view="notifications") + made
    )


def test_a_queues_length_is_the_number_of_jobs_waiting_in_it(client, token, settings, queue, redis_url):
    # Queue names of this test's own: no worker takes these jobs, and no other test's jobs are counted.
    settings.CELERY_QUEUE_PREFIX = f"{queue}-"
    try:
        for _ in range(3):
            ping.apply_async()
        # A job sent with a priority waits in a list of its own beside the queue's.
        ping.apply_async(priority=5)
        samples = scrape(client)
    finally:
        client_ = redis.Redis.from_url(redis_url)
        client_.delete(*client_.keys(f"{queue}-*"))
        client_.close()
    assert value(samples, "portal_celery_queue_length", queue="housekeeping") == 4
    assert value(samples, "portal_celery_queue_length", queue="email") == 0
    assert value(samples, "portal_metrics_source_up", source="redis") == 1


def finished_report(*, state, seconds, ago=datetime.timedelta(minutes=5)):
    finished_at = timezone.now() - ago
    files = {"snapshot": {}, "content_hash": "0" * 64, "pdf": "reports/r.pdf", "xlsx": "reports/r.xlsx"}
    return factories.ProgressReportFactory(
        state=state, started_at=finished_at - datetime.timedelta(seconds=seconds), finished_at=finished_at,
        **(files if state == ProgressReport.State.SUCCEEDED else {"error": "renderer failed"}),
    )  # fmt: skip


def test_report_compile_times_and_failures_are_those_of_the_reports_finished_in_the_window(client, token, db):
    finished_report(state=ProgressReport.State.SUCCEEDED, seconds=3)
    finished_report(state=ProgressReport.State.SUCCEEDED, seconds=40)
    finished_report(state=ProgressReport.State.FAILED, seconds=2)
    # Before the window (60 minutes): not counted.
    finished_report(state=ProgressReport.State.SUCCEEDED, seconds=3, ago=datetime.timedelta(hours=2))
    finished_report(state=ProgressReport.State.FAILED, seconds=3, ago=datetime.timedelta(hours=2))
    factories.ProgressReportFactory(state=ProgressReport.State.QUEUED)

    samples = scrape(client)
    assert value(samples, "portal_report_compile_seconds_bucket", le="5.0") == 1
    assert value(samples, "portal_report_compile_seconds_bucket", le="30.0") == 1
    assert value(samples, "portal_report_compile_seconds_bucket", le="60.0") == 2
    assert value(samples, "portal_report_compile_seconds_bucket", le="+Inf") == 2
    assert value(samples, "portal_report_compile_seconds_gsum") == pytest.approx(43)
    assert value(samples, "portal_reports_failed_recent") == 1
    assert value(samples, "portal_reports_in_progress", state="queued") == 1
    assert value(samples, "portal_reports_in_progress", state="running") == 0


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def refusing_mail_server(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port(), 2


def test_notification_e_mails_sent_and_refused_are_counted(client, token, settings, db):
    ada, grace, linus = (factories.UserFactory(email=f"{name}@example.org") for name in ("ada", "grace", "linus"))
    for user in (ada, ada, grace):  # two notifications of ada's go in one e-mail
        notifications.notify(recipients=[user], kind="update_submitted", subject="Submitted", url="/")
    assert notifications.send_due(Notification.Delivery.HOURLY) == 2
    assert len(mail.outbox) == 2

    notifications.notify(recipients=[linus], kind="update_submitted", subject="Submitted", url="/")
    refusing_mail_server(settings)
    assert notifications.send_due(Notification.Delivery.HOURLY) == 0

    samples = scrape(client)
    assert value(samples, "portal_emails_sent_recent", source="notifications") == 2
    assert value(samples, "portal_emails_failed_recent", source="notifications") == 1
    assert value(samples, "portal_emails_failed_recent", source="scheduled") == 0


def test_scheduled_e_mails_sent_and_refused_are_counted(client, token, settings, db):
    SentNotification.objects.create(kind=SentNotification.Kind.DUE_REMINDER, key="2018-Q3", recipient="a@example.org")
    # A compiled report's record is no e-mail.
    SentNotification.objects.create(kind=SentNotification.Kind.PERIOD_REPORT, key="2018-Q3")
    refusing_mail_server(settings)
    assert not schedules._send_once(
        kind=SentNotification.Kind.DUE_REMINDER, key="2018-Q3", recipient="b@example.org", subject="Due", body="Due"
    )

    samples = scrape(client)
    assert value(samples, "portal_emails_sent_recent", source="scheduled") == 1
    assert value(samples, "portal_emails_failed_recent", source="scheduled") == 1
    assert value(samples, "portal_emails_failed_recent", source="notifications") == 0


def test_a_new_e_mail_failure_forgets_those_past_keeping(db):
    old = EmailFailure.objects.create(kind="hourly")
    EmailFailure.objects.filter(pk=old.pk).update(failed_at=timezone.now() - EmailFailure.KEEP - datetime.timedelta(1))
    notifications.record_email_failure(kind="hourly")
    assert list(EmailFailure.objects.values_list("kind", flat=True)) == ["hourly"]
    assert not EmailFailure.objects.filter(pk=old.pk).exists()


@pytest.mark.usefixtures("fresh_counters")
def test_failed_sign_ins_and_lockouts_are_those_django_axes_recorded(client, token, settings, amina):
    settings.AXES_FAILURE_LIMIT = 3
    statuses = [
        client.post(reverse("login"), {"username": "amina", "password": f"wrong-{n}"}).status_code for n in range(4)
    ]
    assert statuses[-1] == 429

    failed = AccessFailureLog.objects.count()
    locked_out = AccessFailureLog.objects.filter(locked_out=True).count()
    assert failed >= 3 and locked_out >= 1

    samples = scrape(client)
    assert value(samples, "portal_login_failures_recent") == failed
    assert value(samples, "portal_login_lockouts_recent") == locked_out
    assert value(samples, "portal_login_locked_out") == 1


def test_a_scrape_makes_the_same_six_queries_however_many_rows(client, token, db, django_assert_num_queries):
    # Reports, notification e-mails, scheduled e-mails, e-mail failures, failed sign-ins, lockouts in force.
    with django_assert_num_queries(6):
        scrape(client)

    now = timezone.now()
    for seconds in (3, 40, 200):
        finished_report(state=ProgressReport.State.SUCCEEDED, seconds=seconds)
    users = [factories.UserFactory() for _ in range(5)]
    Notification.objects.bulk_create(
        Notification(recipient=user, kind="k", subject="s", delivery="hourly", emailed_at=now)
        for user in users
        for _ in range(4)
    )
    SentNotification.objects.bulk_create(
        SentNotification(kind="due_reminder", key=str(n), recipient=f"{n}@example.org") for n in range(20)
    )
    EmailFailure.objects.bulk_create(EmailFailure(kind="hourly") for _ in range(10))
    AccessFailureLog.objects.bulk_create(
        AccessFailureLog(username=f"u{n}", ip_address="192.0.2.1", user_agent="", http_accept="", path_info="/")
        for n in range(20)
    )
    with django_assert_num_queries(6):
        samples = scrape(client)
    assert value(samples, "portal_emails_sent_recent", source="notifications") == 5
    assert value(samples, "portal_login_failures_recent") == 20


def get(port: int, path: str, **headers) -> int:
    connection_ = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection_.request("GET", path, headers=headers)
        response = connection_.getresponse()
        response.read()
        return response.status
    finally:
        connection_.close()


def test_metrics_sum_the_requests_of_every_gunicorn_worker(postgres, transactional_db, redis_url):
    database = connection.settings_dict
    port = free_port()
    env = {
        **os.environ, "DEBUG": "true", "LOG_LEVEL": "WARNING", "METRICS_TOKEN": TOKEN, "READY_WORKER_SECONDS": "3",
        "DATABASE_URL": f"postgres://{database['USER']}:{database['PASSWORD'] or ''}@{database['HOST']}:"
        f"{database['PORT'] or 5432}/{database['NAME']}",
    }  # fmt: skip
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    # As the README starts it, from the project's directory, where it reads gunicorn.conf.py.
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "portal.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
        cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                get(port, "/metrics")  # refused without the token, and counted under its own view only
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)

        # /readyz waits for a worker's answer that never comes, holding its gunicorn worker meanwhile: a
        # /healthz answered before it ends was served by the other worker.
        readiness = threading.Thread(target=get, args=(port, "/readyz"))
        readiness.start()
        assert get(port, "/healthz") == 200
        assert readiness.is_alive(), "/readyz ended first: the two requests may have had one worker"
        readiness.join()

        response = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        response.request("GET", "/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        body = response.getresponse().read().decode()
        response.close()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    samples = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[frozenset(sample.labels.items())] = sample.value
    counts = "portal_http_request_duration_seconds_count"
    assert value(samples, counts, view="healthz", method="GET", status="2xx") == 1
    assert value(samples, counts, view="readyz", method="GET", status="5xx") == 1
