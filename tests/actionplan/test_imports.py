"""Spreadsheet import of updates: the template, the dry run, the import and the refusals."""

import io

import openpyxl
import pytest
import xlsxwriter

from actionplan import import_runs, imports, services
from actionplan.models import RAG, Measurement, ProgressUpdate
from portal.errors import FileTooLarge, InvalidInput, NotAllowed, UnsupportedFileType


def template(world, user=None, period=None):
    return imports.template(by=user or world.reporter, office=world.office, period=period or world.period)


def filled(content: bytes, values: dict, formulas: dict | None = None) -> io.BytesIO:
    """The template with ``values`` {(activity, indicator): {column key: value}} written into its rows, by
    openpyxl, as a person's spreadsheet would save them."""
    book = openpyxl.load_workbook(io.BytesIO(content))
    sheet = book[imports.SHEET]
    keys = [cell.value for cell in sheet[1]]
    for row in sheet.iter_rows(min_row=3):
        for column, value in values.get((row[0].value, row[1].value), {}).items():
            row[keys.index(column)].value = value
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    return out


def first_rows(world, **values):
    return {(world.activity.code, world.indicator.code): {"rag": RAG.ON_TRACK, "percent_complete": 40, **values}}


def row_of(summary: dict, indicator) -> dict:
    """The summary's line of the sheet's row of the indicator."""
    [found] = [row for row in summary["rows"] if row["indicator"] == indicator.code]
    return found


def test_template_has_the_offices_activities_and_indicators(world):
    book = openpyxl.load_workbook(io.BytesIO(template(world)), read_only=True)
    rows = [row[:2] for row in book[imports.SHEET].iter_rows(min_row=3, values_only=True)]
    about = {key: value for key, value in book[imports.ABOUT].iter_rows(values_only=True)}
    assert (world.activity.code, world.indicator.code) in rows
    assert (world.activity.code, world.second_indicator.code) in rows
    assert world.restricted.code in {code for code, _i in rows}
    assert world.other_activity.code not in {code for code, _i in rows}
    assert (about["office"], about["period"]) == (world.office.code, world.period.code)


def test_a_reporter_cannot_download_another_offices_template(world):
    with pytest.raises(NotAllowed):
        imports.template(by=world.reporter, office=world.other_office, period=world.period)


def test_dry_run_writes_nothing_and_reports_would_create(world):
    upload = filled(template(world), first_rows(world, value=5))
    summary = imports.run(by=world.reporter, upload=upload, dry_run=True)
    assert summary["counts"]["create"] == 1
    assert row_of(summary, world.indicator)["status"] == "create"
    assert not ProgressUpdate.objects.exists()


def test_import_creates_a_draft_with_its_measurements(world):
    upload = filled(template(world), first_rows(world, value=5, narrative="Trained 5"))
    imports.run(by=world.reporter, upload=upload, dry_run=False)
    update = ProgressUpdate.objects.get(activity=world.activity, office=world.office, period=world.period)
    assert (update.state, update.source, update.narrative) == ("draft", "import", "Trained 5")
    assert Measurement.objects.get(update=update, indicator=world.indicator).value == 5


def test_reimporting_the_same_file_is_unchanged(world):
    content = filled(template(world), first_rows(world, value=5)).getvalue()
    imports.run(by=world.reporter, upload=io.BytesIO(content), dry_run=False)
    version = ProgressUpdate.objects.get().version
    summary = imports.run(by=world.reporter, upload=io.BytesIO(content), dry_run=False)
    assert summary["counts"] == {"create": 0, "update": 0, "unchanged": len(summary["rows"]), "refused": 0}
    assert ProgressUpdate.objects.get().version == version


def test_a_changed_value_updates_the_draft(world):
    content = template(world)
    imports.run(by=world.reporter, upload=filled(content, first_rows(world, value=5)), dry_run=False)
    summary = imports.run(by=world.reporter, upload=filled(content, first_rows(world, value=7)), dry_run=False)
    assert row_of(summary, world.indicator)["status"] == "update"
    assert Measurement.objects.get(indicator=world.indicator).value == 7


def test_a_locked_period_is_refused_with_the_reason(world):
    upload = filled(template(world, period=world.locked_period), first_rows(world, value=5))
    row = row_of(imports.run(by=world.reporter, upload=upload, dry_run=True), world.indicator)
    assert (row["status"], row["rule"]) == ("refused", "period_locked")
    assert world.locked_period.code in row["reason"]


