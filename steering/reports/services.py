"""Request, compile and recover progress reports.

A report is requested (``queued``), claimed by a worker (``running``), then frozen
(``succeeded``) or ``failed`` with a message for the user. Compilation is safe to run
twice: a succeeded report is never compiled again; a rerun of a running or failed one
starts clean and writes the same file names, each rendered into a temporary file and stored
whole (``files.write``); every claim counts an attempt, and past ``MAX_ATTEMPTS`` the report fails instead
of being compiled again. A transient database error puts the report back in the queue
for the task's retry. Files are removed whenever an unfinished report is failed, and
never once it succeeded.

A report is asked for in one language, which its own PDF and XLSX are rendered in; the
snapshot and its content hash never depend on it. Asking for an identical report in
progress in another language returns that report and asks for its rendering in the other
language (``renderings``), never a second compilation.

Sending to the queue goes through the outbox (``outbox.services``): written with the
report, sent after the commit, and sent again every minute while the queue refuses it, so
a report asked for while Redis is down is compiled once Redis is back. A message lost
after the queue took it is sent again by the sweeper, which runs every few minutes.
"""

import json
import logging
import os
import time
import uuid
from contextlib import contextmanager
from datetime import timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.db.models import JSONField
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from actionplan.models import PlanVersion
from outbox import services as outbox
from portal.errors import InvalidInput, NotAllowed, WrongState
from portal.roles import sees_whole_plan
from webhooks import services as webhooks
from webhooks.models import Event

from ..models import ProgressReport
from . import renderings
from . import snapshot as snapshots
from .files import file_stem, remove_directory, report_directory
from .locks import exclusive as _exclusive

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
# A report queued this long and not taken by a worker is sent to the queue again by the
# sweeper: its message may have been lost. A duplicate is harmless (claim and lock).
RESEND_AFTER = timedelta(minutes=5)
# A report queued this long is failed by the sweeper: no worker is taking work.
QUEUED_LIMIT = timedelta(hours=1)
TRANSIENT = (OperationalError, InterfaceError)
State = ProgressReport.State


def may_request(user) -> bool:
    """Tell whether the user asks for reports: programme officers and the committee do."""
    return sees_whole_plan(user)


def check_may_request(user) -> None:
    """Refuse a user who may not ask for reports, before anything it sent is read."""
    if not may_request(user):
        raise NotAllowed(_("Only programme officers and the steering committee ask for reports."))


def _check_scope(*, plan, period, focus_area, version=None):
    if version is not None and version.plan_id != plan.pk:
        raise InvalidInput(
            _("Version %(number)s is a version of another action plan.") % {"number": version.number}, field="version"
        )
    if period.plan_id != plan.pk:
        raise InvalidInput(
            _("Period %(period)s belongs to another action plan.") % {"period": period.code}, field="period"
        )
    if focus_area is not None and focus_area.plan_id != plan.pk:
        raise InvalidInput(
            _("Focus area %(area)s is not part of this action plan.") % {"area": focus_area.code}, field="focus_area"
        )


def _enqueue(report: ProgressReport):
    # By name: services do not import tasks (tasks import services).
    outbox.enqueue("steering.tasks.enqueue_compilation", report_id=str(report.pk), task_id=report.task_id)


def version_numbered(*, plan, number: str | None):
    """The plan's version of this number ("1.0"), None when no number is given; refused naming the field
    ``version`` when the plan has no such version."""
    if not number:
        return None
    version = PlanVersion.objects.numbered(plan, number).defer("snapshot").first()
    if version is None:
        raise InvalidInput(
            _("Version %(number)s: the plan %(plan)s has no such version.") % {"number": number, "plan": plan.code},
            field="version",
        )
    return version


def request_report(
    *, by, plan, period, focus_area=None, version=None, language: str | None = None
) -> tuple[ProgressReport, bool]:
    """Queue a report of the period for the whole plan or one focus area, as the plan stands or "as endorsed at"
    a version of it, in a language; return it and whether it is new.

    While an identical report is queued or running, that one is returned instead, with its
    rendering in ``language`` asked for when it is in another.
    """
    check_may_request(by)
    _check_scope(plan=plan, period=period, focus_area=focus_area, version=version)
    return queue_report(plan=plan, period=period, focus_area=focus_area, version=version, by=by, language=language)


