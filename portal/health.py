"""Whether this process answers (/healthz) and whether it can serve (/readyz), for load balancers
and orchestrators: JSON, without secrets, 503 when not ready.

Readiness asks the database (reachable, every migration applied), Redis (when configured), the
Celery workers (every queue has one answering within ``READY_WORKER_SECONDS``) and beat (its
every-minute job ran within ``READY_BEAT_SECONDS``). The checks are django-health-check's where it
has them.
"""

import asyncio
import dataclasses
import datetime
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Max
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django_celery_beat.models import PeriodicTask
from health_check import Database
from health_check.base import HealthCheck
from health_check.contrib.redis import Redis
from health_check.exceptions import ServiceUnavailable
from redis.asyncio import Redis as RedisClient

from .celery import app

# Beat sends it every minute (portal.reference); its last sending says beat is alive.
BEAT_HEARTBEAT_TASK = "outbox.tasks.drain_outbox"


@dataclasses.dataclass
class MigrationsApplied(HealthCheck):
    """Every migration of the code is applied: a node started before `migrate` ran is not ready."""

    def run(self):
        with connection.temporary_connection():
            executor = MigrationExecutor(connection)
            waiting = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if waiting:
            raise ServiceUnavailable(f"{len(waiting)} migrations not applied; run manage.py migrate")


@dataclasses.dataclass
class BeatRan(HealthCheck):
    """Celery beat sent its every-minute job recently."""

    within: datetime.timedelta = dataclasses.field(default=datetime.timedelta(minutes=3))

    def run(self):
        with connection.temporary_connection():
            last = PeriodicTask.objects.filter(task=BEAT_HEARTBEAT_TASK, enabled=True).aggregate(
                last=Max("last_run_at")
            )["last"]
        if last is None:
            raise ServiceUnavailable("beat has never run (is `celery -A portal beat` started?)")
        late = timezone.now() - last
        if late > self.within:
            raise ServiceUnavailable(f"beat last ran {int(late.total_seconds())} s ago")


class _EveryQueueTaken(Exception):
    """Raised from a reply to stop listening for more: every queue has a worker."""


@dataclasses.dataclass
class WorkersTakeEveryQueue(HealthCheck):
    """A worker answers, and every queue (CELERY_TASK_QUEUES) has one taking it.

    One broadcast asking the workers' queues, whose listening ends at the reply that completes them.
    django-health-check's Ping listens for replies until none came for its whole timeout, then asks the
    queues of those that answered: every probe of a ready node took the timeout and more (3 s)."""

    timeout: datetime.timedelta = dataclasses.field(default=datetime.timedelta(seconds=2))

    def run(self):
        wanted = {queue.name for queue in app.conf.task_queues}
        answered, taken = [], set()

        def on_reply(reply: dict):
            for worker, queues in reply.items():
                answered.append(worker)
                taken.update(queue.get("name") for queue in queues if isinstance(queue, dict))
            if wanted <= taken:
                raise _EveryQueueTaken

        try:
            app.control.inspect(timeout=self.timeout.total_seconds(), callback=on_reply).active_queues()
        except _EveryQueueTaken:
            return
        except OSError as error:
            raise ServiceUnavailable("IOError") from error
        if not answered:
            raise ServiceUnavailable("Celery workers unavailable")
        raise ServiceUnavailable(f"No worker for Celery task queue {min(wanted - taken)}")


def readiness_checks() -> dict:
    """Each check by the name the answer gives it (the checks' own names would show addresses)."""
    checks = {"database": Database(), "migrations": MigrationsApplied()}
    if settings.REDIS_URL:
        checks["redis"] = Redis(client_factory=lambda: RedisClient.from_url(settings.REDIS_URL, socket_timeout=2))
    # A worker answers, and every queue (CELERY_TASK_QUEUES) has one taking it.
    checks["workers"] = WorkersTakeEveryQueue(timeout=datetime.timedelta(seconds=settings.READY_WORKER_SECONDS))
    checks["beat"] = BeatRan(within=datetime.timedelta(seconds=settings.READY_BEAT_SECONDS))
    return checks


@never_cache
def ready(request):
    """The checks, run side by side, answered in JSON: 200 when every one passed, else 503.

    A plain view with a thread per check, each running the check's own event loop: the page must answer
    wherever it is served, an event loop already running in the thread included.
    """
    checks = readiness_checks()
    with ThreadPoolExecutor(max_workers=len(checks)) as pool:
        results = list(pool.map(lambda check: asyncio.run(check.get_result()), checks.values()))
    answers = {name: str(result.error) if result.error else "ok" for name, result in zip(checks, results, strict=True)}
    ready = all(answer == "ok" for answer in answers.values())
    return JsonResponse({"status": "ready" if ready else "not ready", "checks": answers}, status=200 if ready else 503)


@never_cache
def alive(request):
    """The process answers: nothing else is asked, so a database outage never restarts the web nodes."""
    return JsonResponse({"status": "alive"})
