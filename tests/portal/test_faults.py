"""Faults, each with nothing lost: Redis stopped or hanging, PostgreSQL dropping the portal's
connections or unreachable, two people saving one update at the same instant.

Redis is a throwaway server of each test's own, stopped and started by the test (or a socket
that never answers); PostgreSQL's faults are a connection terminated from another one and an
address where nothing listens. The machine's shared Redis and PostgreSQL are never stopped.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.core import mail
from django.db import connection
from kombu import pools as kombu_pools

from actionplan.models import ProgressUpdate
from outbox import services as outbox
from outbox.models import Message
from portal import queues
from portal import tasks as portal_tasks
from portal.celery import app as celery_app
from portal.models import Notification
from steering.models import ProgressReport
from tests.conftest import _redis_answers, require_service

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ThrowawayRedis:
    """A Redis server of the test's own, on a free port, keeping nothing on disk."""

    def __init__(self, binary: str, folder: Path):
        self.binary, self.folder, self.port = binary, folder, free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while not _redis_answers(self.url):
            if time.monotonic() > deadline:
                raise AssertionError(f"the throwaway Redis on port {self.port} did not start")
            time.sleep(0.05)

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None

    def queued(self, queue: str) -> list[str]:
        """The ids of the tasks waiting in a queue."""
        import json

        import redis

        client = redis.Redis.from_url(self.url)
        return [json.loads(raw)["headers"]["id"] for raw in client.lrange(queue, 0, -1)]


@pytest.fixture
def throwaway_redis(tmp_path):
    binary = shutil.which("redis-server")
    if binary is None:
        require_service("redis-server is not installed: this test stops a Redis of its own")
    server = ThrowawayRedis(binary, tmp_path)
    server.start()
    yield server
    server.stop()


def _use_redis(broker_url: str, result_backend: str):
    # The Celery app read its broker and result backend when first used, and keeps connections to them.
    celery_app.conf.broker_url, celery_app.conf.result_backend = broker_url, result_backend
    kombu_pools.reset()  # kombu keeps its connection and producer pools in global registries
    celery_app._pool = None
    celery_app.__dict__.get("amqp") and setattr(celery_app.amqp, "_producer_pool", None)
    celery_app._backend_cache = None
    celery_app._local.__dict__.pop("backend", None)


