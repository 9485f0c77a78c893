"""Progress reports: the snapshot's figures, the frozen files, and compilation that is safe to run twice."""

import datetime
import hashlib
import io
import json

import openpyxl
import pypdf
import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.core.management import call_command
from django.db import OperationalError, connection
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerUnavailable

from actionplan.models import Activity, Measurement, ProgressUpdate
from outbox import services as outbox
from outbox.models import Message
from portal.errors import InvalidInput, NotAllowed
from steering.models import ProgressReport
from steering.reports import renderings, services
from steering.tasks import compile_report
from tests import factories
from tests.conftest import assert_refused


def area_summary(snapshot, code="CYB"):
    return next(row for row in snapshot["summary"] if row["code"] == code)


def section(snapshot, code="CYB"):
    return next(row for row in snapshot["focus_areas"] if row["code"] == code)


def pdf_text(report) -> str:
    with report.pdf.open("rb") as handle:
        return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(handle.read())).pages)


def files_of(report, media):
    return sorted(path.name for path in (media / "reports" / str(report.pk)).iterdir())


# Figures ---------------------------------------------------------------------------
# Read from the snapshot a compilation would freeze (``snapshot_of``): rendering the files
# takes seconds, and the files are checked below and in test_report_rendering.


def test_summary_counts_activities_by_status_and_rag_of_their_latest_approved_update(reported, snapshot_of):
    cyb = area_summary(snapshot_of())
    assert cyb["activities"] == 4
    assert cyb["status"] == {"planned": 4, "ongoing": 0, "completed": 0, "delayed": 0, "cancelled": 0}
    # CYB-1.4's at-risk update is of 2020-Q3, after the period: it does not count.
    assert cyb["rag"] == {"on_track": 0, "at_risk": 0, "off_track": 1, "none": 3}


def test_indicators_against_target_with_latest_actual_up_to_the_period(reported, snapshot_of):
    snapshot = snapshot_of()
    indicators = {row["code"]: row for row in section(snapshot)["indicators"]}
    assert (indicators["CYB-1.1-I1"]["actual"], indicators["CYB-1.1-I1"]["percent_of_target"]) == (100.0, 100.0)
    assert (indicators["CYB-1.1-I2"]["actual"], indicators["CYB-1.1-I2"]["percent_of_target"]) == (50.0, 50.0)
    assert indicators["CYB-1.3-I1"]["actual"] is None
    assert area_summary(snapshot)["indicators"] == {"all": 3, "with_actual": 2, "on_track": 1, "average_percent": 75.0}
    [toc] = section(snapshot, "TOC")["indicators"]
    assert (toc["level"], toc["baseline"], toc["target"], toc["actual"], toc["percent_of_target"]) == (
        "objective", 10.0, 50.0, 30.0, 50.0,
    )  # fmt: skip


def test_on_track_and_the_average_use_the_unrounded_share_of_the_target(reported, snapshot_of):
    # 999.6 of 1000 is 99.96 %: shown as 100.0, but the target is not reached (as on the dashboard).
    almost = factories.IndicatorFactory(activity=reported.activity, code="CYB-1.1-I9", target_value=1000)
    update = reported.activity.updates.get(period=reported.period)
    factories.MeasurementFactory(update=update, indicator=almost, value="999.60")

    snapshot = snapshot_of()

    row = next(row for row in section(snapshot)["indicators"] if row["code"] == "CYB-1.1-I9")
    assert row["percent_of_target"] == pytest.approx(99.96)
    figures = area_summary(snapshot)["indicators"]
    assert (figures["all"], figures["with_actual"], figures["on_track"]) == (4, 3, 1)
    # (100 + 50 + 99.96) / 3 = 83.32, not the 83.33 of the rounded shares.
    assert figures["average_percent"] == pytest.approx(83.32)
    assert snapshot["totals"]["indicators"] == {"all": 5, "with_actual": 4, "on_track": 1}


def test_an_earlier_report_takes_the_actual_of_its_own_period(reported, snapshot_of):
    snapshot = snapshot_of(period=reported.locked_period)
    indicators = {row["code"]: row for row in section(snapshot)["indicators"]}
    assert (indicators["CYB-1.1-I1"]["actual"], indicators["CYB-1.1-I1"]["actual_period"]) == (40.0, "2020-Q1")