def test_an_unknown_indicator_is_refused(world):
    content = filled(template(world), first_rows(world, value=5))
    book = openpyxl.load_workbook(content)
    book[imports.SHEET]["B3"] = "NOPE-I9"
    out = io.BytesIO()
    book.save(out)
    [row] = [row for row in imports.run(by=world.reporter, upload=out, dry_run=True)["rows"] if row["row"] == 3]
    assert (row["indicator"], row["status"], row["rule"]) == ("NOPE-I9", "refused", "unknown_indicator")


def test_text_that_is_not_a_number_is_refused(world):
    upload = filled(template(world), first_rows(world, value="five"))
    row = row_of(imports.run(by=world.reporter, upload=upload, dry_run=True), world.indicator)
    assert (row["status"], row["rule"]) == ("refused", "not_a_number")
    assert "five" in row["reason"]


def test_a_breakdown_that_does_not_add_up_is_refused(world):
    world.indicator.dimensions = ["sex"]
    world.indicator.save()
    upload = filled(template(world), first_rows(world, value=10, **{"sex:female": 3, "sex:male": 3}))
    row = row_of(imports.run(by=world.reporter, upload=upload, dry_run=True), world.indicator)
    assert (row["status"], row["rule"]) == ("refused", "breakdown_adds_up")


def test_another_offices_template_is_refused(world):
    content = imports.template(by=world.officer, office=world.other_office, period=world.period)
    with pytest.raises(NotAllowed):
        imports.run(by=world.reporter, upload=io.BytesIO(content), dry_run=True)


def test_a_template_of_another_period_than_asked_is_refused(world):
    content = template(world, period=world.locked_period)
    with pytest.raises(InvalidInput, match="template of office"):
        imports.run(by=world.reporter, upload=io.BytesIO(content), dry_run=True, period=world.period)


def test_a_template_of_an_older_plan_version_is_refused(world):
    content = template(world)
    world.plan.version = "2.0"
    world.plan.save()
    with pytest.raises(InvalidInput, match="another version"):
        imports.run(by=world.reporter, upload=io.BytesIO(content), dry_run=True)


def test_formulas_are_read_as_their_computed_values_never_evaluated(world):
    book = openpyxl.load_workbook(io.BytesIO(template(world)), read_only=True)
    rows = [list(row) for row in book[imports.SHEET].iter_rows(values_only=True)]
    about = list(book[imports.ABOUT].iter_rows(values_only=True))
    out = io.BytesIO()
    written = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = written.add_worksheet(imports.SHEET)
    for number, row in enumerate(rows):
        sheet.write_row(number, 0, [value for value in row])
    target = next(n for n, row in enumerate(rows) if row[1] == world.indicator.code)
    sheet.write(target, 4, RAG.ON_TRACK)
    # The value the spreadsheet last computed, 7, not what evaluating the formula would give (5).
    sheet.write_formula(target, 7, "=2+3", None, 7)
    info = written.add_worksheet(imports.ABOUT)
    for number, row in enumerate(about):
        info.write_row(number, 0, row)
    written.close()
    imports.run(by=world.reporter, upload=io.BytesIO(out.getvalue()), dry_run=False)
    assert Measurement.objects.get(indicator=world.indicator).value == 7


def test_a_file_that_is_not_an_xlsx_is_refused(world):
    with pytest.raises(UnsupportedFileType):
        imports.run(by=world.reporter, upload=io.BytesIO(b"activity,indicator\nCYB-1.1,CYB-1.1-I1\n"), dry_run=True)


def test_a_zip_that_is_not_a_workbook_is_refused(world):
    with pytest.raises(UnsupportedFileType):
        imports.run(by=world.reporter, upload=io.BytesIO(b"PK\x03\x04 not really a zip"), dry_run=True)


def test_more_rows_than_the_limit_are_refused(world, monkeypatch):
    monkeypatch.setattr(imports, "MAX_ROWS", 1)
    with pytest.raises(FileTooLarge, match="more than 1 rows"):
        imports.run(by=world.reporter, upload=io.BytesIO(template(world)), dry_run=True)


