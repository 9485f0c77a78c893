"""Render a succeeded report's files in another language, on request, from its frozen snapshot.

A report's own PDF and XLSX are in the language it was asked in; any other language is a
``ReportRendering``: asked for (``queued``), claimed by a worker (``running``), then
``succeeded`` with its files or ``failed``. Asking again for a failed one queues it again.
A rendering asked for while its report still compiles waits: the compilation sends it
once the report froze (``send_waiting``). Every rendering reads the same snapshot, so the
content hash is the report's whatever the language.

Like compilations, renderings are sent through the outbox and are safe to run twice: a
claim is a conditional update on the state and the count of attempts, under an advisory
lock; files are rendered into temporary ones, then stored whole in the file store.
"""

import json
import logging
import uuid
from datetime import timedelta
from functools import partial

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from outbox import services as outbox
from portal.errors import InvalidInput

from ..models import ProgressReport, ReportRendering
from . import files, languages
from .locks import exclusive
from .render_pdf import pdf_html, write_pdf_of_html
from .render_xlsx import write_xlsx

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
RESEND_AFTER = timedelta(minutes=5)
QUEUED_LIMIT = timedelta(hours=1)
TRANSIENT = (OperationalError, InterfaceError)
State = ReportRendering.State


def render_files(snapshot_json: str, *, content_hash: str, language: str, directory, stem: str, progress=None):
    """Write the PDF and XLSX of the snapshot (its stored JSON text) in ``language`` into ``directory``; return
    their stored names.

    The workbook first, then the PDF's HTML; the snapshot's Python structures are let go before
    WeasyPrint lays the pages out, so that the two never weigh on memory at once.
    """
    with translation.override(language):
        snapshot = json.loads(snapshot_json)
        xlsx = files.write(directory, f"{stem}.xlsx", partial(write_xlsx, snapshot, content_hash=content_hash))
        if progress:
            progress()
        html = pdf_html(snapshot, content_hash=content_hash)
        del snapshot
        pdf = files.write(directory, f"{stem}.pdf", partial(write_pdf_of_html, html))
    return pdf, xlsx


def check_language(language: str) -> str:
    """Refuse a language the portal does not speak, naming the field."""
    if language not in languages.codes():
        raise InvalidInput(
            _("“%(language)s” is not one of the portal's languages.") % {"language": language}, field="language"
        )
    return language


def _enqueue(rendering_id, task_id: str):
    # By name: services do not import tasks (tasks import services).
    outbox.enqueue("steering.tasks.enqueue_rendering", rendering_id=str(rendering_id), task_id=task_id)


def request_rendering(*, report: ProgressReport, language: str) -> ReportRendering | None:
    """Ask for the report's files in ``language``; return the rendering, or None when the report is in it already.

    A new rendering, or a failed one asked for again (with fresh attempts), is sent to the
    workers; one that is queued, running or done is returned as it is.
    """
    check_language(language)
    if language == report.language:
        return None
    with transaction.atomic():
        rendering, created = ReportRendering.objects.get_or_create(
            report=report, language=language, defaults={"task_id": str(uuid.uuid4())}
        )
        if created:
            _enqueue(rendering.pk, rendering.task_id)
        elif rendering.state == State.FAILED:
            task_id = str(uuid.uuid4())
            changed = ReportRendering.objects.filter(pk=rendering.pk, state=State.FAILED).update(
                state=State.QUEUED,
                attempts=0,
                error="",
                started_at=None,
                finished_at=None,
                task_id=task_id,
                updated_at=timezone.now(),
            )
            if changed:
                _enqueue(rendering.pk, task_id)
            rendering.refresh_from_db()
    return rendering


def send_waiting(report_id):
    """Send the renderings asked for while the report compiled (called once it froze)."""
    with transaction.atomic():
        waiting = ReportRendering.objects.filter(report=report_id, state=State.QUEUED)
        for rendering_id, task_id in waiting.values_list("pk", "task_id"):
            _enqueue(rendering_id, task_id)


def stored_file(report: ProgressReport, language: str, kind: str):
    """The report's stored ``kind`` file (pdf, xlsx) in the language, or None while it is not rendered."""
    if language == report.language:
        return getattr(report, kind)
    rendering = next((found for found in report.renderings.all() if found.language == language), None)
    if rendering is None or rendering.state != State.SUCCEEDED:
        return None
    return getattr(rendering, kind)


def _fail(rendering_id, message: str, *, only_if_attempt: int | None = None) -> bool:
    rows = ReportRendering.objects.filter(pk=rendering_id).exclude(state=State.SUCCEEDED)
    if only_if_attempt is not None:
        rows = rows.filter(attempts=only_if_attempt)
    now = timezone.now()
    return bool(rows.update(state=State.FAILED, error=message, finished_at=now, updated_at=now))


