"""Reports in six languages: one content and one hash, each language's files rendered from it on request.

Set SCREENS_DIR to save the first page of the Arabic, French, Russian and Chinese PDFs as PNG
(poppler's pdftoppm), to look at their layout and glyphs.
"""

import datetime
import io
import os
import shutil
import subprocess
import time
from pathlib import Path

import openpyxl
import pypdf
import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from outbox.models import Message
from steering.models import ProgressReport, ReportRendering
from steering.reports import charts, renderings, services
from steering.reports import snapshot as snapshots
from steering.reports.render_xlsx import sheet_name

ARABIC_AREA = "مكافحة الإرهاب"
ARABIC_ACTIVITY = "ورشة عمل إقليمية حول تبادل المعلومات"
CHINESE_AREA = "打击网络犯罪"
RUSSIAN_AREA = "Борьба с киберпреступностью"


def compile_in(world, language, **extra):
    """Compile a whole-plan report of the world's period asked in ``language``; return it fresh."""
    report = ProgressReport.objects.create(
        plan=world.plan, period=world.period, requested_by=world.officer, language=language, **extra
    )
    assert services.compile_report(report_id=report.pk) == "succeeded", ProgressReport.objects.get(pk=report.pk).error
    return ProgressReport.objects.get(pk=report.pk)


def read_pdf(stored) -> pypdf.PdfReader:
    with stored.open("rb") as handle:
        return pypdf.PdfReader(io.BytesIO(handle.read()))


def pdf_text(stored) -> str:
    """The PDF's text as pypdf extracts it, with every run of white space made one space."""
    return " ".join(" ".join(page.extract_text() for page in read_pdf(stored).pages).split())


def embedded_fonts(stored) -> set[str]:
    fonts = set()
    for page in read_pdf(stored).pages:
        for font in page["/Resources"].get("/Font", {}).values():
            fonts.add(str(font.get_object()["/BaseFont"]))
    return fonts


def save_first_page(stored, language):
    """Save the PDF's first page (and its second, the summary) as PNG when SCREENS_DIR is set."""
    screens = os.environ.get("SCREENS_DIR")
    if not screens or not shutil.which("pdftoppm"):
        return
    Path(screens).mkdir(parents=True, exist_ok=True)
    for page, name in ((1, f"report_{language}"), (2, f"report_{language}_summary")):
        subprocess.run(
            ["pdftoppm", "-png", "-r", "60", "-f", str(page), "-l", str(page), "-singlefile", stored.path,
             str(Path(screens) / name)],
            check=True,
        )  # fmt: skip


def handed_to_weasyprint(monkeypatch) -> list[str]:
    """Record the HTML every PDF is rendered from."""
    import weasyprint

    pages, real = [], weasyprint.HTML

    def recording(*args, string=None, **kwargs):
        pages.append(string)
        return real(*args, string=string, **kwargs)

    monkeypatch.setattr(weasyprint, "HTML", recording)
    return pages


@pytest.fixture
def officer_client(client, reported):
    client.force_login(reported.officer)
    return client


# One content, one hash ---------------------------------------------------------------------------


def test_the_same_data_asked_in_english_and_arabic_gives_the_same_snapshot_and_hash(reported, monkeypatch):
    moment = datetime.datetime(2020, 8, 1, 9, tzinfo=datetime.UTC)
    monkeypatch.setattr("django.utils.timezone.now", lambda: moment)
    report = ProgressReport.objects.create(plan=reported.plan, period=reported.period)

    frozen = {}
    for language in ("en", "ar"):
        report.language = language
        with translation.override(language):
            frozen[language] = snapshots.freeze(snapshots.take(report))

    assert frozen["en"] == frozen["ar"]


def test_a_report_rendered_in_another_language_keeps_its_snapshot_and_hash(reported, media):
    report = compile_in(reported, "en")
    rendering = renderings.request_rendering(report=report, language="ar")

    assert renderings.render(rendering_id=rendering.pk) == "succeeded"

    fresh = ProgressReport.objects.get(pk=report.pk)
    assert (fresh.content_hash, fresh.snapshot) == (report.content_hash, report.snapshot)
    assert report.content_hash in pdf_text(ReportRendering.objects.get(pk=rendering.pk).pdf)