def test_a_submitted_update_that_would_change_is_refused(world):
    update = services.create_update(by=world.reporter, activity=world.activity, period=world.period,
                                    office=world.office, rag=RAG.AT_RISK, percent_complete=10)  # fmt: skip
    services.submit_update(by=world.reporter, update=update)
    summary = imports.run(by=world.reporter, upload=filled(template(world), first_rows(world)), dry_run=True)
    row = row_of(summary, world.indicator)
    assert (row["status"], row["rule"]) == ("refused", "wrong_state")


def test_the_api_refuses_a_file_that_is_not_an_xlsx_with_415(world, api):
    upload = io.BytesIO(b"not a workbook")
    upload.name = "x.xlsx"
    response = api(world.reporter).post("/api/v1/imports/", {"file": upload}, format="multipart")
    assert response.status_code == 415


def test_the_browser_dry_run_then_confirm_imports(world, as_user):
    client = as_user(world.reporter)
    upload = filled(template(world), first_rows(world, value=5))
    upload.name = "filled.xlsx"
    response = client.post("/updates/import/", {"office": world.office.code, "period": world.period.code,
                                                "file": upload})  # fmt: skip
    assert response.status_code == 302
    assert not ProgressUpdate.objects.exists()
    detail = response["Location"]
    client.post(detail + "confirm/")
    assert ProgressUpdate.objects.get().source == "import"
    assert (
        f"3,{world.activity.code},{world.indicator.code},Created,".encode()
        in client.get(detail + "summary.csv").content
    )


def test_another_user_cannot_see_or_confirm_an_import(world, as_user):
    upload = filled(template(world), first_rows(world, value=5))
    held = import_runs.receive(by=world.reporter, upload=upload)
    client = as_user(world.other_reporter)
    assert client.get(f"/updates/import/{held.pk}/").status_code == 404
    assert client.post(f"/updates/import/{held.pk}/confirm/").status_code == 404
    assert not ProgressUpdate.objects.exists()


def test_the_browser_template_download_is_an_xlsx_of_the_office(world, as_user):
    response = as_user(world.reporter).get("/updates/import/", {"office": world.office.code,
                                                                "period": world.period.code})  # fmt: skip
    assert response.content[:4] == b"PK\x03\x04"


def test_the_dry_run_reads_a_fixed_number_of_queries_per_activity(world, django_assert_max_num_queries):
    upload = filled(template(world), first_rows(world, value=5))
    # Session-free domain call: the office, period, plan (activities, indicators, countries), updates, then
    # per activity its create in a savepoint (grounds, insert, measurements).
    with django_assert_max_num_queries(40):
        imports.run(by=world.reporter, upload=upload, dry_run=True)


def test_ten_thousand_and_one_rows_are_refused_with_the_limit(world):
    about = list(openpyxl.load_workbook(io.BytesIO(template(world)), read_only=True)[imports.ABOUT].values)
    out = io.BytesIO()
    written = xlsxwriter.Workbook(out, {"in_memory": True, "constant_memory": True})
    sheet = written.add_worksheet(imports.SHEET)
    sheet.write_row(0, 0, imports.FIXED_COLUMNS)
    for number in range(2, imports.MAX_ROWS + 3):
        sheet.write_row(number, 0, [world.activity.code, world.indicator.code])
    info = written.add_worksheet(imports.ABOUT)
    for number, row in enumerate(about):
        info.write_row(number, 0, row)
    written.close()
    with pytest.raises(FileTooLarge, match="more than 10,000 rows"):
        imports.run(by=world.reporter, upload=io.BytesIO(out.getvalue()), dry_run=True)


def test_the_template_holds_the_offices_draft_as_it_stands(world):
    imports.run(by=world.reporter, upload=filled(template(world), first_rows(world, value=5)), dry_run=False)
    again = template(world)
    summary = imports.run(by=world.reporter, upload=io.BytesIO(again), dry_run=True)
    assert summary["counts"]["unchanged"] == len(summary["rows"])


def test_a_title_that_looks_like_a_formula_is_written_as_text(world):
    world.activity.title = '=HYPERLINK("http://example.org")'
    world.activity.save()
    book = openpyxl.load_workbook(io.BytesIO(template(world)))
    assert book[imports.SHEET]["C3"].data_type == "s"


