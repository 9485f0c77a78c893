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


def wait_for_state(client, url: str, leaving: str) -> dict:
    """The run, once it is no longer in the state ``leaving`` (a minute at most)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        run = client.get(url).json()
        if run["state"] != leaving:
            return run
        time.sleep(0.2)
    raise AssertionError(f"the run stayed {leaving}: {run}")


def test_a_worker_checks_then_imports_a_large_file_uploaded_through_the_api(
    world, api, queue, start_worker, settings, monkeypatch
):
    from actionplan.models import ProgressUpdate

    def to_this_queue(*, run_id):
        run_import.apply_async(args=[run_id], queue=queue, ignore_result=True)

    monkeypatch.setattr("actionplan.tasks.enqueue_import", to_this_queue)
    settings.IMPORT_INLINE_ROWS = 0
    start_worker(MEDIA_ROOT=str(settings.MEDIA_ROOT))
    client = api(world.reporter)
    content = filled(imports.template(by=world.reporter, office=world.office, period=world.period),
                     first_rows(world, value=5)).getvalue()  # fmt: skip

    queued = client.post("/api/v1/imports/", {"file": io.BytesIO(content)}, format="multipart")
    assert queued.status_code == 202
    checked = wait_for_state(client, queued["Location"], "checking")
    assert (checked["state"], checked["progress"]["done"]) == ("checked", checked["progress"]["total"])
    assert checked["summary"]["counts"]["create"] == 1
    assert not ProgressUpdate.objects.exists()

    assert client.post(checked["confirm"]).status_code == 202
    imported = wait_for_state(client, queued["Location"], "importing")
    assert imported["state"] == "imported"
    assert [row["status"] for row in imported["summary"]["rows"]] == ["create", "unchanged", "unchanged"]
    assert ProgressUpdate.objects.get().source == "import"