def test_asking_in_another_language_while_an_identical_report_compiles_renders_that_one_instead_of_a_second(
    reported, media
):
    first, created = services.request_report(by=reported.officer, plan=reported.plan, period=reported.period)
    again, created_again = services.request_report(
        by=reported.officer, plan=reported.plan, period=reported.period, language="fr"
    )

    assert (again.pk, created, created_again) == (first.pk, True, False)
    assert ProgressReport.objects.count() == 1
    rendering = ReportRendering.objects.get()
    assert (rendering.report_id, rendering.language, rendering.state) == (first.pk, "fr", "queued")
    assert renderings.render(rendering_id=rendering.pk) == "waiting"  # the report is not compiled yet

    sent_before = Message.objects.filter(sender="steering.tasks.enqueue_rendering").count()
    assert services.compile_report(report_id=first.pk) == "succeeded"
    assert Message.objects.filter(sender="steering.tasks.enqueue_rendering").count() == sent_before + 1
    assert renderings.render(rendering_id=rendering.pk) == "succeeded"
    assert ReportRendering.objects.get().pdf.name.endswith("progress-report-2020-q2-plan-fr.pdf")


def test_a_rendering_delivered_twice_renders_once(reported, media):
    report = compile_in(reported, "en")
    rendering = renderings.request_rendering(report=report, language="ru")
    assert renderings.render(rendering_id=rendering.pk) == "succeeded"
    assert renderings.render(rendering_id=rendering.pk) == "skipped"


def test_a_failed_rendering_is_rendered_again_when_asked_again(reported, media, monkeypatch):
    report = compile_in(reported, "en")
    rendering = renderings.request_rendering(report=report, language="es")

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("steering.reports.renderings.write_xlsx", broken)
    assert renderings.render(rendering_id=rendering.pk) == "failed"
    assert "disk full" in ReportRendering.objects.get().error
    monkeypatch.undo()

    again = renderings.request_rendering(report=report, language="es")
    assert (again.pk, again.state, again.attempts) == (rendering.pk, "queued", 0)
    assert renderings.render(rendering_id=rendering.pk) == "succeeded"


def test_a_language_the_portal_does_not_speak_is_refused_naming_the_field(reported):
    from portal.errors import InvalidInput

    with pytest.raises(InvalidInput) as refused:
        services.request_report(by=reported.officer, plan=reported.plan, period=reported.period, language="xx")
    assert refused.value.field == "language"
    assert not ProgressReport.objects.exists()


def test_the_sweeper_fails_renderings_stuck_or_of_a_failed_report_and_sends_again_those_waiting(reported, settings):
    from django.utils import timezone

    now = timezone.now()
    succeeded = ProgressReport.objects.create(
        plan=reported.plan, period=reported.period, state="succeeded", snapshot={}, content_hash="h", pdf="a", xlsx="b"
    )
    failed = ProgressReport.objects.create(plan=reported.plan, period=reported.locked_period, state="failed")
    stuck = ReportRendering.objects.create(
        report=succeeded,
        language="fr",
        state="running",
        started_at=now - datetime.timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 120),
    )
    orphan = ReportRendering.objects.create(report=failed, language="ar")
    waiting = ReportRendering.objects.create(report=succeeded, language="ru", task_id="t-ru")
    ReportRendering.objects.filter(pk=waiting.pk).update(updated_at=now - datetime.timedelta(minutes=10))

    assert renderings.fail_stale_renderings(now=now) == 2

    states = dict(ReportRendering.objects.values_list("pk", "state"))
    assert (states[stuck.pk], states[orphan.pk], states[waiting.pk]) == ("failed", "failed", "queued")
    assert Message.objects.filter(sender="steering.tasks.enqueue_rendering", kwargs__rendering_id=str(waiting.pk))


# Rendering in each language -------------------------------------------------------------------------


@pytest.fixture
def arabic_names(reported):
    """Names typed in Arabic: a focus area, and an activity's title."""
    reported.toc.name = ARABIC_AREA
    reported.toc.save()
    reported.toc_activity.title = ARABIC_ACTIVITY
    reported.toc_activity.save()
    return reported