def test_a_committee_member_gets_no_template_of_an_office(world, as_user):
    response = as_user(world.committee).get(
        "/updates/import/", {"office": world.office.code, "period": world.period.code}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")


def test_the_template_download_reads_as_many_queries_for_twelve_activities_as_for_two(world, as_user):
    from tests import factories

    client = as_user(world.reporter)
    query = {"office": world.office.code, "period": world.period.code}
    before = _count(client, query)
    for number in range(10):
        made = factories.ActivityFactory(objective=world.objective, code=f"CYB-1.{10 + number}")
        made.implementing_offices.add(world.office)
        factories.IndicatorFactory(activity=made, code=f"CYB-1.{10 + number}-I1")
    # Session, user, the form's office and period, the membership, the activities and their countries, the
    # indicators, the drafts and their measurements: none per activity.
    assert _count(client, query) == before


def _count(client, query) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get("/updates/import/", query)
    assert response.content[:4] == b"PK\x03\x04"
    return len(captured)


def test_a_large_file_is_checked_and_imported_by_a_worker_with_its_progress(world, settings):
    from actionplan.models import ImportRun
    from outbox.models import Message

    settings.IMPORT_INLINE_ROWS = 0
    held = import_runs.receive(by=world.reporter, upload=filled(template(world), first_rows(world, value=5)))
    assert (held.state, held.progress) == (ImportRun.State.CHECKING, 0)
    assert Message.objects.filter(sender="actionplan.tasks.enqueue_import", kwargs={"run_id": held.pk}).exists()
    assert import_runs.run_job(run_id=held.pk) == ImportRun.State.CHECKED
    held.refresh_from_db()
    assert (held.progress, held.summary["counts"]["create"]) == (100, 1)
    assert not ProgressUpdate.objects.exists()
    assert import_runs.confirm(by=world.reporter, held=held).state == ImportRun.State.IMPORTING
    assert import_runs.run_job(run_id=held.pk) == ImportRun.State.IMPORTED
    assert ProgressUpdate.objects.get().source == "import"


def test_a_job_delivered_twice_runs_once(world, settings):
    settings.IMPORT_INLINE_ROWS = 0
    held = import_runs.receive(by=world.reporter, upload=filled(template(world), first_rows(world, value=5)))
    import_runs.run_job(run_id=held.pk)
    assert import_runs.run_job(run_id=held.pk) == "skipped"


def test_the_page_polls_a_running_import_for_its_progress_bar(world, settings, as_user):
    settings.IMPORT_INLINE_ROWS = 0
    held = import_runs.receive(by=world.reporter, upload=filled(template(world), first_rows(world, value=5)))
    client = as_user(world.reporter)
    response = client.get(f"/updates/import/{held.pk}/", HTTP_HX_REQUEST="true")
    assert b'role="progressbar"' in response.content
    import_runs.run_job(run_id=held.pk)
    assert client.get(f"/updates/import/{held.pk}/", HTTP_HX_REQUEST="true")["HX-Refresh"] == "true"


def test_the_api_refuses_more_rows_than_the_limit_with_413(world, api, monkeypatch):
    monkeypatch.setattr(imports, "MAX_ROWS", 1)
    upload = io.BytesIO(template(world))
    upload.name = "updates.xlsx"
    response = api(world.reporter).post("/api/v1/imports/", {"file": upload}, format="multipart")
    assert response.status_code == 413
    assert "more than 1 rows" in response.json()["detail"]


def rewritten(content: bytes, change) -> io.BytesIO:
    """The workbook with each of its parts passed through ``change(name, data)``, as a damaged or odd file."""
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.infolist():
            target.writestr(member, change(member.filename, source.read(member)))
    out.seek(0)
    return out


def updates_sheet(content: bytes) -> str:
    book = openpyxl.load_workbook(io.BytesIO(content))
    return f"xl/worksheets/sheet{book.sheetnames.index(imports.SHEET) + 1}.xml"


def test_a_damaged_sheet_is_refused_naming_the_file_not_answered_with_an_error(world):
    content = filled(template(world), first_rows(world, value=5)).getvalue()
    sheet = updates_sheet(content)
    damaged = rewritten(content, lambda name, data: data[: len(data) * 2 // 3] if name == sheet else data)
    with pytest.raises(UnsupportedFileType, match="damaged"):
        imports.run(by=world.reporter, upload=damaged, dry_run=True)


def test_rows_beyond_the_extent_a_file_claims_for_its_sheet_are_read(world):
    import re

    content = filled(template(world), first_rows(world, value=5)).getvalue()
    sheet = updates_sheet(content)
    claims_one_row = rewritten(
        content, lambda name, data: re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:A1"', data)
        if name == sheet else data,
    )  # fmt: skip
    summary = imports.run(by=world.reporter, upload=claims_one_row, dry_run=True)
    assert summary["counts"]["create"] == 1


def test_a_formula_whose_value_was_never_computed_is_refused_naming_its_cell(world):
    book = openpyxl.load_workbook(io.BytesIO(template(world)))
    sheet = book[imports.SHEET]
    keys = [cell.value for cell in sheet[1]]
    row = next(row for row in sheet.iter_rows(min_row=3) if row[1].value == world.indicator.code)
    row[keys.index("rag")].value = RAG.ON_TRACK
    row[keys.index("value")].value = "=2+3"  # openpyxl writes the formula, and no value computed for it
    out = io.BytesIO()
    book.save(out)
    with pytest.raises(InvalidInput, match=f"{openpyxl.utils.get_column_letter(keys.index('value') + 1)}{row[0].row}"):
        imports.run(by=world.reporter, upload=io.BytesIO(out.getvalue()), dry_run=True)


def test_a_workbook_unpacking_to_more_than_the_limit_is_refused(world, monkeypatch):
    monkeypatch.setattr(imports, "UNPACKED_LIMIT", 10_000)
    with pytest.raises(FileTooLarge, match="unpacks to more than"):
        imports.run(by=world.reporter, upload=io.BytesIO(template(world)), dry_run=True)


def test_a_sheet_of_endless_empty_rows_is_refused(world, monkeypatch):
    monkeypatch.setattr(imports, "MAX_LINES", 3)
    book = openpyxl.load_workbook(io.BytesIO(template(world)))
    book[imports.SHEET].cell(row=50, column=1).value = ""
    book[imports.SHEET].cell(row=51, column=3).value = "far below"
    out = io.BytesIO()
    book.save(out)
    with pytest.raises(FileTooLarge):
        imports.run(by=world.reporter, upload=io.BytesIO(out.getvalue()), dry_run=True)


def test_a_queued_run_that_fails_unexpectedly_is_failed_not_left_running(world, settings, monkeypatch):
    from actionplan.models import ImportRun

    settings.IMPORT_INLINE_ROWS = 0
    held = import_runs.receive(by=world.reporter, upload=filled(template(world), first_rows(world, value=5)))

    def broken(**_arguments):
        raise RuntimeError("the worker's time ran out")

    monkeypatch.setattr(imports, "process", broken)
    assert import_runs.run_job(run_id=held.pk) == ImportRun.State.FAILED
    held.refresh_from_db()
    assert held.state == ImportRun.State.FAILED and held.error


def test_the_import_page_chooses_a_reporters_only_office_and_the_latest_open_period(world, as_user):
    page = as_user(world.reporter).get("/updates/import/")
    form = page.context["form"]
    assert (form["office"].value(), form["period"].value()) == (world.office.code, world.period.code)


def test_the_import_page_chooses_no_office_for_an_officer_of_them_all(world, as_user):
    form = as_user(world.officer).get("/updates/import/").context["form"]
    assert form["office"].value() is None


# A line per row ---------------------------------------------------------------------------------------------


def both_activities(world, **restricted) -> dict:
    """The first activity's first indicator filled in, and the restricted activity's row (it has no indicator)."""
    return {**first_rows(world, value=5), (world.restricted.code, ""): {"rag": RAG.AT_RISK, "percent_complete": 10,
                                                                           **restricted}}  # fmt: skip


def test_the_summary_lists_every_row_of_the_sheet_by_its_number(world):
    summary = imports.run(by=world.reporter, upload=filled(template(world), first_rows(world, value=5)), dry_run=True)
    lines = [(row["row"], row["activity"], row["indicator"], row["status"], row["rule"]) for row in summary["rows"]]
    assert lines == [
        (3, world.activity.code, world.indicator.code, "create", ""),
        (4, world.activity.code, world.second_indicator.code, "unchanged", "blank"),
        (5, world.restricted.code, "", "unchanged", "blank"),
    ]
    assert summary["counts"] == {"create": 1, "update": 0, "unchanged": 2, "refused": 0}


def test_a_refused_row_takes_the_other_rows_of_its_activity_with_it_naming_it(world):
    values = first_rows(world, value=5)
    values[(world.activity.code, world.second_indicator.code)] = {"value": "five"}
    summary = imports.run(by=world.reporter, upload=filled(template(world), values), dry_run=False)
    first, second = row_of(summary, world.indicator), row_of(summary, world.second_indicator)
    assert (second["status"], second["rule"]) == ("refused", "not_a_number")
    assert (first["status"], first["rule"]) == ("refused", "activity_refused")
    assert "row 4" in first["reason"]
    assert not ProgressUpdate.objects.exists()


def test_another_activitys_rows_are_imported_beside_a_refused_one(world):
    upload = filled(template(world), both_activities(world, rag="purple"))
    summary = imports.run(by=world.reporter, upload=upload, dry_run=False)
    assert [(row["row"], row["status"]) for row in summary["rows"]] == [(3, "create"), (4, "unchanged"), (5, "refused")]
    assert "purple" in summary["rows"][2]["reason"]
    assert list(ProgressUpdate.objects.values_list("activity__code", flat=True)) == [world.activity.code]


def test_an_update_tells_the_rows_that_change_it_from_those_that_do_not(world):
    content = template(world)
    values = first_rows(world, value=5)
    values[(world.activity.code, world.second_indicator.code)] = {"value": 3}
    imports.run(by=world.reporter, upload=filled(content, values), dry_run=False)
    values[(world.activity.code, world.second_indicator.code)] = {"value": 4}
    summary = imports.run(by=world.reporter, upload=filled(content, values), dry_run=True)
    assert (row_of(summary, world.indicator)["status"], row_of(summary, world.second_indicator)["status"]) == (
        "unchanged",
        "update",
    )


def test_two_rows_of_an_activity_giving_different_ratings_are_refused_naming_both(world):
    values = first_rows(world, value=5)
    values[(world.activity.code, world.second_indicator.code)] = {"rag": RAG.OFF_TRACK, "value": 3}
    summary = imports.run(by=world.reporter, upload=filled(template(world), values), dry_run=True)
    row = row_of(summary, world.second_indicator)
    assert (row["status"], row["rule"]) == ("refused", "conflicting_values")
    assert "row 3" in row["reason"]


def test_the_page_shows_a_line_per_row_with_its_number_and_indicator(world, as_user):
    held = import_runs.receive(by=world.reporter, upload=filled(template(world), first_rows(world, value=5)))
    page = as_user(world.reporter).get(f"/updates/import/{held.pk}/").content.decode()
    assert f'<th scope="row">4</th><td class="text-nowrap">{world.activity.code}</td>' in page
    assert world.second_indicator.code in page


# Runs no worker finishes ------------------------------------------------------------------------------------


class Killed(BaseException):
    """A worker's death, as the code it ran sees it: nothing after it runs, no handler catches it."""


def killed_after_the_first_activity(monkeypatch):
    """Make the worker die as it writes the second activity's update (each activity a part of its own)."""
    monkeypatch.setattr(imports, "CHECKPOINT_EVERY", 1)
    create = services.create_update
    calls = []

    def dying(**arguments):
        calls.append(arguments["activity"].code)
        if len(calls) == 2:
            raise Killed
        return create(**arguments)

    monkeypatch.setattr(services, "create_update", dying)


def test_an_import_whose_worker_died_is_failed_listing_exactly_the_rows_it_imported(world, settings, monkeypatch):
    import datetime

    from django.utils import timezone

    from actionplan.models import ImportRun

    settings.IMPORT_INLINE_ROWS = 0
    held = import_runs.receive(by=world.reporter, upload=filled(template(world), both_activities(world)),
                               dry_run=False)  # fmt: skip
    killed_after_the_first_activity(monkeypatch)
    with pytest.raises(Killed):
        import_runs.run_job(run_id=held.pk)

    later = timezone.now() + datetime.timedelta(minutes=settings.IMPORT_STALE_MINUTES + 1)
    assert import_runs.fail_stale(now=later) == 1
    held.refresh_from_db()
    assert held.state == ImportRun.State.FAILED
    assert "nothing was imported from the rows not listed" in held.error
    listed = {(row["activity"], row["status"]) for row in held.summary["rows"]}
    assert listed == {(world.activity.code, "create"), (world.activity.code, "unchanged")}
    assert list(ProgressUpdate.objects.values_list("activity__code", flat=True)) == [world.activity.code]


def test_uploading_a_stopped_import_again_imports_the_rest(world, settings, monkeypatch):
    settings.IMPORT_INLINE_ROWS = 0
    content = filled(template(world), both_activities(world)).getvalue()
    held = import_runs.receive(by=world.reporter, upload=io.BytesIO(content), dry_run=False)
    killed_after_the_first_activity(monkeypatch)
    with pytest.raises(Killed):
        import_runs.run_job(run_id=held.pk)
    monkeypatch.undo()

    summary = imports.run(by=world.reporter, upload=io.BytesIO(content), dry_run=False)
    assert [row["status"] for row in summary["rows"]] == ["unchanged", "unchanged", "create"]
    assert ProgressUpdate.objects.count() == 2


def test_a_run_queued_with_no_worker_is_failed_once_stale_and_its_page_says_so(world, settings, as_user):
    import datetime

    from django.utils import timezone

    settings.IMPORT_INLINE_ROWS = 0
    held = import_runs.receive(by=world.reporter, upload=filled(template(world), first_rows(world, value=5)))
    later = timezone.now() + datetime.timedelta(minutes=settings.IMPORT_STALE_MINUTES + 1)
    assert import_runs.fail_stale(now=later) == 1
    page = as_user(world.reporter).get(f"/updates/import/{held.pk}/").content.decode()
    assert "The check stopped before it finished; nothing was imported." in page
    assert import_runs.run_job(run_id=held.pk) == "skipped"


def test_a_run_with_a_recent_sign_of_life_is_left_running(world, settings):
    import datetime

    from django.utils import timezone

    settings.IMPORT_INLINE_ROWS = 0
    import_runs.receive(by=world.reporter, upload=filled(template(world), first_rows(world, value=5)))
    sooner = timezone.now() + datetime.timedelta(minutes=settings.IMPORT_STALE_MINUTES - 1)
    assert import_runs.fail_stale(now=sooner) == 0


def test_a_finished_run_is_never_failed_by_the_sweeper(world, settings):
    import datetime

    from django.utils import timezone

    held = import_runs.receive(by=world.reporter, upload=filled(template(world), first_rows(world, value=5)))
    later = timezone.now() + datetime.timedelta(days=1)
    assert import_runs.fail_stale(now=later) == 0
    held.refresh_from_db()
    assert held.state == "checked"


def test_the_sweeper_is_scheduled_with_beat(db):
    from django_celery_beat.models import PeriodicTask

    from portal.reference import load_reference_data

    load_reference_data()
    job = PeriodicTask.objects.get(task="actionplan.tasks.fail_stale_imports")
    assert job.interval is not None and job.enabled


def test_the_page_refuses_a_file_that_is_not_an_xlsx_with_its_message_and_keeps_nothing(world, as_user):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from actionplan.models import ImportRun

    upload = SimpleUploadedFile("updates.xlsx", b"activity,value\nCYB-1.1,5\n")
    form = {"office": world.office.code, "period": world.period.code, "file": upload}
    response = as_user(world.reporter).post("/updates/import/", form)
    assert response.status_code == 200
    assert "This file is not an XLSX workbook." in response.content.decode()
    assert not ImportRun.objects.exists()


def test_the_summary_of_a_run_still_going_is_not_downloaded_as_if_final(world, settings, client):
    settings.IMPORT_INLINE_ROWS = 0
    held = import_runs.receive(by=world.reporter, upload=filled(template(world), first_rows(world, value=5)))
    client.force_login(world.reporter)
    response = client.get(f"/updates/import/{held.pk}/summary.csv", follow=True)
    assert response.redirect_chain[-1][0] == f"/updates/import/{held.pk}/"
    assert "its summary is ready once the run has finished" in response.content.decode()


def test_a_database_briefly_away_leaves_the_job_to_be_retried_not_the_run_failed(world, settings, monkeypatch):
    from django.db import OperationalError

    from actionplan.models import ImportRun

    settings.IMPORT_INLINE_ROWS = 0
    held = import_runs.receive(by=world.reporter, upload=filled(template(world), first_rows(world, value=5)))

    def away(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(import_runs.imports, "process", away)
    with pytest.raises(OperationalError):
        import_runs.run_job(run_id=held.pk)
    held.refresh_from_db()
    assert held.state == ImportRun.State.CHECKING
