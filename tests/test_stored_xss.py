"""Stored XSS: markup typed into any free text comes back as text, on every page, in chart data, e-mails,
PDFs and spreadsheets, and text a spreadsheet would run as a formula never runs.

Every free text of a small world holds ``PAYLOAD`` (or, where the column is short, ``SHORT``)
followed by a marker naming the field, so that a page showing a field raw names it.
"""

import csv
import datetime
import io
import json
import re
from decimal import Decimal
from html.parser import HTMLParser

import openpyxl
import pypdf
import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from actionplan import evidence, services
from actionplan.measurements import MeasurementInput
from actionplan.models import Provision, Tag
from portal.notifications import send_due
from portal.tokens import issue_token
from steering import services as steering_services
from steering.models import ProgressReport
from steering.reports import services as report_services
from tests import factories
from tests.crawler import Crawler

PAYLOAD = """<script>alert(1)</script><img src=x onerror=alert(1)>"'><svg onload=alert(1)>"""
SHORT = """"'><svg onload=alert(1)>"""
MARK = "zxqmark"
MARKED = re.compile(MARK + r"[a-z_]+")
FORMULAS = ["=1+1", "+1+1", "-1+1", "@SUM(1)", "Workshop;=1+1", "Workshop,=1+1", 'Workshop; "=1+1"']


def hostile(field: str, *, short: bool = False) -> str:
    return f"{SHORT if short else PAYLOAD}{MARK}{field}"