def test_an_arabic_pdf_reads_right_to_left_and_keeps_arabic_text_in_logical_order(arabic_names, media, monkeypatch):
    html = handed_to_weasyprint(monkeypatch)

    report = compile_in(arabic_names, "ar")

    assert '<html lang="ar" dir="rtl">' in html[0]
    text = pdf_text(report.pdf)
    assert ARABIC_AREA in text
    # The title wraps in its column (of fixed width): read line by line, the activity's code comes between.
    assert ARABIC_ACTIVITY in " ".join(text.replace(arabic_names.toc_activity.code, " ").split())
    assert any("Arabic" in font for font in embedded_fonts(report.pdf))
    save_first_page(report.pdf, "ar")


def test_an_english_pdf_reads_left_to_right(reported, media, monkeypatch):
    html = handed_to_weasyprint(monkeypatch)
    compile_in(reported, "en")
    assert '<html lang="en" dir="ltr">' in html[0]


def test_a_chinese_pdf_holds_its_chinese_title_and_names_in_an_embedded_cjk_font(reported, media):
    reported.area.name = CHINESE_AREA
    reported.area.save()
    with translation.override("zh-hans"):
        title = gettext("Progress report")

    report = compile_in(reported, "zh-hans")

    text = pdf_text(report.pdf)
    assert title in text and CHINESE_AREA in text
    assert any("CJK" in font for font in embedded_fonts(report.pdf)), embedded_fonts(report.pdf)
    save_first_page(report.pdf, "zh-hans")


def test_a_russian_pdf_holds_cyrillic(reported, media):
    reported.area.name = RUSSIAN_AREA
    reported.area.save()
    report = compile_in(reported, "ru")
    assert RUSSIAN_AREA in pdf_text(report.pdf)
    save_first_page(report.pdf, "ru")


def test_a_french_pdf_writes_its_dates_the_french_way(reported, media):
    report = compile_in(reported, "fr")
    # 2020-Q2 runs from 1 April to 30 June 2020, its updates due on 15 July (CLDR's French).
    text = pdf_text(report.pdf)
    assert "1 avril 2020" in text and "30 juin 2020" in text and "15 juillet 2020" in text
    save_first_page(report.pdf, "fr")


def test_an_arabic_workbook_reads_right_to_left_and_keeps_numbers_numeric(arabic_names, media):
    report = compile_in(arabic_names, "ar")
    with report.xlsx.open("rb") as handle:
        book = openpyxl.load_workbook(io.BytesIO(handle.read()))
    assert all(sheet.sheet_view.rightToLeft for sheet in book.worksheets)
    summary = book.worksheets[1]
    rows = list(summary.iter_rows(min_row=2, values_only=True))
    assert any(row[1] == ARABIC_AREA for row in rows)
    assert all(isinstance(value, int) for value in rows[-1][2:5])


def test_an_english_workbook_reads_left_to_right(reported, media):
    report = compile_in(reported, "en")
    with report.xlsx.open("rb") as handle:
        book = openpyxl.load_workbook(io.BytesIO(handle.read()))
    assert not any(sheet.sheet_view.rightToLeft for sheet in book.worksheets)


def test_sheet_names_excel_would_refuse_are_made_acceptable_and_unique():
    taken = set()
    names = [sheet_name(title, taken) for title in ("Missing [and] late: 2020/Q2?", "A" * 40, "A" * 40, "'x'", "")]
    assert names[0] == "Missing  and  late  2020 Q2"
    assert (names[1], names[2]) == ("A" * 31, "A" * 27 + " (2)")
    assert names[3] == "x" and names[4]
    assert all(len(name) <= 31 and not set(name) & set("[]:*?/\\") for name in names)