def _claim(rendering_id, task_id: str) -> tuple[ReportRendering | None, str]:
    """Claim the rendering for this delivery; return it, or None and why not."""
    rendering = ReportRendering.objects.select_related("report__period", "report__focus_area").filter(pk=rendering_id)
    rendering = rendering.first()
    if rendering is None or rendering.state in (State.SUCCEEDED, State.FAILED):
        return None, "skipped"
    report_state = rendering.report.state
    if report_state == ProgressReport.State.FAILED:
        _fail(rendering.pk, _("The report itself could not be compiled: ask for this language once it is."))
        return None, State.FAILED
    if report_state != ProgressReport.State.SUCCEEDED:
        return None, "waiting"  # the compilation sends it once the report froze
    if rendering.attempts >= MAX_ATTEMPTS:
        _fail(
            rendering.pk,
            _("Rendering was attempted %(n)d times without finishing. Try again later.") % {"n": rendering.attempts},
        )
        return None, State.FAILED
    now = timezone.now()
    claimed = ReportRendering.objects.filter(
        pk=rendering.pk, state__in=ReportRendering.IN_PROGRESS, attempts=rendering.attempts
    ).update(
        state=State.RUNNING,
        attempts=rendering.attempts + 1,
        started_at=now,
        finished_at=None,
        error="",
        task_id=task_id or rendering.task_id,
        updated_at=now,
    )
    if not claimed:
        return None, "skipped"
    rendering.attempts += 1
    return rendering, State.RUNNING


def render(*, rendering_id, task_id: str = "") -> str:
    """Render the report's files in the rendering's language; return what happened.

    Transient database errors put the rendering back in the queue and propagate, for the
    task to retry; any other error fails it with a message the user can read.
    """
    with exclusive(rendering_id) as mine:
        if not mine:
            return "busy"
        rendering, outcome = _claim(rendering_id, task_id)
        if rendering is None:
            return outcome
        try:
            return _render(rendering)
        except TRANSIENT:
            if not connection.in_atomic_block:
                connection.close_if_unusable_or_obsolete()
            ReportRendering.objects.filter(pk=rendering.pk, state=State.RUNNING, attempts=rendering.attempts).update(
                state=State.QUEUED, started_at=None, updated_at=timezone.now()
            )
            raise
        except SoftTimeLimitExceeded:
            _fail(
                rendering.pk,
                _("Rendering took longer than the time limit and was stopped. Try again later."),
                only_if_attempt=rendering.attempts,
            )
            return State.FAILED
        except Exception as error:
            logger.exception("Rendering %s failed", rendering_id)
            _fail(
                rendering.pk,
                _("The report could not be rendered in this language (%(error)s). Try again.")
                % {"error": f"{type(error).__name__}: {error}"[:300]},
                only_if_attempt=rendering.attempts,
            )
            return State.FAILED


def _render(rendering: ReportRendering) -> str:
    report = rendering.report
    # As text: the renderer parses it once, and lets it go before the PDF is laid out.
    text, digest = (
        ProgressReport.objects.filter(pk=report.pk).values_list(Cast("snapshot", TextField()), "content_hash").get()
    )
    pdf, xlsx = render_files(
        text,
        content_hash=digest,
        language=rendering.language,
        directory=files.report_directory(report.pk),
        stem=files.file_stem(report, rendering.language),
    )
    now = timezone.now()
    done = ReportRendering.objects.filter(pk=rendering.pk, state=State.RUNNING, attempts=rendering.attempts).update(
        state=State.SUCCEEDED, pdf=pdf, xlsx=xlsx, finished_at=now, updated_at=now
    )
    return State.SUCCEEDED if done else "dropped"


def fail_stale_renderings(*, now=None) -> int:
    """Fail renderings left running past the time limit, queued too long, or of a failed report; send again those
    waiting for minutes on a succeeded report. Return how many were failed."""
    now = now or timezone.now()
    stale_running = ReportRendering.objects.filter(
        state=State.RUNNING, started_at__lt=now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)
    )
    failed = stale_running.update(
        state=State.FAILED,
        error=_("Rendering did not finish in time: the worker probably stopped. Try again."),
        finished_at=now,
        updated_at=now,
    )
    failed += ReportRendering.objects.filter(state=State.QUEUED, report__state=ProgressReport.State.FAILED).update(
        state=State.FAILED,
        error=_("The report itself could not be compiled: ask for this language once it is."),
        finished_at=now,
        updated_at=now,
    )
    failed += ReportRendering.objects.filter(state=State.QUEUED, updated_at__lt=now - QUEUED_LIMIT).update(
        state=State.FAILED,
        error=_("No worker took this rendering within an hour. Try again; if it stays queued, tell an administrator."),
        finished_at=now,
        updated_at=now,
    )
    waiting = ReportRendering.objects.filter(
        state=State.QUEUED, report__state=ProgressReport.State.SUCCEEDED, updated_at__lt=now - RESEND_AFTER
    )
    with transaction.atomic():
        for rendering_id, task_id in waiting.values_list("pk", "task_id"):
            _enqueue(rendering_id, task_id)
    return failed