class _Injected(HTMLParser):
    """Find the elements and attributes a payload would have made, had it reached the page raw."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img" and attrs.get("src") == "x":
            self.found.append(self.get_starttag_text())
        for name, value in attrs.items():
            if name.startswith("on") and "alert(1)" in (value or ""):
                self.found.append(self.get_starttag_text())
        self._script = tag == "script"

    def handle_endtag(self, tag):
        self._script = False

    def handle_data(self, data):
        if self._script and data.strip() == "alert(1)":
            self.found.append(f"<script>{data}</script>")


def injected(html: str) -> list[str]:
    parser = _Injected()
    parser.feed(html)
    return parser.found


def flat(text: str) -> str:
    """Text without white space: PDF extraction breaks long lines where it likes."""
    return re.sub(r"\s+", "", text)


def csv_upload(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"office,value\nNBO,1\n", content_type="text/csv")


@pytest.fixture
def hostile_world(committee_world, settings, tmp_path, django_capture_on_commit_callbacks):
    """The world with markup in every free text people type: the plan's, the updates', the committee's."""
    settings.MEDIA_ROOT = tmp_path / "media"
    world = committee_world

    def put(instance, *fields, short=()):
        for field in fields:
            setattr(instance, field, hostile(f"{type(instance).__name__.lower()}_{field}"))
        for field in short:
            setattr(instance, field, hostile(field, short=True))
        instance.save()

    put(world.plan, "title")
    put(world.plan.agreement, "title", "summary")
    Provision.objects.create(
        agreement=world.plan.agreement, number="1", title=hostile("provision_title"), text=hostile("provision_text")
    )
    put(world.area, "name", "description")
    put(world.objective, "statement")
    put(world.office, "name", "city")
    put(world.other_office, "name")
    put(world.activity.lead_organization, "name")
    put(world.activity, "title", "description", "funding_source")
    world.activity.tags.add(Tag.objects.create(name=hostile("tag", short=True)))
    world.activity.implementing_offices.add(world.other_office)
    put(world.indicator, "name", "means_of_verification", short=["unit"])
    world.objective_indicator = factories.IndicatorFactory(
        objective=world.objective, activity=None, code="CYB-1-I1", name=hostile("objective_indicator_name")
    )
    for user in (world.officer, world.reporter):
        user.first_name, user.last_name = hostile(f"{user.username.replace('.', '_')}_first"), "Smith"
        user.save()
    put(world.meeting, "title", "place", "agenda", "minutes")
    put(world.committee_body, "name")

    with django_capture_on_commit_callbacks(execute=True):
        update = services.create_update(
            by=world.reporter, activity=world.activity, period=world.period, office=world.office, rag="at_risk",
            percent_complete=40, narrative=hostile("narrative"), challenges=hostile("challenges"),
            next_steps=hostile("next_steps"), measurements=[
                MeasurementInput(indicator=world.indicator, value=Decimal(7), note=hostile("measurement_note")),
                MeasurementInput(indicator=world.objective_indicator, value=Decimal(3), note=hostile("objective_note")),
            ],
        )  # fmt: skip
        attached = evidence.add_evidence(by=world.reporter, update=update, upload=csv_upload("list.csv"))
        # A browser's upload keeps no folder in the name; stored names may come from the API or an import.
        attached.original_name = hostile("evidence_name") + ".csv"
        attached.save()
        services.submit_update(by=world.reporter, update=update, note=hostile("submission_note"))
        services.return_update(by=world.officer, update=update, comment=hostile("return_comment"))
        services.add_comment(by=world.reporter, update=update, text=hostile("reply"))
        services.submit_update(by=world.reporter, update=update, note=hostile("resubmission_note"))
        services.approve_update(by=world.officer, update=update, comment=hostile("approval_comment"))
        world.update = update

        returned = services.create_update(
            by=world.other_reporter, activity=world.activity, period=world.period, office=world.other_office,
            rag="on_track", percent_complete=10, narrative=hostile("returned_narrative"), measurements=[
                MeasurementInput(indicator=world.indicator, value=Decimal(2), note=hostile("returned_note")),
            ],
        )  # fmt: skip
        services.submit_update(by=world.other_reporter, update=returned)
        services.return_update(by=world.officer, update=returned, comment=hostile("other_return_comment"))
        world.returned = returned

        # Submitted updates left in the locked period: one opened for review, one closed out, each with a reason.
        for activity, office, author, act in (
            (world.activity, world.office, world.reporter, services.reopen_for_review),
            (world.other_activity, world.other_office, world.other_reporter, services.close_out),
        ):
            stuck = factories.ProgressUpdateFactory(
                activity=activity, period=world.locked_period, office=office, author=author, state="submitted",
                submitted_at=datetime.datetime(2020, 4, 10, tzinfo=datetime.UTC),
            )  # fmt: skip
            act(by=world.officer, update=stuck, reason=hostile(act.__name__))

        steering_services.record_review(
            by=world.secretary, meeting=world.meeting, focus_area=world.area, rating="at_risk",
            assessment=hostile("review_assessment"), recommendations=hostile("review_recommendations"),
        )  # fmt: skip
        decision = steering_services.add_decision(by=world.secretary, meeting=world.meeting, text=hostile("decision"))
        world.item = steering_services.add_action_item(
            by=world.secretary, meeting=world.meeting, description=hostile("action_item"), decision=decision,
            due_on=datetime.date(2020, 12, 1), owner_office=world.office,
        )  # fmt: skip
        steering_services.add_note(by=world.reporter, item=world.item, text=hostile("action_item_note"))
    issue_token(user=world.reporter, name=hostile("token_name", short=True))
    return world


# Files are checked on their own below; the pages are what this crawl reads.
DOWNLOADS = ("export=", ".pdf", "/pdf/", "/xlsx/", "/evidence/")


def crawl_html(client, *starts, max_pages=250):
    crawler = Crawler(client, max_pages=max_pages, queries_per_path=3, skip=DOWNLOADS)
    return {url: visit for url, visit in crawler.crawl(*starts).items() if visit.html}