def test_charts_are_mirrored_right_to_left():
    rows, series = [("CYB", [2, 1])], [("On track", "#1e8e3e"), ("Off track", "#c5221f")]
    left_to_right = charts.stacked_bars(rows, series, title="t")
    right_to_left = charts.stacked_bars(rows, series, title="t", rtl=True)
    width = charts.LABEL_WIDTH + charts.CHART_WIDTH + 50
    assert '<text x="0.0" y="' in left_to_right and 'text-anchor="end"' not in left_to_right
    assert f'<text x="{width:.1f}" y="' in right_to_left and 'text-anchor="end"' in right_to_left


# Browser ----------------------------------------------------------------------------------------------


def test_the_report_page_offers_each_language_and_shows_one_asked_for_in_progress_then_its_files(
    officer_client, reported, media
):
    report = compile_in(reported, "en")
    page = officer_client.get(reverse("report-detail", args=[report.pk])).content.decode()
    assert [f'data-language="{code}"' in page for code in ("en", "fr", "es", "ar", "ru", "zh-hans")] == [True] * 6
    assert 'data-language="en" data-state="succeeded"' in page and 'data-language="ar" data-state="none"' in page

    response = officer_client.post(reverse("report-render", args=[report.pk]), {"language": "ar"})

    assert response.status_code == 302
    page = officer_client.get(response.url).content.decode()
    assert 'data-language="ar" data-state="queued"' in page
    assert f'hx-get="{reverse("report-languages", args=[report.pk])}"' in page
    rendering = ReportRendering.objects.get(report=report, language="ar")
    assert renderings.render(rendering_id=rendering.pk) == "succeeded"
    card = officer_client.get(reverse("report-languages", args=[report.pk]), HTTP_HX_REQUEST="true")
    html = card.content.decode()
    assert 'data-language="ar" data-state="succeeded"' in html and "hx-trigger" not in html
    assert f"{reverse('report-pdf', args=[report.pk])}?language=ar" in html
    pdf = officer_client.get(reverse("report-pdf", args=[report.pk]), {"language": "ar"})
    assert pdf.status_code == 200
    assert 'filename="progress-report-2020-q2-plan-ar.pdf"' in pdf["Content-Disposition"]


def test_downloading_a_language_not_rendered_yet_asks_for_it_and_opens_the_report_page(officer_client, reported, media):
    report = compile_in(reported, "en")
    response = officer_client.get(reverse("report-xlsx", args=[report.pk]), {"language": "ru"})
    assert response.status_code == 302 and response.url.startswith(reverse("report-detail", args=[report.pk]))
    assert ReportRendering.objects.get(report=report).language == "ru"


@pytest.mark.parametrize("language", ["xx", "EN-gb", "../../etc/passwd", "", "a" * 300])
def test_an_unknown_or_malformed_language_in_the_download_address_sends_the_english_file(
    officer_client, reported, media, language
):
    report = compile_in(reported, "en")
    response = officer_client.get(reverse("report-pdf", args=[report.pk]), {"language": language})
    assert response.status_code == 200
    assert 'filename="progress-report-2020-q2-plan.pdf"' in response["Content-Disposition"]
    assert not ReportRendering.objects.exists()


def test_the_form_asks_for_a_report_in_the_language_chosen(officer_client, reported):
    officer_client.post(reverse("report-list"), {"period": reported.period.pk, "focus_area": "", "language": "ru"})
    assert ProgressReport.objects.get().language == "ru"


def test_the_form_asks_in_the_pages_language_when_none_is_chosen(officer_client, reported):
    officer_client.post(
        reverse("report-list"), {"period": reported.period.pk, "focus_area": ""}, HTTP_ACCEPT_LANGUAGE="es"
    )
    assert ProgressReport.objects.get().language == "es"


def test_a_meeting_record_prints_right_to_left_in_the_users_arabic(committee_client, reported, monkeypatch):
    html = handed_to_weasyprint(monkeypatch)
    reported.meeting.place = "ليون"
    reported.meeting.save()

    response = committee_client.get(reverse("meeting-pdf", args=[reported.meeting.pk]), HTTP_ACCEPT_LANGUAGE="ar")

    assert response.status_code == 200 and '<html lang="ar" dir="rtl">' in html[0]
    text = " ".join(
        "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(response.content)).pages).split()
    )
    assert "ليون" in text
    assert 'filename="meeting-2020-09-01-ar.pdf"' in response["Content-Disposition"]