def test_breakdowns_list_the_dimensions_each_indicator_is_broken_down_by_now(reported, snapshot_of):
    reported.indicator.dimensions = ["sex", "age"]
    reported.indicator.save()
    reported.second_indicator.dimensions = ["country"]
    reported.second_indicator.save()
    latest = ProgressUpdate.objects.get(activity=reported.activity, period=reported.period)
    egypt = factories.CountryFactory(iso3="EGY", iso2="EG", name="Egypt")
    for indicator, value, category in (
        (reported.indicator, 60, {"sex": "female"}),
        (reported.indicator, 40, {"sex": "male"}),
        (reported.indicator, 70, {"age_band": "18-24"}),
        (reported.indicator, 90, {"country": egypt}),  # not a dimension of this indicator (any more)
        (reported.second_indicator, 20, {"country": egypt}),
        (reported.second_indicator, 30, {"sex": "female"}),  # nor this one
    ):
        Measurement.objects.create(update=latest, indicator=indicator, value=value, **category)

    assert snapshot_of()["breakdowns"] == [
        {"indicator": "CYB-1.1-I1", "dimension": "age", "category": "18-24", "value": 70.0},
        {"indicator": "CYB-1.1-I1", "dimension": "sex", "category": "female", "value": 60.0},
        {"indicator": "CYB-1.1-I1", "dimension": "sex", "category": "male", "value": 40.0},
        {"indicator": "CYB-1.1-I2", "dimension": "country", "category": "EGY", "value": 20.0},
    ]


def test_activities_carry_their_latest_approved_update(reported, snapshot_of):
    activities = {row["code"]: row for row in section(snapshot_of())["activities"]}
    assert {key: activities["CYB-1.1"][key] for key in ("rag", "percent", "update_period", "office", "narrative")} == {
        "rag": "off_track", "percent": 70, "update_period": "2020-Q2", "office": "UNODC-ROSEAP",
        "narrative": "Two workshops held.",
    }  # fmt: skip
    assert activities["CYB-1.2"]["rag"] is None


def test_missing_and_late_updates_by_office(reported, snapshot_of):
    snapshot = snapshot_of()
    cyb = section(snapshot)
    by_office = {
        row["office"]: (row["expected"], row["on_time"], row["late"], row["missing"]) for row in cyb["reporting"]
    }
    assert by_office == {
        "UNODC-ROSEAP": (2, 1, 1, 0),
        "INTERPOL-RB-NBO": (2, 0, 0, 2),
    }  # fmt: skip
    assert cyb["missing"] == [
        {"activity": "CYB-1.3", "office": "INTERPOL-RB-NBO"},
        {"activity": "CYB-1.4", "office": "INTERPOL-RB-NBO"},
    ]
    assert cyb["late"] == [{"activity": "CYB-1.2", "office": "UNODC-ROSEAP", "submitted_on": "2020-07-30"}]
    assert snapshot["totals"]["reporting"] == {"expected": 5, "on_time": 2, "late": 1, "missing": 2}


def test_open_and_overdue_action_items(reported, snapshot_of):
    snapshot = snapshot_of()
    assert [(item["description"], item["overdue"]) for item in snapshot["action_items"]] == [
        ("Send the assessment", True)
    ]
    assert snapshot["totals"]["overdue_action_items"] == 1


def test_a_focus_area_report_holds_that_area_only(reported, snapshot_of):
    snapshot = snapshot_of(focus_area=reported.toc)
    assert [row["code"] for row in snapshot["summary"]] == ["TOC"]
    assert snapshot["scope"] == {"focus_area": "TOC", "name": "Illicit trafficking"}
    # The overdue item follows no decision on TOC: a TOC report does not list it.
    assert snapshot["action_items"] == []


# Frozen --------------------------------------------------------------------------------