def queue_report(
    *, plan, period, focus_area=None, version=None, by=None, send=True, language: str | None = None
) -> tuple[ProgressReport, bool]:
    """Queue a report (scheduled jobs call this directly); an identical one in progress is returned instead.

    Identical: the same plan, period, scope and version (none: the plan as it stands). The unique
    constraint on in-progress reports settles concurrent requests: the loser's insert fails and it
    returns the winner's report. With ``send=False`` the report is not handed to the workers: the
    caller compiles it itself (the ``compile_report`` command). The language defaults to the
    portal's (``LANGUAGE_CODE``).
    """
    _check_scope(plan=plan, period=period, focus_area=focus_area, version=version)
    language = renderings.check_language(language or settings.LANGUAGE_CODE)
    for _attempt in range(3):
        existing = (
            ProgressReport.objects.in_progress()
            .filter(plan=plan, period=period, focus_area=focus_area, version=version)
            .first()
        )
        if existing is not None:
            # The same content: only the rendering differs (one compilation, another language's files).
            renderings.request_rendering(report=existing, language=language)
            return existing, False
        try:
            with transaction.atomic():
                report = ProgressReport.objects.create(
                    plan=plan,
                    period=period,
                    focus_area=focus_area,
                    version=version,
                    requested_by=by,
                    task_id=str(uuid.uuid4()),
                    language=language,
                )
                if send:
                    _enqueue(report)
                return report, True
        except IntegrityError:
            continue  # a concurrent request won: return its report on the next pass
    raise WrongState(_("The report could not be queued; try again."))


def retry_report(*, by, report: ProgressReport) -> ProgressReport:
    """Queue a failed report again, with a fresh count of attempts, for a user who may ask for reports."""
    if not may_request(by):
        raise NotAllowed(_("Only programme officers and the steering committee ask for reports."))
    return requeue_report(report=report)


def requeue_report(*, report: ProgressReport) -> ProgressReport:
    """Queue a failed report again with a fresh count of attempts (scheduled jobs call this directly).

    While an identical report is in progress, that one is returned instead.
    """
    try:
        with transaction.atomic():
            changed = ProgressReport.objects.filter(pk=report.pk, state=State.FAILED).update(
                state=State.QUEUED,
                progress=0,
                attempts=0,
                error="",
                started_at=None,
                finished_at=None,
                task_id=str(uuid.uuid4()),
                updated_at=timezone.now(),
            )
            if not changed:
                raise WrongState(_("Only a failed report can be compiled again."))
            report.refresh_from_db()
            _enqueue(report)
            return report
    except IntegrityError:
        return ProgressReport.objects.in_progress().get(
            plan=report.plan_id, period=report.period_id, focus_area=report.focus_area_id, version=report.version_id
        )


# Compilation -------------------------------------------------------------------------


def _pause():
    # Tests slow compilation down to kill a worker in the middle of it; nothing else sets this.
    seconds = float(os.environ.get("REPORT_COMPILE_PAUSE_SECONDS") or 0)
    if seconds:
        time.sleep(seconds)


def _set_progress(report: ProgressReport, percent: int):
    ProgressReport.objects.filter(pk=report.pk, state=State.RUNNING, attempts=report.attempts).update(
        progress=percent, updated_at=timezone.now()
    )


def _fail(report_id, message: str, *, only_if_attempt: int | None = None, rows=None) -> bool:
    """Fail the report unless it succeeded, and remove the files of its unfinished compilation.

    Return whether it was failed now; when it was not (it froze meanwhile, or another
    attempt owns it), its files are left alone.
    """
    rows = (rows if rows is not None else ProgressReport.objects.filter(pk=report_id)).exclude(state=State.SUCCEEDED)
    if only_if_attempt is not None:
        rows = rows.filter(attempts=only_if_attempt)
    now = timezone.now()
    failed = bool(rows.update(state=State.FAILED, error=message, finished_at=now, updated_at=now))
    if failed:
        remove_directory(report_id)
    return failed


def mark_failed(*, report_id, task_id: str, message: str) -> bool:
    """Fail the report's attempt run by the task ``task_id``, with a message for the user; return whether it did.

    A report queued again meanwhile (a new task id), finished, or being compiled by
    another delivery right now is left alone.
    """
    with _exclusive(report_id) as mine:
        if not mine:
            return False
        rows = ProgressReport.objects.filter(pk=report_id, task_id=task_id, state__in=ProgressReport.IN_PROGRESS)
        return _fail(report_id, message, rows=rows)