# API ----------------------------------------------------------------------------------------------------


def test_the_api_shows_the_languages_a_report_is_available_in(api, reported, media):
    report = compile_in(reported, "en")
    rendering = renderings.request_rendering(report=report, language="fr")
    renderings.render(rendering_id=rendering.pk)
    renderings.request_rendering(report=report, language="ar")

    body = api(reported.officer).get(f"/api/v1/reports/{report.pk}/").json()

    assert body["language"] == "en"
    states = {row["language"]: row["state"] for row in body["languages"]}
    assert states == {"en": "succeeded", "fr": "succeeded", "es": None, "ar": "queued", "ru": None, "zh-hans": None}
    assert body["languages"][1]["pdf"] == f"/api/v1/reports/{report.pk}/pdf/?language=fr"


def test_the_api_answers_202_with_retry_after_for_a_language_not_rendered_yet_then_the_file(api, reported, media):
    report = compile_in(reported, "en")
    client = api(reported.officer)

    pending = client.get(f"/api/v1/reports/{report.pk}/pdf/", {"language": "zh-hans"})

    assert pending.status_code == 202 and int(pending["Retry-After"]) > 0
    assert (pending.json()["language"], pending.json()["state"]) == ("zh-hans", "queued")
    rendering = ReportRendering.objects.get(report=report, language="zh-hans")
    assert renderings.render(rendering_id=rendering.pk) == "succeeded"
    ready = client.get(f"/api/v1/reports/{report.pk}/pdf/", {"language": "zh-hans"})
    assert ready.status_code == 200 and ready["Content-Type"] == "application/pdf"


def test_the_api_sends_the_english_file_for_an_unknown_language(api, reported, media):
    report = compile_in(reported, "en")
    response = api(reported.officer).get(f"/api/v1/reports/{report.pk}/xlsx/", {"language": "klingon"})
    assert response.status_code == 200
    assert 'filename="progress-report-2020-q2-plan.xlsx"' in response["Content-Disposition"]


def test_the_api_refuses_an_unknown_language_naming_the_field(api, reported):
    response = api(reported.officer).post("/api/v1/reports/", {"period": "2020-Q2", "language": "xx"}, format="json")
    assert response.status_code == 400
    assert response.json()["language"] and set(response.json()) == {"language"}
    assert not ProgressReport.objects.exists()


def test_the_api_asks_in_the_requests_language_by_default(api, reported):
    response = api(reported.officer).post(
        "/api/v1/reports/", {"period": "2020-Q2"}, format="json", HTTP_ACCEPT_LANGUAGE="ar"
    )
    assert response.status_code == 201 and response.json()["language"] == "ar"


def test_the_api_asks_for_an_identical_report_in_progress_in_another_language_without_compiling_twice(api, reported):
    client = api(reported.officer)
    first = client.post("/api/v1/reports/", {"period": "2020-Q2", "language": "en"}, format="json")
    second = client.post("/api/v1/reports/", {"period": "2020-Q2", "language": "ru"}, format="json")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert {row["language"]: row["state"] for row in second.json()["languages"]}["ru"] == "queued"


def test_a_worker_renders_a_language_asked_for_through_the_api(api, reported, media, queue, start_worker, monkeypatch):
    from steering.tasks import render_report

    def to_this_queue(*, rendering_id, task_id):
        render_report.apply_async(args=[str(rendering_id)], task_id=task_id, queue=queue)

    monkeypatch.setattr("steering.tasks.enqueue_rendering", to_this_queue)
    report = compile_in(reported, "en")
    start_worker(MEDIA_ROOT=str(media))
    client, url = api(reported.officer), f"/api/v1/reports/{report.pk}/pdf/?language=ar"

    assert client.get(url).status_code == 202
    deadline = time.monotonic() + 60
    while (response := client.get(url)).status_code == 202 and time.monotonic() < deadline:
        time.sleep(0.3)

    assert response.status_code == 200, response.content
    assert 'filename="progress-report-2020-q2-plan-ar.pdf"' in response["Content-Disposition"]
    assert ReportRendering.objects.get().attempts == 1
