"""The spreadsheet import through the API: runs kept as the pages keep them, dry run, confirmation, summary."""

import io

import openpyxl
import pytest
import xlsxwriter
from django.core.files.uploadedfile import SimpleUploadedFile

from actionplan import imports
from actionplan.models import RAG, ImportRun, ProgressUpdate
from tests.actionplan.test_imports import filled, first_rows, row_of, template

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def upload(content: bytes, name="updates.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=XLSX)


def post(client, content: bytes, **fields):
    return client.post("/api/v1/imports/", {"file": upload(content), **fields}, format="multipart")


def filled_in(world, **values) -> bytes:
    return filled(template(world), first_rows(world, **values)).getvalue()


def test_a_dry_run_answers_201_with_the_run_and_its_summary_and_writes_nothing(world, api):
    response = post(api(world.reporter), filled_in(world, value=5))
    assert response.status_code == 201
    body = response.json()
    assert response["Location"] == body["url"] == f"/api/v1/imports/{body['id']}/"
    assert (body["state"], body["progress"]) == ("checked", {"done": 3, "total": 3})
    assert row_of(body["summary"], world.indicator)["status"] == "create"
    assert body["confirm"] == f"/api/v1/imports/{body['id']}/confirm/"
    assert not ProgressUpdate.objects.exists()


def test_confirming_a_checked_dry_run_imports_it(world, api):
    client = api(world.reporter)
    run = post(client, filled_in(world, value=5)).json()
    response = client.post(run["confirm"])
    assert response.status_code == 200
    assert (response.json()["state"], response.json()["summary"]["dry_run"]) == ("imported", False)
    assert ProgressUpdate.objects.get().source == "import"


def test_dry_run_false_checks_and_imports_in_one_go(world, api):
    response = post(api(world.reporter), filled_in(world, value=5), dry_run="false")
    assert response.status_code == 201
    assert response.json()["state"] == "imported"
    assert row_of(response.json()["summary"], world.indicator)["status"] == "create"
    assert ProgressUpdate.objects.get().measurements.get().value == 5


def test_a_run_is_confirmed_once(world, api):
    client = api(world.reporter)
    run = post(client, filled_in(world, value=5)).json()
    client.post(run["confirm"])
    again = client.post(run["confirm"])
    assert again.status_code == 409
    assert "imported already" in again.json()["detail"]
    assert ProgressUpdate.objects.count() == 1


def test_an_import_done_at_once_is_no_dry_run_to_confirm(world, api):
    client = api(world.reporter)
    run = post(client, filled_in(world, value=5), dry_run="false").json()
    assert run["confirm"] is None
    assert client.post(f"/api/v1/imports/{run['id']}/confirm/").status_code == 409


def test_a_run_still_being_checked_is_refused_confirmation_saying_so(world, api, settings):
    settings.IMPORT_INLINE_ROWS = 0
    client = api(world.reporter)
    run = post(client, filled_in(world, value=5)).json()
    response = client.post(f"/api/v1/imports/{run['id']}/confirm/")
    assert response.status_code == 409
    assert "still being checked" in response.json()["detail"]


def test_an_officer_may_read_a_reporters_run_but_not_confirm_it(world, api):
    run = post(api(world.reporter), filled_in(world, value=5)).json()
    officer = api(world.officer)
    assert officer.get(run["url"]).status_code == 200
    response = officer.post(run["confirm"])
    assert response.status_code == 403
    assert "Only who uploaded" in response.json()["detail"]
    assert not ProgressUpdate.objects.exists()


def test_another_reporter_neither_sees_nor_confirms_a_run(world, api):
    run = post(api(world.reporter), filled_in(world, value=5)).json()
    other = api(world.other_reporter)
    assert other.get(run["url"]).status_code == 404
    assert other.post(run["confirm"]).status_code == 404
    assert other.get(f"{run['url']}summary.csv").status_code == 404
    assert other.get("/api/v1/imports/").json()["count"] == 0


def test_a_large_file_is_queued_with_202_and_its_run_tells_its_progress(world, api, settings):
    settings.IMPORT_INLINE_ROWS = 0
    client = api(world.reporter)
    response = post(client, filled_in(world, value=5))
    assert response.status_code == 202
    run = client.get(response["Location"]).json()
    assert (run["state"], run["progress"], run["summary"]) == ("checking", {"done": 0, "total": 3}, None)
    assert run["summary_csv"] is None
    assert client.get(f"{response['Location']}summary.csv").status_code == 409


def test_a_large_confirmed_file_is_queued_with_202(world, api, settings):
    client = api(world.reporter)
    run = post(client, filled_in(world, value=5)).json()
    settings.IMPORT_INLINE_ROWS = 0
    response = client.post(run["confirm"])
    assert response.status_code == 202
    assert (response.json()["state"], response.json()["summary"]) == ("importing", None)
    assert not ProgressUpdate.objects.exists()


def test_the_summary_csv_has_a_line_per_row_of_the_sheet(world, api):
    client = api(world.reporter)
    run = post(client, filled_in(world, value=5)).json()
    response = client.get(run["summary_csv"])
    assert response["Content-Type"].startswith("text/csv")
    lines = response.content.decode().splitlines()
    assert lines[1:] == [
        f"3,{world.activity.code},{world.indicator.code},Would create,,",
        f"4,{world.activity.code},{world.second_indicator.code},Unchanged,Left blank.,",
        f"5,{world.restricted.code},,Unchanged,Left blank.,",
    ]


def test_a_retried_post_with_its_idempotency_key_answers_the_same_run(world, api):
    client = api(world.reporter)
    content = filled_in(world, value=5)
    first = client.post("/api/v1/imports/", {"file": upload(content)}, format="multipart",
                        HTTP_IDEMPOTENCY_KEY="import-1")  # fmt: skip
    again = client.post("/api/v1/imports/", {"file": upload(content)}, format="multipart",
                        HTTP_IDEMPOTENCY_KEY="import-1")  # fmt: skip
    assert (again.status_code, again["Idempotent-Replayed"]) == (201, "true")
    assert again.json()["id"] == first.json()["id"]
    assert ImportRun.objects.count() == 1


def test_the_list_holds_a_reporters_own_runs_and_an_officers_all(world, api):
    post(api(world.reporter), filled_in(world, value=5))
    other = imports.template(by=world.other_reporter, office=world.other_office, period=world.period)
    post(api(world.other_reporter), other)
    assert api(world.reporter).get("/api/v1/imports/").json()["count"] == 1
    assert api(world.officer).get("/api/v1/imports/").json()["count"] == 2


@pytest.mark.parametrize("size", [1, 6])
def test_the_list_reads_as_many_queries_for_six_runs_as_for_one(world, api, django_assert_max_num_queries, size):
    from django.core.files.base import ContentFile

    for _number in range(size):
        ImportRun.objects.create(user=world.reporter, office=world.office, period=world.period,
                                 file=ContentFile(b"x", name="updates.xlsx"))  # fmt: skip
    client = api(world.reporter)
    # The token and its user, the token's record of use, the user's roles (officers see all), the count, the
    # page of runs with their user, office and period.
    with django_assert_max_num_queries(5):
        response = client.get("/api/v1/imports/")
    assert response.json()["count"] == size


# Bad input: each refused with a message naming the file, nothing imported and no run kept ---------------------


def another_offices(world):
    return {"file": imports.template(by=world.officer, office=world.other_office, period=world.period)}


def another_period_than_asked(world):
    return {"file": filled_in(world, value=5), "period": world.locked_period.code}


def another_office_than_asked(world):
    return {"file": filled_in(world, value=5), "office": world.other_office.code}


def an_older_plan_version(world):
    content = filled_in(world, value=5)
    world.plan.version = "2.0"
    world.plan.save()
    return {"file": content}


def not_an_xlsx(world):
    return {"file": b"activity,indicator,value\nCYB-1.1,CYB-1.1-I1,5\n"}


def a_formula_never_computed(world):
    book = openpyxl.load_workbook(io.BytesIO(template(world)))
    sheet = book[imports.SHEET]
    sheet["E3"], sheet["H3"] = RAG.ON_TRACK, "=2+3"
    out = io.BytesIO()
    book.save(out)
    return {"file": out.getvalue()}


def ten_thousand_and_one_rows(world):
    about = list(openpyxl.load_workbook(io.BytesIO(template(world)), read_only=True)[imports.ABOUT].values)
    out = io.BytesIO()
    written = xlsxwriter.Workbook(out, {"in_memory": True, "constant_memory": True})
    sheet = written.add_worksheet(imports.SHEET)
    sheet.write_row(0, 0, imports.FIXED_COLUMNS)
    for number in range(2, imports.MAX_ROWS + 3):
        sheet.write_row(number, 0, [world.activity.code, world.indicator.code, "", "", RAG.ON_TRACK, 10, "", 1])
    info = written.add_worksheet(imports.ABOUT)
    for number, row in enumerate(about):
        info.write_row(number, 0, row)
    written.close()
    return {"file": out.getvalue()}


@pytest.mark.parametrize(
    ("make", "status", "message"),
    [
        (another_offices, 403, "You do not belong to office INTERPOL-RB-NBO"),
        (another_period_than_asked, 400, "This is the template of office UNODC-ROSEAP for 2020-Q2"),
        (another_office_than_asked, 400, "This is the template of office UNODC-ROSEAP for 2020-Q2"),
        (an_older_plan_version, 400, "another version of the plan"),
        (not_an_xlsx, 415, "not an XLSX workbook"),
        (a_formula_never_computed, 400, "Cell H3 holds a formula whose value was never computed"),
        (ten_thousand_and_one_rows, 413, "more than 10,000 rows"),
    ],
    ids=lambda value: value.__name__ if callable(value) else None,
)
def test_bad_input_is_refused_with_a_message_and_nothing_imported(world, api, media, make, status, message):
    fields = make(world)
    content = fields.pop("file")
    response = post(api(world.reporter), content, dry_run="false", **fields)
    assert response.status_code == status
    assert message in response.json()["detail"]
    assert not ProgressUpdate.objects.exists()
    assert not ImportRun.objects.exists()
    assert not [path for path in media.rglob("*") if path.is_file()]
