"""What a scrape reads of the Celery queues (Redis) and of the database, at the time of the scrape.

The database's figures are those of the last ``METRICS_WINDOW_MINUTES``, as gauges: a window's count
goes down as well as up, and a row removed (a failed report compiled again) leaves no counter to mend.
Alert on them as they are (``portal_reports_failed_recent > 0``); no ``rate()`` is needed.
"""

import datetime
import logging

import redis
from axes.models import AccessAttempt, AccessFailureLog
from django.conf import settings
from django.db import DatabaseError
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.utils import timezone
from kombu.transport.redis import PRIORITY_STEPS, Channel
from prometheus_client.core import GaugeHistogramMetricFamily, GaugeMetricFamily

from portal import queues
from portal.models import EmailFailure, Notification
from steering.models import ProgressReport, SentNotification

logger = logging.getLogger(__name__)

# Upper bounds of the report compile time buckets, in seconds.
COMPILE_BUCKETS = (5, 10, 30, 60, 120, 300, 600)
NOTIFICATION_DELIVERIES = (Notification.Delivery.NOW, Notification.Delivery.HOURLY, Notification.Delivery.DAILY)


class ScrapeCollector:
    """The Celery queues' lengths, then the database's figures, then whether each source could be read."""

    def collect(self):
        up = GaugeMetricFamily(
            "portal_metrics_source_up", "Whether the scrape could read the source (1) or not (0).", labels=["source"]
        )
        if settings.REDIS_URL:
            try:
                yield _queue_lengths()
                up.add_metric(["redis"], 1)
            except redis.RedisError as error:
                logger.warning("Metrics: Redis not read (%s)", error)
                up.add_metric(["redis"], 0)
        now = timezone.now()
        since = now - datetime.timedelta(minutes=settings.METRICS_WINDOW_MINUTES)
        try:
            # Six aggregate queries, whatever the number of rows.
            families = [*_reports(since), *_emails(since), *_sign_ins(since, now)]
        except DatabaseError as error:
            logger.warning("Metrics: database not read (%s)", error)
            up.add_metric(["database"], 0)
        else:
            yield from families
            up.add_metric(["database"], 1)
        yield up


def _queue_lengths() -> GaugeMetricFamily:
    """The messages waiting in each Celery queue: the length of its Redis list (and of its priority lists)."""
    names = {kind: queues.queue_name(kind) for kind in queues.KINDS}
    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    with client, client.pipeline(transaction=False) as pipe:
        for name in names.values():
            for step in PRIORITY_STEPS:
                # kombu's own key for a priority: the queue's name, then a separator and the step.
                pipe.llen(f"{name}{Channel.sep}{step}" if step else name)
        lengths = pipe.execute()
    family = GaugeMetricFamily(
        "portal_celery_queue_length", "Jobs waiting in each Celery queue (its kind, no prefix).", labels=["queue"]
    )
    steps = len(PRIORITY_STEPS)
    for index, kind in enumerate(names):
        family.add_metric([kind], sum(lengths[index * steps : (index + 1) * steps]))
    return family


def _reports(since):
    duration = ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())
    State = ProgressReport.State
    compiled = Q(state=State.SUCCEEDED, started_at__isnull=False)
    finished = Q(state__in=[State.SUCCEEDED, State.FAILED], finished_at__gte=since)
    figures = (
        ProgressReport.objects.filter(finished | Q(state__in=ProgressReport.IN_PROGRESS))
        .annotate(duration=duration)
        .aggregate(
            compiled=Count("pk", filter=compiled),
            seconds=Sum("duration", filter=compiled),
            failed=Count("pk", filter=Q(state=State.FAILED)),
            queued=Count("pk", filter=Q(state=State.QUEUED)),
            running=Count("pk", filter=Q(state=State.RUNNING)),
            **{
                f"le_{bound}": Count("pk", filter=compiled & Q(duration__lte=datetime.timedelta(seconds=bound)))
                for bound in COMPILE_BUCKETS
            },
        )
    )
    buckets = [(str(float(bound)), figures[f"le_{bound}"]) for bound in COMPILE_BUCKETS]
    buckets.append(("+Inf", figures["compiled"]))
    seconds = figures["seconds"].total_seconds() if figures["seconds"] else 0.0
    yield GaugeHistogramMetricFamily(
        "portal_report_compile_seconds",
        "Compile time of the reports that succeeded within the window.",
        buckets=buckets,
        gsum_value=seconds,
    )
    yield GaugeMetricFamily(
        "portal_reports_failed_recent", "Reports whose compilation failed within the window.", value=figures["failed"]
    )
    in_progress = GaugeMetricFamily(
        "portal_reports_in_progress", "Reports queued or being compiled now.", labels=["state"]
    )
    in_progress.add_metric([State.QUEUED], figures["queued"])
    in_progress.add_metric([State.RUNNING], figures["running"])
    yield in_progress


def _emails(since):
    # One e-mail per recipient and claim, however many notifications it carries.
    notifications = (
        Notification.objects.filter(delivery__in=NOTIFICATION_DELIVERIES, emailed_at__gte=since)
        .values("recipient", "emailed_at")
        .distinct()
        .count()
    )
    # A scheduled job's e-mail has a recipient; its compiled reports have none.
    scheduled = SentNotification.objects.filter(sent_at__gte=since).exclude(recipient="").count()
    failures = EmailFailure.objects.filter(failed_at__gte=since).aggregate(
        notifications=Count("pk", filter=Q(kind__in=NOTIFICATION_DELIVERIES)),
        scheduled=Count("pk", filter=~Q(kind__in=NOTIFICATION_DELIVERIES)),
    )
    sent = GaugeMetricFamily(
        "portal_emails_sent_recent",
        "E-mails sent within the window: notifications, and scheduled reminders, digests and reports.",
        labels=["source"],
    )
    sent.add_metric(["notifications"], notifications)
    sent.add_metric(["scheduled"], scheduled)
    yield sent
    failed = GaugeMetricFamily(
        "portal_emails_failed_recent", "E-mails the mail server refused within the window.", labels=["source"]
    )
    failed.add_metric(["notifications"], failures["notifications"])
    failed.add_metric(["scheduled"], failures["scheduled"])
    yield failed


def _sign_ins(since, now):
    failures = AccessFailureLog.objects.filter(attempt_time__gte=since).aggregate(
        failed=Count("pk"), locked_out=Count("pk", filter=Q(locked_out=True))
    )
    # django-axes's lockouts still in force: enough failures, the last within the cool-off time.
    locked_now = AccessAttempt.objects.filter(
        failures_since_start__gte=settings.AXES_FAILURE_LIMIT, attempt_time__gte=now - settings.AXES_COOLOFF_TIME
    ).count()
    yield GaugeMetricFamily(
        "portal_login_failures_recent",
        "Failed sign-ins (wrong password or locked out) within the window.",
        value=failures["failed"],
    )
    yield GaugeMetricFamily(
        "portal_login_lockouts_recent",
        "Failed sign-ins that locked an account out, or met a lockout, within the window.",
        value=failures["locked_out"],
    )
    yield GaugeMetricFamily("portal_login_locked_out", "Username and address pairs locked out now.", value=locked_now)
