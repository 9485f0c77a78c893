"""Keep an uploaded update template between its dry run and its import, and run large ones as a Celery job.

A file of up to ``settings.IMPORT_INLINE_ROWS`` rows is checked and imported while the user waits; a larger
one is queued (through the outbox, sent once the upload commits) and a worker runs it, reporting the rows it
has done on the run (``ImportRun.done``) for the page's progress bar. The pages and the API call the same
functions: ``receive`` (upload: a dry run, or an import at once), ``confirm`` (import a checked file),
``run_job`` (a worker's part) and ``fail_stale`` (housekeeping).

States: checking → checked → importing → imported (a dry run, then its import); importing → imported (an
import at once); checking or importing → failed (the plan changed, a fault, or no worker finished it). A job
sent twice does no harm: it runs only while its run is in the state it was queued in, and importing a file
again changes nothing ("unchanged"). A worker imports a file some activities at a time, each part in one
transaction with the summary of the rows done so far: a run that stops half way lists exactly the rows it
imported.
"""

import csv
import datetime
import io
import logging

from django.conf import settings
from django.core.files import File
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from outbox import services as outbox
from portal import storage
from portal.errors import DomainError, NotAllowed, WrongState
from portal.models import Office

from . import imports
from .exports import neutralise_for_csv
from .models import ImportRun, ReportingPeriod

State = ImportRun.State

logger = logging.getLogger(__name__)


def receive(
    *, by, upload, dry_run: bool = True, office: Office | None = None, period: ReportingPeriod | None = None
) -> ImportRun:
    """Keep an uploaded template and check it (a dry run, for the user to confirm), or import it at once; a
    large file is queued for a worker."""
    book = imports.read(upload)
    plan = imports.target_of(by=by, book=book, office=office, period=period)
    held = ImportRun(user=by, office=plan.office, period=plan.period, rows=len(book.rows))
    upload.seek(0)
    with storage.writing():  # a store that refuses the file: no run is written
        held.file.save(f"{plan.office.code}-{plan.period.code}.xlsx", File(upload), save=False)
    with transaction.atomic():
        if _queued(held):
            held.state = State.CHECKING if dry_run else State.IMPORTING
            held.summary = imports.summary(office=plan.office, period=plan.period, dry_run=dry_run, results=[])
            held.save()
            outbox.enqueue("actionplan.tasks.enqueue_import", run_id=held.pk)
            return held
        held.summary = imports.process(by=by, book=book, plan=plan, dry_run=dry_run)
        held.done = held.rows
        if dry_run:
            held.state = State.CHECKED
        else:
            held.state, held.imported_at = State.IMPORTED, timezone.now()
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
            raise WrongState(_not_confirmable(held), state=held.state)
        if _queued(held):
            # The dry run's summary gives way to the import's, written as the worker goes: a run that stops
            # lists only rows imported.
            held.state, held.done = State.IMPORTING, 0
            held.summary = imports.summary(office=held.office, period=held.period, dry_run=False, results=[])
            held.save(update_fields=["state", "done", "summary", "updated_at"])
            outbox.enqueue("actionplan.tasks.enqueue_import", run_id=held.pk)
            return held
        held.summary = _run(held, dry_run=False)
        held.state, held.imported_at = State.IMPORTED, timezone.now()
        held.save(update_fields=["summary", "state", "imported_at", "updated_at"])
    return held


def _not_confirmable(held: ImportRun) -> str:
    if held.state == State.CHECKING:
        return _("This file is still being checked: import it once its dry run is finished.")
    if held.state == State.FAILED:
        return _("This file's run failed: upload the file again.")
    return _("This file was imported already.")


class Stopped(Exception):
    """Raised when a run is no longer the job's to write: failed meanwhile (no sign of life for too long)."""


def run_job(*, run_id: int) -> str:
    """Run a queued dry run or import (a Celery task's work); return the run's state afterwards."""
    held = ImportRun.objects.select_related("user", "office", "period").filter(pk=run_id).first()
    if held is None or held.state not in (State.CHECKING, State.IMPORTING):
        return "skipped"
    dry_run = held.state == State.CHECKING
    try:
        summary = _run(held, dry_run=dry_run, checkpoint=_checkpoint(held, dry_run=dry_run))
    except Stopped:
        return "stopped"
    except (OperationalError, InterfaceError):
        # The database briefly away: the task retries (run_import's autoretry); the sweeper fails a run that
        # never comes back.
        raise
    except DomainError as error:
        # The plan changed since the upload (another version, an office left): the file is refused whole,
        # before any row is read.
        _fail(held, error.message)
        return State.FAILED
    except Exception:
        # Whatever else stopped it (a time limit, a fault): the run is failed, not left running for ever. The
        # parts of an import done before are kept, and listed in its summary.
        logger.exception("Import run %s failed", held.pk)
        _fail(held, stopped_message(dry_run=dry_run))
        return State.FAILED
    done = State.CHECKED if dry_run else State.IMPORTED
    ImportRun.objects.filter(pk=held.pk, state=held.state).update(
        state=done, summary=summary, done=held.rows, updated_at=timezone.now(),
        imported_at=None if dry_run else timezone.now(),
    )  # fmt: skip
    return done