@pytest.fixture
def portal_on(throwaway_redis, settings):
    """The portal's cache, Celery broker and Celery results on the throwaway Redis, as in production."""
    settings.CACHES = {
        "default": {
            "BACKEND": "portal.cache.FailSoftRedisCache",
            "LOCATION": throwaway_redis.url,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    original = celery_app.conf.broker_url, celery_app.conf.result_backend
    _use_redis(throwaway_redis.url, throwaway_redis.url)
    assert celery_app.backend.client.connection_pool.connection_kwargs["port"] == throwaway_redis.port
    yield throwaway_redis
    _use_redis(*original)


def test_the_portal_pages_load_when_redis_is_stopped(portal_on, world, as_user):
    portal_on.stop()

    assert as_user(world.reporter).get("/").status_code == 200
    assert as_user(world.committee).get("/steering/").status_code == 200
    assert as_user(world.officer).get(f"/activities/{world.activity.code}/").status_code == 200


def test_with_redis_configured_the_portal_uses_the_cache_that_goes_on_without_it(settings):
    if not settings.REDIS_URL:
        pytest.skip("REDIS_URL is not set: the portal's cache is per process")
    assert settings.CACHES["default"]["BACKEND"] == "portal.cache.FailSoftRedisCache"


def test_the_cache_misses_and_drops_writes_while_redis_is_stopped_and_works_again_once_it_is_back(portal_on):
    from django.core.cache import cache
    from redis.exceptions import RedisError

    portal_on.stop()

    assert cache.get("answer", "missed") == "missed"
    assert cache.get_many(["answer"]) == {} and not cache.has_key("answer")
    cache.set("answer", 42)
    cache.set_many({"answer": 42})
    assert cache.delete("answer") is False
    assert cache.get_or_set("answer", lambda: 42) == 42
    # Whether a lock was taken or a count is within its limit, only the caller can decide.
    with pytest.raises(RedisError):
        cache.add("lock", 1)

    portal_on.start()
    cache.set("answer", 42)
    assert cache.get("answer") == 42


@pytest.fixture
def hanging_redis(redis_url, settings, world):
    """A Redis that accepts connections and never answers (a failover, a firewall dropping packets):
    a listening socket that accepts nothing. The portal's cache, broker and results point at it.

    The world is built first: each of its rows would drop the cached dashboard, a second each on it.
    """
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    url = f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": url}}
    original = celery_app.conf.broker_url, celery_app.conf.result_backend
    _use_redis(url, url)
    yield url
    _use_redis(*original)
    listener.close()


def test_a_report_asked_for_while_redis_hangs_is_accepted_within_seconds_and_waits_in_the_outbox(
    hanging_redis, world, api, django_capture_on_commit_callbacks
):
    def hung(*_arguments):
        raise TimeoutError("the request hung on Redis for 30 s")

    # Without socket timeouts the request would wait forever: stop it after 30 s.
    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(30)
    started = time.monotonic()
    try:
        with django_capture_on_commit_callbacks(execute=True) as after_commit:
            asked = api(world.officer).post("/api/v1/reports/", {"period": world.period.code}, format="json")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    took = time.monotonic() - started

    assert asked.status_code == 201, asked.content
    assert took < 15  # the cache gives up after 1 s, publishing after 2 s a try
    assert ProgressReport.objects.get().state == "queued"
    [waiting] = Message.objects.all()
    assert after_commit and waiting.is_pending and waiting.attempts == 1  # tried after the commit, and refused
    # A queue that hangs is the queue's fault, not the job's: it counts no failure towards giving the job up.
    assert waiting.failures == 0, waiting.last_error


def start_worker(redis_url: str, media: Path, log: Path) -> subprocess.Popen:
    """A real worker on the throwaway Redis and the test database."""
    settings_dict = connection.settings_dict
    database_url = (
        f"postgres://{settings_dict['USER']}:{settings_dict['PASSWORD'] or ''}@{settings_dict['HOST']}:"
        f"{settings_dict['PORT'] or 5432}/{settings_dict['NAME']}"
    )
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "portal", "worker", "--pool", "solo", "--without-gossip",
         "--without-mingle", "--without-heartbeat", "--loglevel", "INFO", "--logfile", str(log)],
        cwd=ROOT,
        env={**os.environ, "DEBUG": "true", "DATABASE_URL": database_url, "REDIS_URL": redis_url,
             "MEDIA_ROOT": str(media)},
        start_new_session=True,
    )  # fmt: skip


def wait_for(predicate, timeout=90, what=""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"waited {timeout} s for {what}")


def test_submissions_made_while_redis_is_stopped_are_kept_and_their_jobs_and_e_mails_go_once_it_is_back(
    portal_on, transactional_db, world, api, settings, tmp_path
):
    if connection.vendor != "postgresql":
        require_service("DATABASE_URL is not PostgreSQL: the worker shares the test database")
    settings.MEDIA_ROOT = tmp_path / "media"
    reporter, officer = api(world.reporter), api(world.officer)
    portal_on.stop()

    created = reporter.post(
        "/api/v1/updates/",
        {"activity": world.activity.code, "period": world.period.code, "office": world.office.code,
         "rag": "on_track", "percent_complete": 40},
        format="json",
    )  # fmt: skip
    assert created.status_code == 201, created.content
    submitted = reporter.post(f"/api/v1/updates/{created.json()['id']}/submit/")
    assert submitted.status_code == 200, submitted.content
    started = time.monotonic()
    asked = officer.post("/api/v1/reports/", {"period": world.period.code}, format="json")
    assert asked.status_code == 201, asked.content
    # Publishing gives up at once on a refused connection (a subscription to results retried for 20 s).
    assert time.monotonic() - started < 5

    update = ProgressUpdate.objects.get(pk=created.json()["id"])
    assert (update.state, update.percent_complete) == ("submitted", 40)
    report = ProgressReport.objects.get(pk=asked.json()["id"])
    assert report.state == "queued"
    [waiting] = Message.objects.all()
    assert waiting.is_pending and waiting.kwargs == {"report_id": str(report.pk), "task_id": report.task_id}
    assert waiting.failures == 0, waiting.last_error  # the queue refused it: no failure of its own
    # The officer's e-mail of the submission waits for the hourly batch, which beat sends through Redis.
    [told] = Notification.objects.filter(recipient=world.officer, kind="update_submitted")
    assert told.emailed_at is None and mail.outbox == []
    assert outbox.drain() == 0  # still down

    portal_on.start()
    assert outbox.drain() == 1
    assert outbox.drain() == 0
    assert portal_on.queued(queues.queue_name(queues.REPORTS)) == [report.task_id]

    worker = start_worker(portal_on.url, settings.MEDIA_ROOT, tmp_path / "worker.log")
    try:
        wait_for(lambda: ProgressReport.objects.get(pk=report.pk).state in ("succeeded", "failed"), what="the report")
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    report.refresh_from_db()
    assert (report.state, report.attempts) == ("succeeded", 1), report.error

    assert portal_tasks.send_batched_notifications() == 1
    assert portal_tasks.send_batched_notifications() == 0
    assert [message.to for message in mail.outbox] == [[world.officer.email]]