def _claim(report_id, task_id: str) -> ProgressReport | None:
    with transaction.atomic():
        report = (
            ProgressReport.objects.select_for_update(of=("self",))
            .select_related("plan", "period", "focus_area")
            .filter(pk=report_id)
            .first()
        )
        if report is None or report.state == State.SUCCEEDED:
            return None
        if report.attempts >= MAX_ATTEMPTS:
            if report.state != State.FAILED:
                _fail(
                    report.pk,
                    _(
                        "Compilation was attempted %(n)d times without finishing (the worker stopped, or the "
                        "database or the queue was unavailable). Try again later; if it fails again, tell an "
                        "administrator."
                    )
                    % {"n": report.attempts},
                )
            return None
        report.state = State.RUNNING
        report.attempts += 1
        report.progress = 5
        report.error = ""
        report.started_at = timezone.now()
        report.finished_at = None
        report.task_id = task_id or report.task_id
        try:
            with transaction.atomic():
                report.save(
                    update_fields=[
                        "state", "attempts", "progress", "error", "started_at", "finished_at", "task_id", "updated_at",
                    ]
                )  # fmt: skip
        except IntegrityError:
            # An identical report was requested meanwhile and is in progress: leave this one failed.
            return None
    # Start clean: nothing from an earlier attempt survives.
    remove_directory(report.pk)
    return report


def _take_snapshot(report: ProgressReport) -> dict:
    """Take the snapshot in one read-only, repeatable-read transaction, so that every figure is of one moment;
    "as endorsed at" the report's version when it names one."""
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            return snapshots.take(report, version=_version_of(report))
    return snapshots.take(report, version=_version_of(report))


def _version_of(report: ProgressReport):
    # Without the version's own snapshot of the plan: the figures read its rows (VersionIndicator).
    return PlanVersion.objects.defer("snapshot").get(pk=report.version_id) if report.version_id else None


def take_snapshot(*, report: ProgressReport) -> tuple[dict, str]:
    """Take the report's snapshot exactly as compilation freezes it, and its content hash; render no file.

    What is rendered, stored and hashed is one and the same JSON (see ``snapshot.frozen_text``).
    The report need not be saved: only its plan, period, scope, version and id are read.
    """
    return snapshots.freeze(_take_snapshot(report))


def _compile(report: ProgressReport) -> str:
    _pause()
    # What is rendered, stored and hashed is one and the same JSON text (see snapshot.frozen_text); only the
    # text is kept while the files are rendered, the snapshot's Python structures let go as soon as it is taken.
    text, digest = snapshots.frozen_text(_take_snapshot(report))
    _set_progress(report, 50)
    _pause()

    def rendered_workbook():
        _set_progress(report, 80)
        _pause()

    # The files in the language asked for; the snapshot and its hash are the same in every language.
    pdf, xlsx = renderings.render_files(
        text,
        content_hash=digest,
        language=report.language,
        directory=report_directory(report.pk),
        stem=file_stem(report, report.language),
        progress=rendered_workbook,
    )
    _set_progress(report, 95)
    _pause()
    now = timezone.now()
    # The report succeeds and its webhooks' deliveries are written together.
    with transaction.atomic(), _stored_snapshot(text) as snapshot:
        frozen = ProgressReport.objects.filter(pk=report.pk, state=State.RUNNING, attempts=report.attempts).update(
            state=State.SUCCEEDED,
            progress=100,
            snapshot=snapshot,
            content_hash=digest,
            pdf=pdf,
            xlsx=xlsx,
            finished_at=now,
            updated_at=now,
        )
        if frozen:
            report.state = State.SUCCEEDED
            webhooks.emit(Event.REPORT_SUCCEEDED, report)
    if not frozen:
        logger.warning("Report %s changed state while it compiled; its result is dropped", report.pk)
        # The lock is still held, so no other attempt writes here: the files belong to no report.
        if not ProgressReport.objects.filter(pk=report.pk, state=State.SUCCEEDED).exists():
            remove_directory(report.pk)
        return "dropped"
    renderings.send_waiting(report.pk)
    logger.info("Report %s compiled in %.1f s", report.pk, (now - report.started_at).total_seconds())
    return State.SUCCEEDED


class _CopyText:
    """Read a JSON text as one value of COPY's text format: its backslashes doubled, a slice at a time.

    JSON text holds no newline, carriage return or tab of its own (``json.dumps`` escapes them),
    so backslashes are all COPY would misread.
    """

    def __init__(self, text: str):
        self.text, self.at = text, 0

    def read(self, size: int = -1) -> str:
        end = len(self.text) if size < 0 else self.at + size
        chunk, self.at = self.text[self.at : end], min(end, len(self.text))
        return chunk.replace("\\", "\\\\")


