"""A real Celery worker on real Redis compiles reports from seeded data, and survives being killed."""

import io
import os
import signal
import time

import openpyxl
import pypdf
import pytest
from django.db.models import Count

from actionplan.models import LATEST_UPDATE_FIRST, RAG, Activity, FocusArea, ProgressUpdate, ReportingPeriod
from portal.demo import seed_demo
from portal.reference import load_reference_data
from steering.models import ProgressReport
from steering.reports import services
from steering.tasks import compile_report

TIMEOUT = 120


@pytest.fixture
def seeded(queue, settings, tmp_path, monkeypatch):
    """Reference and demo data (scale XS); reports sent to this test's queue; media in a folder of its own."""
    settings.MEDIA_ROOT = tmp_path / "media"
    load_reference_data()
    seed_demo(scale="XS", seed=2018, password="x")

    def to_this_queue(*, report_id, task_id):
        compile_report.apply_async(args=[str(report_id)], task_id=task_id, queue=queue)

    monkeypatch.setattr("steering.tasks.enqueue_compilation", to_this_queue)
    return settings.MEDIA_ROOT


def ask(period):
    from django.contrib.auth import get_user_model

    report, created = services.request_report(
        by=get_user_model().objects.get(username="officer"), plan=period.plan, period=period
    )
    assert created
    return report


def wait_for(report, predicate, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        report.refresh_from_db()
        if predicate(report):
            return report
        time.sleep(0.2)
    raise AssertionError(f"report stayed {report.state} at {report.progress}% ({report.error})")


def latest_rag_counts(period) -> dict:
    """The RAG of each activity's latest approved update up to the period, counted straight from the rows."""
    latest = {}
    updates = (
        ProgressUpdate.objects.filter(state="approved", period__starts_on__lte=period.starts_on)
        .order_by("activity_id", *LATEST_UPDATE_FIRST)
        .values_list("activity_id", "rag")
    )
    for activity_id, rag in updates:
        latest.setdefault(activity_id, rag)
    counts = dict.fromkeys([*RAG.values, "none"], 0)
    for activity_id in Activity.objects.values_list("pk", flat=True):
        counts[latest.get(activity_id) or "none"] += 1
    return counts


def test_a_worker_compiles_a_report_whose_pdf_and_xlsx_match_the_database(seeded, start_worker):
    start_worker(MEDIA_ROOT=str(seeded))
    period = ReportingPeriod.objects.order_by("-starts_on")[1]

    report = wait_for(ask(period), lambda report: report.state in ("succeeded", "failed"))

    assert report.state == "succeeded", report.error
    assert (report.progress, report.attempts) == (100, 1)
    with report.pdf.open("rb") as handle:
        text = "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(handle.read())).pages)
    for name in FocusArea.objects.values_list("name", flat=True):
        assert name in text.replace("\n", " "), name
    statuses = dict(Activity.objects.values_list("status").annotate(n=Count("pk")))
    rags = latest_rag_counts(period)
    total_row = [Activity.objects.count()]
    total_row += [statuses.get(status, 0) for status in Activity.Status.values]
    total_row += [rags[key] for key in [*RAG.values, "none"]]
    assert "Total " + " ".join(str(n) for n in total_row) in text, [
        line for line in text.splitlines() if "Total" in line
    ]

    with report.xlsx.open("rb") as handle:
        book = openpyxl.load_workbook(io.BytesIO(handle.read()))
    assert {"Cover", "Summary", "Indicators", "Activities", "Missing and late", "Action items"} <= set(book.sheetnames)
    summary = book["Summary"]
    header = [cell.value for cell in summary[1]]
    total = [cell.value for cell in summary[summary.max_row]]
    totals = report.snapshot["totals"]
    assert total[header.index("Activities")] == totals["activities"] == Activity.objects.count()
    assert total[header.index("Updates expected")] == totals["reporting"]["expected"]
    assert total[header.index("Missing")] == totals["reporting"]["missing"]
    assert book["Activities"].max_row == 1 + Activity.objects.count()


def test_a_worker_killed_while_compiling_leaves_one_succeeded_report_with_one_set_of_files(seeded, start_worker):
    # Slow steps give time to kill the worker half-way, after the workbook is in place. A visibility timeout
    # shorter than the first worker's hold on the task lets the next worker take it back as it starts: a solo
    # worker busy with a task never looks for unacknowledged ones, so none is delivered twice meanwhile.
    slow = {"MEDIA_ROOT": str(seeded), "CELERY_VISIBILITY_TIMEOUT": "2", "REPORT_COMPILE_PAUSE_SECONDS": "1"}
    first, _log = start_worker(**slow)
    report = ask(ReportingPeriod.objects.order_by("-starts_on")[1])
    wait_for(report, lambda report: report.state == "running" and report.progress >= 80)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    assert ProgressReport.objects.get(pk=report.pk).state == "running"

    start_worker(**{**slow, "REPORT_COMPILE_PAUSE_SECONDS": "0"})

    report = wait_for(report, lambda report: report.state != "running")
    assert report.state == "succeeded", report.error
    assert report.attempts == 2
    assert ProgressReport.objects.count() == 1
    directories = list((seeded / "reports").iterdir())
    assert [path.name for path in directories] == [str(report.pk)]
    assert sorted(path.name for path in directories[0].iterdir()) == sorted(
        [report.pdf.name.rsplit("/", 1)[-1], report.xlsx.name.rsplit("/", 1)[-1]]
    )