def test_a_review_made_while_redis_is_stopped_tells_the_author_at_once_and_once(
    portal_on, transactional_db, world, api
):
    update = ProgressUpdate.objects.create(
        activity=world.activity, period=world.period, office=world.office, author=world.reporter,
        state=ProgressUpdate.State.SUBMITTED, rag="on_track", percent_complete=40,
    )  # fmt: skip
    portal_on.stop()

    approved = api(world.officer).post(f"/api/v1/updates/{update.pk}/approve/", {"comment": "Good."}, format="json")

    assert approved.status_code == 200, approved.content
    assert [message.to for message in mail.outbox] == [[world.reporter.email]]
    portal_on.start()
    assert portal_tasks.send_batched_notifications() == 0
    assert len(mail.outbox) == 1


def test_the_notices_of_a_change_are_written_with_it_so_a_crash_right_after_the_commit_loses_none(
    committee_world, django_capture_on_commit_callbacks
):
    import datetime

    from actionplan import services as updates
    from steering import services as steering

    world = committee_world
    # Nothing registered to run after the commit runs here: as if the process died right after it.
    with django_capture_on_commit_callbacks(execute=False):
        update = updates.create_update(
            by=world.reporter, activity=world.activity, period=world.period, office=world.office, rag="on_track",
            percent_complete=20,
        )  # fmt: skip
        updates.submit_update(by=world.reporter, update=update)
        updates.add_comment(by=world.officer, update=update, text="Which workshops?")
        updates.return_update(by=world.officer, update=update, comment="Name the workshops.")
        steering.add_action_item(
            by=world.secretary, meeting=world.meeting, description="Send the figures", owner_user=world.reporter,
            due_on=datetime.date(2020, 10, 1),
        )  # fmt: skip

    kinds = sorted(Notification.objects.values_list("recipient__username", "kind"))
    assert kinds == [
        ("officer", "update_submitted"),
        ("reporter.roseap", "action_item"),
        ("reporter.roseap", "comment"),
        ("reporter.roseap", "update_reviewed"),
    ]
    # Each waits to be e-mailed: at once (retried by the hourly job) or within the hour.
    assert not Notification.objects.filter(emailed_at__isnull=False).exists()


# PostgreSQL dropping the portal's connections (what a restart does) ------------------------


def database_url(**options) -> str:
    settings_dict = connection.settings_dict
    query = "&".join(f"{name}={value}" for name, value in options.items())
    return (
        f"postgres://{settings_dict['USER']}:{settings_dict['PASSWORD'] or ''}@{settings_dict['HOST']}:"
        f"{settings_dict['PORT'] or 5432}/{settings_dict['NAME']}" + (f"?{query}" if query else "")
    )


