"""Keep an uploaded update template between its dry run and its import, and run large ones as a Celery job.

A file of up to ``settings.IMPORT_INLINE_ROWS`` rows is checked and imported while the user waits; a larger
one is queued (through the outbox, sent once the upload commits) and a worker runs it, reporting its progress
on the run (``ImportRun.progress``) for the page's progress bar. A job sent twice does no harm: importing
a file again changes nothing ("unchanged").
"""

import csv
import io
import logging

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from outbox import services as outbox
from portal.errors import DomainError, NotAllowed, WrongState
from portal.models import Office

from . import imports
from .exports import neutralise_for_csv
from .models import ImportRun, ReportingPeriod

State = ImportRun.State

logger = logging.getLogger(__name__)


def check_upload(*, by, upload, office: Office | None = None, period: ReportingPeriod | None = None) -> ImportRun:
    """Keep an uploaded template and its dry run's summary, for the user to confirm its import; a large file's
    dry run is queued."""
    book = imports.read(upload)
    plan = imports.target_of(by=by, book=book, office=office, period=period)
    held = ImportRun(user=by, office=plan.office, period=plan.period, rows=len(book.rows))
    upload.seek(0)
    held.file.save(f"{plan.office.code}-{plan.period.code}.xlsx", File(upload), save=False)
    if _queued(held):
        held.state = State.CHECKING
        with transaction.atomic():
            held.save()
            outbox.enqueue("actionplan.tasks.enqueue_import", run_id=held.pk)
        return held
    held.summary = imports.process(by=by, book=book, plan=plan, dry_run=True)
    held.progress = 100
    held.save()
    return held


def confirm(*, by, held: ImportRun) -> ImportRun:
    """Import the updates of a template checked before, once; keep the import's summary (a large file's import
    is queued)."""
    with transaction.atomic():
        held = ImportRun.objects.select_for_update().get(pk=held.pk)
        if held.user_id != by.pk:
            raise NotAllowed(_("Only who uploaded this file may import it."))
        if held.state != State.CHECKED:
            raise WrongState(_("This file was imported already."), state=held.state)
        if _queued(held):
            held.state, held.progress = State.IMPORTING, 0
            held.save(update_fields=["state", "progress", "updated_at"])
            outbox.enqueue("actionplan.tasks.enqueue_import", run_id=held.pk)
            return held
        held.summary = _run(held, dry_run=False)
        held.state, held.imported_at = State.IMPORTED, timezone.now()
        held.save(update_fields=["summary", "state", "imported_at", "updated_at"])
    return held


def run_job(*, run_id: int) -> str:
    """Run a queued dry run or import (a Celery task's work); return the run's state afterwards."""
    held = ImportRun.objects.select_related("user", "office", "period").filter(pk=run_id).first()
    if held is None or held.state not in (State.CHECKING, State.IMPORTING):
        return "skipped"
    dry_run = held.state == State.CHECKING
    try:
        summary = _run(held, dry_run=dry_run, progress=_reporter(held.pk))
    except DomainError as error:
        # The plan changed since the upload (another version, an office left): the file is refused whole.
        ImportRun.objects.filter(pk=held.pk).update(state=State.FAILED, error=error.message, updated_at=timezone.now())
        return State.FAILED
    except Exception:
        # Whatever else stopped it (a time limit, a fault): the run is failed, not left "being checked" for ever.
        logger.exception("Import run %s failed", held.pk)
        ImportRun.objects.filter(pk=held.pk).update(
            state=State.FAILED, error=_("The file could not be processed; try again, or ask an administrator."),
            updated_at=timezone.now(),
        )  # fmt: skip
        return State.FAILED
    done = State.CHECKED if dry_run else State.IMPORTED
    ImportRun.objects.filter(pk=held.pk, state=held.state).update(
        state=done, summary=summary, progress=100, updated_at=timezone.now(),
        imported_at=None if dry_run else timezone.now(),
    )  # fmt: skip
    return done


def _run(held: ImportRun, *, dry_run: bool, progress=None) -> dict:
    with held.file.open("rb") as stored:
        upload = io.BytesIO(stored.read())
    book = imports.read(upload)
    plan = imports.target_of(by=held.user, book=book, office=held.office, period=held.period)
    # Each activity's update in a transaction of its own: the progress written meanwhile is seen at once.
    return imports.process(by=held.user, book=book, plan=plan, dry_run=dry_run, progress=progress)


def _reporter(run_id: int):
    def report(done: int, total: int):
        ImportRun.objects.filter(pk=run_id).update(progress=min(99, done * 100 // max(total, 1)))

    return report


def _queued(held: ImportRun) -> bool:
    return held.rows > settings.IMPORT_INLINE_ROWS


def summary_csv(summary: dict) -> str:
    """The summary as CSV: a line per activity."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Activity"), _("Rows"), _("Status"), _("Reason"), _("Update")])
    for row in summary.get("rows", []):
        writer.writerow([neutralise_for_csv(value) for value in (row["activity"], " ".join(map(str, row["rows"])),
                         row["status"], row["reason"], row["update"])])  # fmt: skip
    return out.getvalue()