def test_content_hash_is_the_sha256_of_the_stored_snapshot(reported, compiled):
    # Target below the baseline and an actual at the baseline: 0 * 100 / -5 is -0.0 in
    # Python, which jsonb stores as 0.0; the hash must be of what is stored.
    falling = factories.IndicatorFactory(
        activity=reported.activity, code="CYB-1.1-I8", baseline_value=10, target_value=5
    )
    factories.MeasurementFactory(
        update=reported.activity.updates.get(period=reported.period), indicator=falling, value=10
    )
    report = compiled()
    row = next(row for row in section(report.snapshot)["indicators"] if row["code"] == "CYB-1.1-I8")
    assert row["percent_of_target"] == 0.0
    canonical = json.dumps(report.snapshot, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert report.content_hash == hashlib.sha256(canonical.encode()).hexdigest()


def test_the_stored_snapshot_keeps_backslashes_quotes_tabs_and_any_script(reported, compiled):
    # The frozen text reaches the database through COPY, whose text format reads a backslash as an escape.
    title = 'C:\\new\\N "quoted"\ttabbed — 中文 \\.'
    Activity.objects.filter(pk=reported.activity.pk).update(title=title)
    report = compiled()
    row = next(row for row in section(report.snapshot)["activities"] if row["code"] == reported.activity.code)
    assert row["title"] == title
    canonical = json.dumps(report.snapshot, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert report.content_hash == hashlib.sha256(canonical.encode()).hexdigest()


def test_the_snapshot_reaches_the_database_in_no_query_parameter(reported, compiled, postgres):
    # At scale L the frozen text is 19 MB: sent as a parameter it was copied four times on its way into
    # the query (some 100 MB at the peak of a compilation); it is streamed by COPY instead.
    marker = "Marker-title-of-the-snapshot"
    Activity.objects.filter(pk=reported.activity.pk).update(title=marker)
    sent = []

    def keep(execute, sql, params, many, context):
        sent.extend(str(value) for value in (params.values() if isinstance(params, dict) else params or ()))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(keep):
        report = compiled()

    assert any(row["title"] == marker for row in section(report.snapshot)["activities"])
    assert not [value for value in sent if marker in value]


def test_a_succeeded_report_is_never_compiled_again(reported, compiled, media):
    report = compiled()
    pdf_bytes = report.pdf.open("rb").read()

    assert services.compile_report(report_id=report.pk) == "skipped"

    again = ProgressReport.objects.get(pk=report.pk)
    assert (again.snapshot, again.content_hash, again.attempts, again.updated_at) == (
        report.snapshot, report.content_hash, 1, report.updated_at,
    )  # fmt: skip
    assert again.pdf.open("rb").read() == pdf_bytes


def test_a_later_report_of_the_same_scope_is_new_and_lists_what_changed(reported, compiled):
    first = compiled()
    factories.change_approved(reported.activity.updates.filter(period=reported.period), rag="on_track")
    Activity.objects.filter(pk=reported.restricted.pk).update(status="completed")

    second = compiled()

    assert second.pk != first.pk and second.content_hash != first.content_hash
    changes = second.snapshot["changes"]
    assert changes["previous"]["report"] == str(first.pk)
    assert [(row["activity"], row["from"], row["to"]) for row in changes["rag_changes"]] == [
        ("CYB-1.1", "off_track", "on_track")
    ]
    assert [row["activity"] for row in changes["completed"]] == ["CYB-1.2"]
    assert ProgressReport.objects.get(pk=first.pk).content_hash == first.content_hash


def test_changes_compare_with_the_latest_report_of_an_earlier_or_the_same_period(reported, compiled, snapshot_of):
    later = compiled()
    earlier = compiled(period=reported.locked_period)
    # Compiled after 2020-Q2, the 2020-Q1 report has no earlier period to compare with.
    assert earlier.snapshot["changes"]["previous"] is None

    again = snapshot_of()
    # A second 2020-Q2 report compares with the first 2020-Q2 one, not the newer 2020-Q1 one.
    assert again["changes"]["previous"]["report"] == str(later.pk)


def test_the_database_refuses_a_succeeded_report_without_files(reported):
    assert_refused(lambda: ProgressReport.objects.create(plan=reported.plan, period=reported.period, state="succeeded"))


# PDF and XLSX ------------------------------------------------------------------------------


def test_pdf_holds_cover_area_names_and_the_figures(reported, compiled):
    report = compiled()
    text = pdf_text(report)
    assert "Progress report" in text and "2020-Q2" in text and report.content_hash in text
    assert "Cybercrime" in text and "Illicit trafficking" in text
    # The Total row: 5 activities, 4 planned 0 ongoing 1 completed 0 delayed 0 cancelled,
    # RAG 1 on track 0 at risk 1 off track 3 not yet approved.
    assert "Total 5 4 0 1 0 0 1 0 1 3" in text
    assert "Two workshops held." in text and "Send the assessment" in text


def test_pdf_shows_names_as_text_never_as_markup(reported, compiled):
    reported.area.name = 'Cyber <b>crime</b> & "co"'
    reported.area.save()
    text = pdf_text(compiled())
    assert 'Cyber <b>crime</b> & "co"' in text.replace("\n", " ")


def test_xlsx_has_a_sheet_per_section_typed_cells_and_totals_of_the_snapshot(reported, compiled):
    report = compiled()
    with report.xlsx.open("rb") as handle:
        book = openpyxl.load_workbook(io.BytesIO(handle.read()))
    assert book.sheetnames == [
        "Cover", "Summary", "Objectives", "Indicators", "Activities", "Reporting by office", "Missing and late",
        "Breakdowns", "Conversations", "Action items", "Changes",
    ]  # fmt: skip
    summary = book["Summary"]
    header = [cell.value for cell in summary[1]]
    total = [cell.value for cell in summary[summary.max_row]]
    assert total[0] == "Total"
    assert total[header.index("Activities")] == report.snapshot["totals"]["activities"] == 5
    assert total[header.index("Missing")] == report.snapshot["totals"]["reporting"]["missing"] == 2
    assert summary.freeze_panes == "A2"
    activities = book["Activities"]
    assert activities.max_row == 1 + 5
    row = {header.value: cell.value for header, cell in zip(activities[1], activities[2], strict=True)}
    assert row["Activity"] == "CYB-1.1" and row["% complete"] == 70
    indicators = book["Indicators"]
    row = {header.value: cell.value for header, cell in zip(indicators[1], indicators[2], strict=True)}
    assert isinstance(row["Baseline"], int | float)
    items = book["Action items"]
    assert isinstance(items.cell(row=2, column=4).value, datetime.datetime)


def test_xlsx_cover_gives_the_compilation_time_as_a_date_and_time(reported, compiled):
    report = compiled()
    with report.xlsx.open("rb") as handle:
        cover = openpyxl.load_workbook(io.BytesIO(handle.read()))["Cover"]
    compiled_at = next(row[1].value for row in cover.iter_rows(min_row=2) if row[0].value == "Compiled at")
    expected = timezone.localtime(datetime.datetime.fromisoformat(report.snapshot["compiled_at"]))
    assert isinstance(compiled_at, datetime.datetime)
    assert abs(compiled_at - expected.replace(tzinfo=None)) < datetime.timedelta(seconds=1)


def test_xlsx_neutralises_text_that_would_run_as_a_formula(reported, compiled):
    Activity.objects.filter(pk=reported.activity.pk).update(title='=HYPERLINK("http://evil.example","x")')
    report = compiled()
    with report.xlsx.open("rb") as handle:
        book = openpyxl.load_workbook(io.BytesIO(handle.read()))
    titles = [cell.value for cell in book["Activities"]["C"]]
    assert '\'=HYPERLINK("http://evil.example","x")' in titles


# Requests ----------------------------------------------------------------------------------


def test_a_period_of_another_plan_is_refused_naming_the_period(reported):
    other = factories.ReportingPeriodFactory(code="OTHER-Q1")
    with pytest.raises(InvalidInput) as refused:
        services.request_report(by=reported.officer, plan=reported.plan, period=other)
    assert refused.value.field == "period"
    assert not ProgressReport.objects.exists()


def test_a_focus_area_outside_the_plan_is_refused_naming_it(reported):
    outside = factories.FocusAreaFactory(code="ELSE")
    with pytest.raises(InvalidInput) as refused:
        services.request_report(by=reported.officer, plan=reported.plan, period=reported.period, focus_area=outside)
    assert refused.value.field == "focus_area"


@pytest.mark.parametrize("scope", [None, "area"])
def test_asking_again_while_identical_report_is_in_progress_returns_it(reported, scope):
    area = reported.area if scope else None
    first, created = services.request_report(
        by=reported.officer, plan=reported.plan, period=reported.period, focus_area=area
    )
    again, created_again = services.request_report(
        by=reported.committee, plan=reported.plan, period=reported.period, focus_area=area
    )
    assert (created, created_again, again.pk) == (True, False, first.pk)
    other_scope, created_other = services.request_report(
        by=reported.officer, plan=reported.plan, period=reported.period, focus_area=None if scope else reported.area
    )
    assert created_other and other_scope.pk != first.pk


@pytest.mark.parametrize("state", ["queued", "running"])
def test_the_database_refuses_a_second_identical_report_in_progress(reported, state):
    ProgressReport.objects.create(plan=reported.plan, period=reported.period, state=state)
    assert_refused(lambda: ProgressReport.objects.create(plan=reported.plan, period=reported.period, state=state))
    ProgressReport.objects.create(plan=reported.plan, period=reported.period, state="failed")


def test_reporters_neither_ask_for_nor_see_reports(reported):
    services.request_report(by=reported.officer, plan=reported.plan, period=reported.period)
    with pytest.raises(NotAllowed):
        services.request_report(by=reported.reporter, plan=reported.plan, period=reported.period)
    assert not ProgressReport.objects.visible_to(reported.reporter).exists()
    assert ProgressReport.objects.visible_to(reported.committee).count() == 1


# Safe to run twice ----------------------------------------------------------------------------


def queued(world, **fields):
    return ProgressReport.objects.create(plan=world.plan, period=world.period, **fields)


def test_a_rerun_of_a_running_report_starts_clean_and_leaves_one_set_of_files(reported, media):
    report = queued(reported, state="running", attempts=1, started_at=timezone.now())
    leftovers = media / "reports" / str(report.pk)
    leftovers.mkdir(parents=True)
    (leftovers / ".progress-report-2020-q2-plan.pdf.abc.tmp").write_bytes(b"half a PDF")
    (leftovers / "progress-report-2020-q2-plan.pdf").write_bytes(b"from the attempt that died")

    assert services.compile_report(report_id=report.pk) == "succeeded"

    report.refresh_from_db()
    assert files_of(report, media) == ["progress-report-2020-q2-plan.pdf", "progress-report-2020-q2-plan.xlsx"]
    assert report.pdf.open("rb").read().startswith(b"%PDF")
    assert report.attempts == 2


def test_a_failure_leaves_the_report_failed_with_a_message_and_no_file(reported, media, monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("no fonts")

    monkeypatch.setattr("steering.reports.renderings.write_xlsx", broken)
    report = queued(reported)

    assert services.compile_report(report_id=report.pk) == "failed"

    report.refresh_from_db()
    assert report.state == "failed" and report.finished_at is not None
    assert "could not be compiled" in report.error and "no fonts" in report.error
    assert not report.pdf and not report.xlsx
    assert not (media / "reports" / str(report.pk)).exists()


def test_a_transient_database_error_puts_the_report_back_in_the_queue_for_the_retry(reported, monkeypatch):
    def unavailable(report):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("steering.reports.services._take_snapshot", unavailable)
    report = queued(reported, task_id="task-1")
    with pytest.raises(OperationalError):
        services.compile_report(report_id=report.pk, task_id="task-1")
    # Queued, not running: the sweeper does not take the wait before the retry for a dead worker.
    again = ProgressReport.objects.get(pk=report.pk)
    assert (again.state, again.started_at, again.attempts) == ("queued", None, 1)


def test_the_task_retries_a_transient_error_and_the_report_compiles(reported, media, monkeypatch):
    real = services._take_snapshot
    calls = []

    def unavailable_once(report):
        calls.append(report.attempts)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real(report)

    monkeypatch.setattr("steering.reports.services._take_snapshot", unavailable_once)
    report = queued(reported, task_id="task-1")

    result = compile_report.apply(args=[str(report.pk)], task_id="task-1")

    report.refresh_from_db()
    assert (result.get(), calls) == ("succeeded", [1, 2])
    assert (report.state, report.attempts, report.error) == ("succeeded", 2, "")
    assert files_of(report, media) == ["progress-report-2020-q2-plan.pdf", "progress-report-2020-q2-plan.xlsx"]


def test_when_the_retries_run_out_the_report_of_that_task_fails(reported, media):
    report = queued(reported, task_id="task-1", attempts=3)
    leftovers = media / "reports" / str(report.pk)
    leftovers.mkdir(parents=True)
    (leftovers / "progress-report-2020-q2-plan.pdf").write_bytes(b"half")

    compile_report.on_failure(OperationalError("still down"), "task-1", (str(report.pk),), {}, None)

    report.refresh_from_db()
    assert report.state == "failed" and "unavailable" in report.error
    assert not leftovers.exists()


def test_a_task_that_ran_out_of_retries_leaves_a_newer_attempt_alone(reported):
    # The user asked again meanwhile: the report runs under a new task id.
    report = queued(reported, state="running", attempts=1, started_at=timezone.now(), task_id="task-2")

    compile_report.on_failure(OperationalError("still down"), "task-1", (str(report.pk),), {}, None)

    report.refresh_from_db()
    assert (report.state, report.error) == ("running", "")


def test_a_report_out_of_attempts_fails_instead_of_compiling_again(reported, media):
    report = queued(reported, state="running", attempts=services.MAX_ATTEMPTS, started_at=timezone.now())

    assert services.compile_report(report_id=report.pk) == "skipped"

    report.refresh_from_db()
    assert report.state == "failed" and f"attempted {services.MAX_ATTEMPTS} times" in report.error
    assert "the worker stopped each time" not in report.error
    assert not (media / "reports" / str(report.pk)).exists()


def test_a_delivery_finding_the_report_compiled_elsewhere_stops(reported, postgres):
    from django.db import connections

    report = queued(reported)
    key = int.from_bytes(report.pk.bytes[:8], "big", signed=True)
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [key])
        assert services.compile_report(report_id=report.pk) == "busy"
        assert ProgressReport.objects.get(pk=report.pk).state == "queued"
    finally:
        other.close()


def test_the_sweeper_fails_reports_left_running_past_the_time_limit(reported, settings):
    settings.CELERY_TASK_TIME_LIMIT = 600
    now = timezone.now()
    stale = queued(reported, state="running", attempts=1, started_at=now - datetime.timedelta(minutes=15))
    fresh = ProgressReport.objects.create(
        plan=reported.plan, period=reported.locked_period, state="running", attempts=1, started_at=now
    )

    assert services.fail_stale_reports(now=now) == 1

    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.state == "failed" and "600 seconds" in stale.error
    assert fresh.state == "running"


def test_a_time_limit_reached_after_the_report_froze_leaves_its_files(reported, media, monkeypatch):
    class LateLogger:
        # The soft time limit strikes on the line logged after the freezing update committed.
        def info(self, message, *args):
            if "compiled" in message:
                raise SoftTimeLimitExceeded()

        def warning(self, *args):
            pass

        exception = warning

    monkeypatch.setattr("steering.reports.services.logger", LateLogger())
    report = queued(reported)

    services.compile_report(report_id=report.pk)

    report.refresh_from_db()
    assert report.state == "succeeded"
    assert files_of(report, media) == ["progress-report-2020-q2-plan.pdf", "progress-report-2020-q2-plan.xlsx"]


def test_a_result_dropped_because_the_report_changed_meanwhile_leaves_no_file(reported, media, monkeypatch):
    real = renderings.write_xlsx

    def swept_meanwhile(snapshot, *, content_hash, path):
        real(snapshot, content_hash=content_hash, path=path)
        ProgressReport.objects.filter(state="running").update(state="failed", error="swept")

    monkeypatch.setattr("steering.reports.renderings.write_xlsx", swept_meanwhile)
    report = queued(reported)

    assert services.compile_report(report_id=report.pk) == "dropped"

    assert ProgressReport.objects.get(pk=report.pk).state == "failed"
    assert not (media / "reports" / str(report.pk)).exists()


def test_a_report_the_queue_refuses_stays_queued_and_is_sent_once_the_queue_is_back(
    reported, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []

    def redis_down(*args, **kwargs):
        raise BrokerUnavailable("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr("steering.tasks.compile_report.apply_async", redis_down)
    with django_capture_on_commit_callbacks(execute=True):
        report, created = services.request_report(by=reported.officer, plan=reported.plan, period=reported.period)

    report.refresh_from_db()
    assert created and report.state == "queued"
    assert Message.objects.get().is_pending

    monkeypatch.setattr("steering.tasks.compile_report.apply_async", lambda **options: sent.append(options))
    assert outbox.drain() == 1
    assert outbox.drain() == 0

    assert sent == [{"args": [str(report.pk)], "task_id": report.task_id, "ignore_result": True}]


def test_the_sweeper_sends_again_reports_waiting_for_minutes_and_fails_those_waiting_too_long(reported, monkeypatch):
    sent = []
    monkeypatch.setattr(
        "steering.tasks.enqueue_compilation", lambda *, report_id, task_id: sent.append((report_id, task_id))
    )
    now = timezone.now()
    waiting = queued(reported, task_id="task-w")
    fresh = queued(reported, focus_area=reported.area, task_id="task-f")
    forgotten = queued(reported, focus_area=reported.toc, task_id="task-x")
    ProgressReport.objects.filter(pk=waiting.pk).update(updated_at=now - datetime.timedelta(minutes=10))
    too_long = now - services.QUEUED_LIMIT - datetime.timedelta(minutes=1)
    ProgressReport.objects.filter(pk=forgotten.pk).update(updated_at=too_long)

    assert services.fail_stale_reports(now=now) == 1

    assert sent == [(waiting.pk, "task-w")]
    states = dict(ProgressReport.objects.values_list("pk", "state"))
    assert (states[waiting.pk], states[fresh.pk], states[forgotten.pk]) == ("queued", "queued", "failed")
    assert services.QUEUED_LIMIT <= datetime.timedelta(hours=2)


def test_the_command_compiles_the_identical_report_already_queued_instead_of_a_second(reported, media):
    waiting, _created = services.queue_report(plan=reported.plan, period=reported.period)

    said = io.StringIO()
    call_command("compile_report", "2020-Q2", stdout=said)

    [report] = ProgressReport.objects.all()
    assert (report.pk, report.state) == (waiting.pk, "succeeded")
    # It says what it compiled and where the files are.
    assert f"Report {report.pk}: succeeded in " in said.getvalue()
    assert said.getvalue().endswith(f"{report.pdf.name}\n{report.xlsx.name}\n")


def test_a_failed_report_can_be_queued_again_with_fresh_attempts(reported):
    report = queued(reported, state="failed", attempts=3, error="worker died")
    again = services.retry_report(by=reported.officer, report=report)
    assert (again.pk, again.state, again.attempts, again.error) == (report.pk, "queued", 0, "")


def test_the_workbook_keeps_the_conversations_of_the_periods_updates(reported, compiled):
    from actionplan import services

    update = reported.restricted.updates.get(period=reported.period)
    services.add_comment(by=reported.officer, update=update, text="Well documented.")
    report = compiled()
    assert [(row["activity"], row["kind"], row["text"]) for row in report.snapshot["conversations"]] == [
        ("CYB-1.2", "reply", "Well documented.")
    ]
    with report.xlsx.open("rb") as handle:
        sheet = openpyxl.load_workbook(io.BytesIO(handle.read()))["Conversations"]
    assert [cell.value for cell in sheet[2]][-1] == "Well documented."


def test_a_report_as_endorsed_at_a_version_measures_against_that_versions_targets(reported):
    from actionplan import versions
    from actionplan.models import Indicator
    from steering.models import ProgressReport
    from steering.reports import snapshot as snapshots

    version = versions.record_version(plan=reported.plan, endorsement="Lyon")
    Indicator.objects.filter(pk=reported.indicator.pk).update(target_value=200)
    factories.IndicatorFactory(activity=reported.activity, code="CYB-1.1-I9")  # added since 1.0
    report = ProgressReport(plan=reported.plan, period=reported.period, requested_by=reported.officer)
    as_endorsed = snapshots.take(report, version=version)
    indicators = {row["code"]: row for row in section(as_endorsed)["indicators"]}
    assert (indicators["CYB-1.1-I1"]["target"], indicators["CYB-1.1-I1"]["percent_of_target"]) == (100.0, 100.0)
    assert "CYB-1.1-I9" not in indicators and as_endorsed["version"]["number"] == "1.0"
    assert area_summary(as_endorsed)["indicators"]["on_track"] == 1
    now = {row["code"]: row for row in section(snapshots.take(report))["indicators"]}
    assert (now["CYB-1.1-I1"]["target"], now["CYB-1.1-I1"]["percent_of_target"]) == (200.0, 50.0)