@contextmanager
def served_by_gunicorn(database: str, log: Path, **env):
    """The portal served by gunicorn: one sync worker, which keeps its database connection between
    requests (as in production)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "portal.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--error-logfile", str(log)],
        cwd=ROOT,
        env={**os.environ, "DEBUG": "true", "DATABASE_URL": database, "CONN_MAX_AGE": "60", **env},
        start_new_session=True,
    )  # fmt: skip
    try:
        wait_for(lambda: _answers(port), timeout=30, what="gunicorn")
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)


@pytest.fixture
def gunicorn(transactional_db, tmp_path):
    """The portal served by gunicorn on the test database, its connections named for the test to find them."""
    if connection.vendor != "postgresql":
        require_service("DATABASE_URL is not PostgreSQL: this test drops PostgreSQL connections")
    name = f"faults-{os.getpid()}-{time.monotonic_ns()}"
    with served_by_gunicorn(database_url(application_name=name), tmp_path / "gunicorn.log") as base:
        yield base, name


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def call(base: str, path: str, key: str, body: dict | None = None, headers: dict | None = None) -> tuple[int, dict]:
    import json
    import urllib.error
    import urllib.request

    request = urllib.request.Request(  # noqa: S310 -- http to the test's own server
        base + path,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Token {key}", "Content-Type": "application/json", "Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 -- the test's own server
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        if headers is not None:
            headers.update(error.headers)
        body = error.read().decode(errors="replace")
        try:
            return error.code, json.loads(body)
        except ValueError:
            return error.code, {"body": body[:500]}


def backends_of(application_name: str) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s", [application_name])
        return [pid for (pid,) in cursor.fetchall()]


def test_requests_after_postgresql_drops_the_portals_connections_succeed_and_the_update_is_kept(gunicorn, world):
    from portal.tokens import issue_token

    base, application_name = gunicorn
    _token, key = issue_token(user=world.reporter, name="faults")
    assert call(base, "/api/v1/updates/", key)[0] == 200
    [backend] = backends_of(application_name)  # kept open between requests (CONN_MAX_AGE)

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [backend])
    wait_for(lambda: backends_of(application_name) == [], timeout=10, what="the connection to end")

    status, created = call(
        base,
        "/api/v1/updates/",
        key,
        {"activity": world.activity.code, "period": world.period.code, "office": world.office.code,
         "rag": "on_track", "percent_complete": 40},
    )  # fmt: skip
    assert status == 201, created
    assert ProgressUpdate.objects.get(pk=created["id"]).percent_complete == 40
    assert call(base, f"/api/v1/updates/{created['id']}/", key)[0] == 200


def test_while_postgresql_is_down_the_api_answers_503_with_when_to_try_again(tmp_path):
    nowhere = f"postgres://postgres@127.0.0.1:{free_port()}/jap"  # nothing listens there
    production = {
        "DEBUG": "false", "SECRET_KEY": "k" * 50, "ALLOWED_HOSTS": "127.0.0.1", "SECURE_SSL_REDIRECT": "false",
    }  # fmt: skip
    headers = {}

    with served_by_gunicorn(nowhere, tmp_path / "gunicorn.log", **production) as base:
        status, body = call(base, "/api/v1/updates/", "a-token", headers=headers)

    assert status == 503, body
    assert body["code"] == "database_unavailable" and "Try again" in body["detail"]
    assert headers["Retry-After"] == "10"


@pytest.mark.urls("tests.portal.database_down_urls")
def test_a_page_whose_database_is_gone_says_so_and_when_to_try_again(client, db):
    client.raise_request_exception = False

    response = client.get("/database-gone/")

    assert response.status_code == 503 and response["Retry-After"] == "10"
    assert "cannot reach its database" in response.content.decode()


@pytest.mark.urls("tests.portal.database_down_urls")
def test_an_api_call_whose_database_is_gone_answers_503_in_json(client, db):
    client.raise_request_exception = False

    response = client.get("/api/v1/database-gone/")

    assert response.status_code == 503 and response.json()["code"] == "database_unavailable"


# Two reporters saving one update at the same instant ---------------------------------------


class SimultaneousSaves:
    """Run two requests in two threads (each its own database connection and transaction) at once.

    Each request, once it has checked the version and is about to write the row, waits up to
    a second for the other to get there too. An edit that compares and sets the version
    atomically holds the other one back before its check, so only one ever gets there; an
    edit that reads the version and writes later lets both through with the same version.
    """

    def __init__(self):
        import threading

        self.threading = threading
        self.at_the_write = threading.Barrier(2)
        self.racing = threading.local()

    def _wait_for_the_other(self, **_signal_arguments):
        if getattr(self.racing, "on", False):
            try:
                self.at_the_write.wait(timeout=1)
            except self.threading.BrokenBarrierError:
                pass  # the other is held back (or already done): go on alone

    def run(self, *requests):
        from django.db.models.signals import pre_save

        start, answers = self.threading.Barrier(len(requests)), {}

        def race(index, request):
            self.racing.on = True
            try:
                start.wait(timeout=10)
                answers[index] = request()
            finally:
                connection.close()

        pre_save.connect(self._wait_for_the_other, sender=ProgressUpdate, dispatch_uid="simultaneous-saves")
        try:
            threads = [self.threading.Thread(target=race, args=pair) for pair in enumerate(requests)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=30)
        finally:
            pre_save.disconnect(sender=ProgressUpdate, dispatch_uid="simultaneous-saves")
        return [answers[index] for index in range(len(requests))]


@pytest.fixture
def two_reporters(transactional_db, world):
    """The world's reporter and a colleague of the same office, both about to change its draft (version 1)."""
    from tests import factories

    if connection.vendor != "postgresql":
        require_service("DATABASE_URL is not PostgreSQL: simultaneous transactions need it")
    colleague = factories.UserFactory(username="colleague.roseap")
    colleague.groups.add(*world.reporter.groups.all())
    factories.MembershipFactory(user=colleague, office=world.office)
    draft = factories.ProgressUpdateFactory(
        activity=world.activity, period=world.period, office=world.office, author=world.reporter
    )
    return world.reporter, colleague, draft