@contextmanager
def _stored_snapshot(text: str):
    """Give the value that stores the frozen JSON text as the report's snapshot, for an update in the caller's
    transaction.

    On PostgreSQL the text is streamed by COPY into a temporary table, which the update reads and
    which is dropped after it (or with the transaction rolled back): sent as a query parameter,
    the 19 MB of text at scale L were copied four times on the way (encoded, escaped, quoted into
    the query, and that query kept in the log under DEBUG), and parsed into a dict before that,
    some 100 MB at the peak of a compilation. Elsewhere (SQLite in development) the parsed text
    is stored.
    """
    if connection.vendor != "postgresql" or connection.Database.__name__ != "psycopg2":
        yield json.loads(text)
        return
    with connection.cursor() as cursor:
        # Dropped with the transaction whatever happens in it (and before, once stored, for the next compilation).
        cursor.execute("CREATE TEMPORARY TABLE report_snapshot (snapshot jsonb NOT NULL) ON COMMIT DROP")
        cursor.copy_expert("COPY report_snapshot (snapshot) FROM STDIN", _CopyText(text), 1 << 20)
    yield RawSQL("SELECT snapshot FROM report_snapshot", (), output_field=JSONField())
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE report_snapshot")


def compile_report(*, report_id, task_id: str = "") -> str:
    """Compile the report unless it is frozen, compiling elsewhere, or out of attempts; return what happened.

    Transient database errors put the report back in the queue and propagate, for the
    task to retry; any other error fails the report with a message the user can read,
    unless the report froze before the error struck.
    """
    with _exclusive(report_id) as mine:
        if not mine:
            logger.warning("Report %s is being compiled by another worker; this delivery stops", report_id)
            return "busy"
        report = _claim(report_id, task_id)
        if report is None:
            return "skipped"
        try:
            return _compile(report)
        except TRANSIENT:
            _back_to_queue(report)
            raise
        except SoftTimeLimitExceeded:
            failed = _fail(
                report.pk,
                _("Compilation took longer than the time limit and was stopped. Try again later."),
                only_if_attempt=report.attempts,
            )
            return State.FAILED if failed else _state(report.pk)
        except Exception as error:
            logger.exception("Report %s failed", report_id)
            failed = _fail(
                report.pk,
                _("The report could not be compiled (%(error)s). Try again; if it fails again, tell an administrator.")
                % {"error": f"{type(error).__name__}: {error}"[:300]},
                only_if_attempt=report.attempts,
            )
            return State.FAILED if failed else _state(report.pk)


def _state(report_id) -> str:
    return ProgressReport.objects.filter(pk=report_id).values_list("state", flat=True).first() or "dropped"


def _back_to_queue(report: ProgressReport):
    """Put the report back in the queue after a transient error, for the task's retry to claim.

    Left running through the retry's countdown, it could look stale to the sweeper and be
    failed, and then compiled all the same.
    """
    try:
        if not connection.in_atomic_block:
            # A connection the error broke is replaced, so that this update has a chance.
            connection.close_if_unusable_or_obsolete()
        ProgressReport.objects.filter(pk=report.pk, state=State.RUNNING, attempts=report.attempts).update(
            state=State.QUEUED, progress=0, started_at=None, updated_at=timezone.now()
        )
    except TRANSIENT:
        logger.warning("Report %s could not be put back in the queue; the retry claims it all the same", report.pk)


def fail_stale_reports(*, now=None) -> int:
    """Fail reports left running past the task's time limit or queued too long; send again those waiting.

    Return how many were failed. A report waiting in the queue since ``RESEND_AFTER`` is
    sent again (its message may have been lost); one waiting since ``QUEUED_LIMIT`` fails.
    "Since" is ``updated_at``, set when the report was queued (or queued again) and not
    changed while it waits.
    """
    now = now or timezone.now()
    limit = settings.CELERY_TASK_TIME_LIMIT
    running = ProgressReport.objects.filter(
        state=State.RUNNING, started_at__lt=now - timedelta(seconds=limit + 60)
    ).update(
        state=State.FAILED,
        error=_(
            "Compilation did not finish within %(limit)d seconds: the worker probably stopped. Try again."
        ) % {"limit": limit},
        finished_at=now,
        updated_at=now,
    )  # fmt: skip
    queued = ProgressReport.objects.filter(state=State.QUEUED, updated_at__lt=now - QUEUED_LIMIT).update(
        state=State.FAILED,
        error=_("No worker took this report within an hour. Try again; if it stays queued, tell an administrator."),
        finished_at=now,
        updated_at=now,
    )
    _send_waiting_again(now)
    return running + queued


def _send_waiting_again(now):
    from ..tasks import enqueue_compilation

    waiting = ProgressReport.objects.filter(state=State.QUEUED, updated_at__lt=now - RESEND_AFTER)
    for report_id, task_id in waiting.order_by("updated_at").values_list("pk", "task_id"):
        try:
            enqueue_compilation(report_id=report_id, task_id=task_id)
        except Exception:
            logger.exception("Report %s could not be sent to the queue again", report_id)
            return
        logger.warning("Report %s waited in the queue for minutes: sent again", report_id)
