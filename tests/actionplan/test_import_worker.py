"""A real Celery worker on real Redis runs a large spreadsheet's dry run and reports its progress."""

import io
import time

from actionplan import import_runs, imports
from actionplan.models import ImportRun
from actionplan.tasks import run_import
from tests.actionplan.test_imports import filled, first_rows


def test_a_worker_runs_a_queued_dry_run_to_its_summary(world, queue, start_worker, settings):
    settings.IMPORT_INLINE_ROWS = 0
    content = filled(imports.template(by=world.reporter, office=world.office, period=world.period),
                     first_rows(world, value=5)).getvalue()  # fmt: skip
    held = import_runs.receive(by=world.reporter, upload=io.BytesIO(content))
    start_worker(MEDIA_ROOT=str(settings.MEDIA_ROOT))

    run_import.apply_async(args=[held.pk], queue=queue)

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        held.refresh_from_db()
        if held.state != ImportRun.State.CHECKING:
            break
        time.sleep(0.5)
    assert (held.state, held.progress, held.summary["counts"]["create"]) == ("checked", 100, 1)