def stopped_message(*, dry_run: bool) -> str:
    if dry_run:
        return _("The check stopped before it finished; nothing was imported. Upload the file again.")
    return _(
        "The import stopped before it finished; nothing was imported from the rows not listed. Upload the file "
        "again: the rows imported already will be unchanged."
    )


def _fail(held: ImportRun, message: str):
    ImportRun.objects.filter(pk=held.pk, state=held.state).update(
        state=State.FAILED, error=message, updated_at=timezone.now()
    )


def _run(held: ImportRun, *, dry_run: bool, checkpoint=None) -> dict:
    with storage.reading(), held.file.open("rb") as stored:
        upload = io.BytesIO(stored.read())
    book = imports.read(upload)
    plan = imports.target_of(by=held.user, book=book, office=held.office, period=held.period)
    return imports.process(by=held.user, book=book, plan=plan, dry_run=dry_run, checkpoint=checkpoint)


def _checkpoint(held: ImportRun, *, dry_run: bool) -> imports.Checkpoint:
    """Write the rows done (and an import's summary so far) in the transaction of the part just done; stop
    when the run is no longer in the state the job found it in."""

    def write(*, done: int, total: int, results: list):
        changes = {"done": min(done, held.rows), "updated_at": timezone.now()}
        if not dry_run:
            changes["summary"] = imports.summary(office=held.office, period=held.period, dry_run=False,
                                                 results=results)  # fmt: skip
        if not ImportRun.objects.filter(pk=held.pk, state=held.state).update(**changes):
            raise Stopped

    return write


def _queued(held: ImportRun) -> bool:
    return held.rows > settings.IMPORT_INLINE_ROWS


def fail_stale(*, now: datetime.datetime | None = None) -> int:
    """Fail the runs queued or running with no sign of life for ``IMPORT_STALE_MINUTES`` (their worker died, or
    none took them); return how many.

    "Sign of life" is ``updated_at``: set when a run is queued, and by its worker at each part it finishes. A
    run's summary is what its worker committed: the rows it lists were imported, the others were not."""
    now = now or timezone.now()
    stale = ImportRun.objects.filter(updated_at__lt=now - datetime.timedelta(minutes=settings.IMPORT_STALE_MINUTES))
    failed = 0
    for state, dry_run in ((State.CHECKING, True), (State.IMPORTING, False)):
        # A worker still writing its part holds the run's row: this waits for it, then sees the part committed.
        failed += stale.filter(state=state).update(
            state=State.FAILED, error=stopped_message(dry_run=dry_run), updated_at=now
        )
    if failed:
        logger.warning("%d import runs failed: queued or running with no sign of life", failed)
    return failed


def summary_csv(held: ImportRun) -> str:
    """The run's summary as CSV, a line per row of the sheet; refused while the run is still going (the summary
    so far would read as final)."""
    if held.is_in_progress():
        raise WrongState(
            _("This file is still being checked or imported: its summary is ready once the run has finished."),
            state=held.state,
        )
    summary = held.summary
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Row"), _("Activity"), _("Indicator"), _("Outcome"), _("Reason"), _("Update")])
    labels = status_labels(dry_run=summary.get("dry_run", True))
    for row in summary.get("rows", []):
        values = (row["row"], row["activity"], row["indicator"], labels.get(row["status"], row["status"]),
                  " ".join([row["reason"], *row["warnings"]]).strip(), row["update"])  # fmt: skip
        writer.writerow([neutralise_for_csv(value) for value in values])
    return out.getvalue()


def status_labels(*, dry_run: bool) -> dict:
    """The outcome of a row, as the summary says it to people."""
    return {
        imports.Status.CREATE: _("Would create") if dry_run else _("Created"),
        imports.Status.UPDATE: _("Would update a draft") if dry_run else _("Updated"),
        imports.Status.UNCHANGED: _("Unchanged"),
        imports.Status.REFUSED: _("Refused"),
    }