def test_two_api_edits_of_one_version_at_the_same_instant_one_wins_the_other_is_told_why(two_reporters, api):
    first, second, draft = two_reporters
    url = f"/api/v1/updates/{draft.pk}/"
    clients = api(first), api(second)

    answers = SimultaneousSaves().run(
        lambda: clients[0].patch(url, {"percent_complete": 60}, format="json", HTTP_IF_MATCH='"1"'),
        lambda: clients[1].patch(url, {"percent_complete": 70}, format="json", HTTP_IF_MATCH='"1"'),
    )

    assert sorted(answer.status_code for answer in answers) == [200, 412]
    [won] = [answer for answer in answers if answer.status_code == 200]
    [lost] = [answer for answer in answers if answer.status_code == 412]
    assert "changed since you read it" in str(lost.json()) and lost.json()["current_version"] == 2
    draft.refresh_from_db()
    assert (draft.version, draft.percent_complete) == (2, won.json()["percent_complete"])


def test_two_browser_edits_of_one_version_at_the_same_instant_one_wins_the_other_keeps_its_input(two_reporters):
    from django.test import Client
    from django.urls import reverse

    first, second, draft = two_reporters
    world_data = {
        "period": draft.period.code, "office": draft.office.code, "rag": "at_risk", "percent_complete": "40",
        "challenges": "", "next_steps": "", "version": "1",
    }  # fmt: skip
    clients = Client(), Client()
    clients[0].force_login(first)
    clients[1].force_login(second)
    url = reverse("update-edit", args=[draft.pk])

    answers = SimultaneousSaves().run(
        lambda: clients[0].post(url, {**world_data, "narrative": "First reporter's text"}),
        lambda: clients[1].post(url, {**world_data, "narrative": "Second reporter's text"}),
    )

    assert sorted(answer.status_code for answer in answers) == [200, 302]
    [lost] = [answer for answer in answers if answer.status_code == 200]
    page = lost.content.decode()
    assert "changed since you read it" in page
    loser = "First" if answers[0] is lost else "Second"
    assert f"{loser} reporter&#x27;s text" in page
    draft.refresh_from_db()
    assert draft.version == 2 and loser not in draft.narrative


def test_two_officers_reviewing_one_update_at_the_same_instant_one_decides_the_other_is_told_it_is_decided(
    transactional_db, world, api
):
    from tests import factories

    if connection.vendor != "postgresql":
        require_service("DATABASE_URL is not PostgreSQL: simultaneous transactions need it")
    colleague = factories.UserFactory(username="officer.two")
    colleague.groups.add(*world.officer.groups.all())
    submitted = factories.ProgressUpdateFactory(
        activity=world.activity, period=world.period, office=world.office, author=world.reporter, state="submitted"
    )
    url = f"/api/v1/updates/{submitted.pk}"
    clients = api(world.officer), api(colleague)

    answers = SimultaneousSaves().run(
        lambda: clients[0].post(f"{url}/approve/", {"comment": "Well documented."}, format="json"),
        lambda: clients[1].post(f"{url}/return/", {"comment": "Name the workshops."}, format="json"),
    )

    assert sorted(answer.status_code for answer in answers) == [200, 409]
    [won] = [answer for answer in answers if answer.status_code == 200]
    [lost] = [answer for answer in answers if answer.status_code == 409]
    assert "only a submitted update can be reviewed" in str(lost.json())
    submitted.refresh_from_db()
    assert (submitted.state, submitted.version) == (won.json()["state"], 2)