def test_markup_in_every_free_text_is_shown_as_text_on_every_page(hostile_world, as_user):
    shown: set[str] = set()
    raw: dict[str, list[str]] = {}
    world = hostile_world
    crawls = [
        # The officer reaches every page, the meeting's record forms, the review queue and the browsable
        # API included; the others, the pages that only they are shown.
        (world.officer, ["/", "/notifications/", "/accounts/tokens/", "/api/v1/activities/?format=api",
                         "/api/v1/updates/?format=api", "/api/v1/indicators/?format=api"], 250),
        (world.cochair, ["/"], 1),
        (world.reporter, ["/", "/notifications/", "/accounts/tokens/", "/updates/", "/updates/due/",
                          f"/steering/action-items/{world.item.pk}/"], 6),
        # The form to change a returned update holds its texts in a textarea and its notes in inputs' values.
        (world.other_reporter, ["/", "/notifications/", f"/updates/{world.returned.pk}/edit/"], 3),
    ]  # fmt: skip
    for user, starts, max_pages in crawls:
        pages = crawl_html(as_user(user), *starts, max_pages=max_pages)
        for url, visit in pages.items():
            if found := injected(visit.html):
                raw[f"{user.username} {url}"] = found
            shown |= set(MARKED.findall(visit.html))
    assert raw == {}
    # Not vacuous: every field was on some page, escaped.
    expected = {
        f"{MARK}{field}"
        for field in (
            "actionplan_title", "agreement_title", "agreement_summary", "provision_title", "provision_text",
            "focusarea_name", "focusarea_description", "objective_statement", "office_name", "organization_name",
            "activity_title", "activity_description", "activity_funding_source", "tag", "indicator_name",
            "unit", "indicator_means_of_verification", "objective_indicator_name", "officer_first",
            "reporter_roseap_first", "meeting_title", "meeting_place", "meeting_agenda", "meeting_minutes",
            "narrative", "challenges", "next_steps", "measurement_note", "evidence_name", "submission_note",
            "return_comment", "reply", "resubmission_note", "approval_comment", "other_return_comment",
            "review_assessment", "review_recommendations", "decision", "action_item", "action_item_note",
            "token_name", "reopen_for_review", "close_out", "returned_narrative", "returned_note",
        )
    }  # fmt: skip
    assert expected - shown == set()


def test_e_mails_carry_markup_as_plain_text_and_never_as_html(hostile_world):
    send_due("hourly")
    send_due("daily")
    assert mail.outbox, "the fixture's returns, messages and action item e-mail someone"
    for message in mail.outbox:
        for html, _type in getattr(message, "alternatives", []):
            assert injected(html) == [], message.subject
        assert message.content_subtype == "plain", message.subject
    # Not vacuous: the officer's comment reached its reader, as the text it is.
    assert any(hostile("return_comment") in message.body for message in mail.outbox)


@pytest.fixture
def formulas(hostile_world):
    """Activities whose titles a spreadsheet would run as formulas, each separator included."""
    for number, title in enumerate(FORMULAS, start=5):
        activity = factories.ActivityFactory(objective=hostile_world.objective, code=f"CYB-1.{number}", title=title)
        activity.implementing_offices.add(hostile_world.office)
    return hostile_world


def cells(workbook_bytes: bytes) -> list:
    book = openpyxl.load_workbook(io.BytesIO(workbook_bytes))
    return [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row if cell.value is not None]


def assert_no_formula(all_cells):
    assert [cell.coordinate for cell in all_cells if cell.data_type == "f"] == []
    runs = [cell.value for cell in all_cells if isinstance(cell.value, str) and cell.value.startswith(("=", "+", "@"))]
    assert runs == []
    texts = [cell.value for cell in all_cells if isinstance(cell.value, str)]
    for title in FORMULAS:
        # Kept whole as text, a leading trigger made harmless by the apostrophe a spreadsheet shows as text.
        assert (title if title[0] not in "=+-@" else "'" + title) in texts, title


def test_the_register_exports_hold_markup_as_text_and_run_no_formula(formulas, as_user):
    client = as_user(formulas.officer)
    workbook = client.get("/activities/?export=xlsx")
    all_cells = cells(workbook.content)
    assert hostile("activity_title") in [cell.value for cell in all_cells]
    assert_no_formula(all_cells)

    response = client.get("/activities/?export=csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert hostile("activity_title") in [row[1] for row in rows]
    # A spreadsheet may split a line on ";", "," or a tab, whatever the quoting: no piece may start a formula.
    pieces = [piece.lstrip(' "') for line in text.splitlines() for piece in re.split(r"[;,\t]", line)]
    assert [piece for piece in pieces if piece.startswith(("=", "+", "-", "@"))] == []


def test_the_progress_report_shows_markup_as_literal_text_in_its_pdf_and_workbook(formulas):
    report = ProgressReport.objects.create(plan=formulas.plan, period=formulas.period, requested_by=formulas.officer)
    assert report_services.compile_report(report_id=report.pk) == "succeeded"
    report.refresh_from_db()
    with report.pdf.open("rb") as handle:
        pdf = flat(readable_text_of(handle.read()))
    for field in ("actionplan_title", "focusarea_name", "activity_title", "objective_statement", "indicator_name"):
        # The whole payload as characters on the page: rendered as markup, its tags would be gone.
        assert flat(hostile(field)) in pdf, field
    with report.xlsx.open("rb") as handle:
        all_cells = cells(handle.read())
    values = [cell.value for cell in all_cells]
    assert hostile("activity_title") in values and hostile("narrative") in values
    assert_no_formula(all_cells)


def test_the_meeting_record_pdf_shows_markup_as_literal_text(hostile_world, as_user):
    response = as_user(hostile_world.officer).get(f"/steering/meetings/{hostile_world.meeting.pk}/record.pdf")
    assert response.status_code == 200
    pdf = flat(readable_text_of(b"".join(response.streaming_content) if response.streaming else response.content))
    for field in ("meeting_title", "meeting_agenda", "meeting_minutes", "review_assessment", "decision", "action_item"):
        assert flat(hostile(field)) in pdf, field


def readable_text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


def strings_in(data) -> list[str]:
    if isinstance(data, dict):
        return [text for value in data.values() for text in strings_in(value)]
    if isinstance(data, list):
        return [text for value in data for text in strings_in(value)]
    return [data] if isinstance(data, str) else []


class _JsonScripts(HTMLParser):
    """Collect the text of each <script type="application/json"> by id."""

    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.scripts: dict[str, str] = {}
        self._id = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self._id = attrs.get("id") if tag == "script" and attrs.get("type") == "application/json" else None

    def handle_data(self, data):
        if self._id:
            self.scripts[self._id] = self.scripts.get(self._id, "") + data

    def handle_endtag(self, tag):
        self._id = None


def test_chart_data_carries_markup_as_json_strings_that_cannot_close_their_script(hostile_world, as_user):
    client = as_user(hostile_world.officer)
    pages = {
        f"/activities/{hostile_world.activity.code}/": ("indicator-chart-data", hostile("unit", short=True)),
        f"/plan/indicators/{hostile_world.indicator.code}/": ("indicator-chart-data", hostile("unit", short=True)),
        "/steering/": ("dashboard-charts", hostile("focusarea_name")),
    }
    for url, (script_id, shown) in pages.items():
        parser = _JsonScripts()
        parser.feed(client.get(url).content.decode())
        text = parser.scripts[script_id]
        # No "<" at all inside the script: nothing in it can end it or open a tag.
        assert "<" not in text, url
        assert any(shown in string for string in strings_in(json.loads(text))), url


def test_an_evidence_file_named_with_markup_downloads_as_an_attachment_never_as_a_page(hostile_world, as_user):
    attached = hostile_world.update.evidence.get()
    response = as_user(hostile_world.officer).get(f"/evidence/{attached.pk}/")
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and "\r" not in disposition and "\n" not in disposition
    # The type sniffed from the content, and the browser told not to guess another: never rendered as HTML.
    assert response.headers["Content-Type"] == "text/csv"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
