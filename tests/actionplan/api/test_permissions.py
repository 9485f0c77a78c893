"""Who may call what: every API endpoint by every persona, written as one table.

A cell is the status the persona gets. An endpoint that acts on an update gets a fresh
one, of world.activity by world.office, in the state that makes the action valid for
somebody (a draft to change, submit or attach to; a submitted one to review), so that a
refusal can only come from the permission. The bulk endpoint answers 200 with a status
per item; its cells are the status of its one item, "the status it would have had on
its own".
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver
from django.utils import timezone

from actionplan import services
from actionplan.models import RAG, Evidence, ImportRun, Measurement, ProgressUpdate
from portal.api.conditional import etag
from portal.api.urls import urlpatterns

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"

# Column of the table → attribute of the `world` fixture (None: no credentials).
PERSONAS = {
    "anonymous": None,
    "reporter": "reporter",
    "other-reporter": "other_reporter",
    "officer": "officer",
    "committee": "committee",
}

# HEAD answers as GET does and OPTIONS describes the endpoint; DRF adds both to every route.
IMPLIED_METHODS = {"HEAD", "OPTIONS"}

# fmt: off
MATRIX = [
    # label        route name            method   anonymous  reporter  other-reporter  officer  committee
    ("root",       "api-root",           "GET",   401,       200,      200,            200,     200),
    # drf-spectacular serves the schema and its viewers to anyone (SERVE_PERMISSIONS: AllowAny).
    ("schema",     "schema",             "GET",   200,       200,      200,            200,     200),
    ("docs",       "docs",               "GET",   200,       200,      200,            200,     200),
    ("redoc",      "redoc",              "GET",   200,       200,      200,            200,     200),
    ("areas",      "focus-area-list",    "GET",   401,       200,      200,            200,     200),
    ("area",       "focus-area-detail",  "GET",   401,       200,      200,            200,     200),
    ("periods",    "period-list",        "GET",   401,       200,      200,            200,     200),
    ("period",     "period-detail",      "GET",   401,       200,      200,            200,     200),
    ("offices",    "office-list",        "GET",   401,       200,      200,            200,     200),
    ("office",     "office-detail",      "GET",   401,       200,      200,            200,     200),
    ("activities", "activity-list",      "GET",   401,       200,      200,            200,     200),
    ("activity",   "activity-detail",    "GET",   401,       200,      404,            200,     200),
    ("indicators", "indicator-list",     "GET",   401,       200,      200,            200,     200),
    ("indicator",  "indicator-detail",   "GET",   401,       200,      404,            200,     200),
    ("figures",    "indicator-figures",  "GET",   401,       200,      404,            200,     200),
    ("updates",    "update-list",        "GET",   401,       200,      200,            200,     200),
    ("update",     "update-detail",      "GET",   401,       200,      404,            200,     200),
    ("create",     "update-list",        "POST",  401,       201,      400,            201,     403),
    ("patch",      "update-detail",      "PATCH", 401,       200,      404,            200,     403),
    ("submit",     "update-submit",      "POST",  401,       200,      404,            200,     403),
    # Withdrawing is the office's own: an officer reviews, or returns.
    ("withdraw",   "update-withdraw",    "POST",  401,       200,      404,            403,     403),
    ("comments",   "update-comments",    "GET",   401,       200,      404,            200,     200),
    ("comment",    "update-comments",    "POST",  401,       201,      404,            201,     403),
    ("approve",    "update-approve",     "POST",  401,       403,      404,            200,     403),
    ("return",     "update-return",      "POST",  401,       403,      404,            200,     403),
    ("evidence",   "update-evidence",    "POST",  401,       201,      404,            201,     403),
    ("unattach",   "update-evidence-remove", "DELETE", 401,     204,      404,            204,     403),
    ("bulk",       "update-bulk",        "POST",  401,       201,      400,            201,     403),
    # Reports cover the whole plan, restricted activities included: officers and the committee only.
    ("reports",    "report-list",        "GET",   401,       200,      200,            200,     200),
    ("report",     "report-detail",      "GET",   401,       404,      404,            200,     200),
    ("ask-report", "report-list",        "POST",  401,       403,      403,            201,     201),
    ("report-pdf", "report-pdf",         "GET",   401,       404,      404,            200,     200),
    ("report-xlsx", "report-xlsx",       "GET",   401,       404,      404,            200,     200),
    # Open data of the whole plan, as the reports: officers and the committee only.
    ("iati",       "iati-activities",    "GET",   401,       403,      403,            200,     200),
    # A dry run of the office's template: its members and the officers (a refusal of the whole file: 403).
    ("import",     "import-list",        "POST",  401,       201,      403,            201,     403),
    # The runs: the uploader's own; a programme officer's, all. Only who uploaded a file confirms it.
    ("imports",    "import-list",        "GET",   401,       200,      200,            200,     200),
    ("import-run", "import-detail",      "GET",   401,       200,      404,            200,     404),
    ("import-confirm", "import-confirm", "POST",  401,       200,      404,            403,     404),
    ("import-csv", "import-summary-csv", "GET",   401,       200,      404,            200,     404),
    # Deletions: each caller learns of those of the rows it could read (the rows' own scoping, tested apart).
    ("deleted",    "deleted-list",       "GET",   401,       200,      200,            200,     200),
]
# fmt: on


def no_update(world):
    return None


def draft(world):
    return services.create_update(
        by=world.reporter,
        activity=world.activity,
        period=world.period,
        office=world.office,
        rag=RAG.ON_TRACK,
        percent_complete=40,
    )


def submitted(world):
    return services.submit_update(by=world.reporter, update=draft(world))


def with_evidence(world):
    """A draft with a file; ``evidence_id`` names the file."""
    from django.core.files.base import ContentFile

    from actionplan.models import Evidence

    update = draft(world)
    file = Evidence(update=update, original_name="list.pdf", content_type="application/pdf", size=len(PDF),
                    sha256="0" * 64, uploaded_by=world.reporter)  # fmt: skip
    file.file.save("list.pdf", ContentFile(PDF), save=False)
    file.save()
    update.evidence_id = file.pk
    return update


def compiled_report(world):
    """A succeeded report with its two files (stand-ins: the permission is what is tested here)."""
    from django.core.files.base import ContentFile

    from steering.models import ProgressReport

    report = ProgressReport(plan=world.plan, period=world.period, state=ProgressReport.State.SUCCEEDED)
    report.pdf.save("report.pdf", ContentFile(PDF), save=False)
    report.xlsx.save("report.xlsx", ContentFile(b"PK stand-in"), save=False)
    report.snapshot, report.content_hash, report.progress = {}, "0" * 64, 100
    report.save()
    return report


def publishable(world):
    """The world's plan as IATI takes it (with ``iati_configured``): each activity it may publish dated and with
    its country."""
    import datetime

    for activity, office in ((world.activity, world.office), (world.other_activity, world.other_office)):
        activity.planned_start, activity.planned_end = datetime.date(2019, 7, 1), datetime.date(2021, 6, 30)
        activity.save()
        activity.beneficiary_countries.add(office.country)


def new_update(world):
    return {
        "activity": world.activity.code,
        "period": world.period.code,
        "office": world.office.code,
        "rag": "on_track",
        "percent_complete": 40,
    }


def office_template(world):
    """A dry run of the office's update template, as downloaded."""
    from actionplan import imports

    content = imports.template(by=world.officer, office=world.office, period=world.period)
    return {"file": SimpleUploadedFile("updates.xlsx", content), "dry_run": "true"}


def checked_import(world):
    """The reporter's dry run of the office's template, filled in: a run to read, or to confirm."""
    from actionplan import import_runs
    from tests.actionplan.test_imports import filled, first_rows

    content = office_template(world)["file"].read()
    return import_runs.receive(by=world.reporter, upload=filled(content, first_rows(world, value=5)))


def deleted_draft(world):
    """A draft deleted; what the call gets is the ``since`` to ask from: an hour ago (the feed keeps
    ``TOMBSTONE_DAYS`` days)."""
    draft(world).delete()
    return SimpleNamespace(since=f"{timezone.now() - datetime.timedelta(hours=1):%Y-%m-%dT%H:%M:%SZ}")


@dataclass(frozen=True)
class Call:
    """Say how to call an endpoint: its path, the update it needs, the body it takes."""

    path: str
    arrange: Callable = no_update
    body: Callable | None = None
    format: str = "json"
    if_match: bool = False
    per_item: bool = False

    def send(self, client, method, world, update):
        kwargs = {}
        if self.body is not None:
            kwargs.update(data=self.body(world), format=self.format)
        if self.if_match:
            kwargs["HTTP_IF_MATCH"] = etag(update.version)
        path = self.path.format(world=world, update=update)
        return getattr(client, method.lower())(path, **kwargs)

    def status(self, response):
        if self.per_item and response.status_code == 200:
            [item] = response.json()
            return item["status"]
        return response.status_code


CALLS = {
    "root": Call("/api/v1/"),
    "schema": Call("/api/v1/schema/"),
    "docs": Call("/api/v1/docs/"),
    "redoc": Call("/api/v1/redoc/"),
    "areas": Call("/api/v1/focus-areas/"),
    "area": Call("/api/v1/focus-areas/{world.area.code}/"),
    "periods": Call("/api/v1/periods/"),
    "period": Call("/api/v1/periods/{world.period.code}/"),
    "offices": Call("/api/v1/offices/"),
    "office": Call("/api/v1/offices/{world.office.code}/"),
    "activities": Call("/api/v1/activities/"),
    "activity": Call("/api/v1/activities/{world.activity.code}/"),
    "indicators": Call("/api/v1/indicators/"),
    "indicator": Call("/api/v1/indicators/{world.indicator.code}/"),
    "figures": Call("/api/v1/indicators/{world.indicator.code}/figures/"),
    "updates": Call("/api/v1/updates/", arrange=draft),
    "update": Call("/api/v1/updates/{update.pk}/", arrange=draft),
    "create": Call("/api/v1/updates/", body=new_update),
    "patch": Call(
        "/api/v1/updates/{update.pk}/", arrange=draft, body=lambda world: {"percent_complete": 70}, if_match=True
    ),
    "submit": Call("/api/v1/updates/{update.pk}/submit/", arrange=draft),
    "withdraw": Call("/api/v1/updates/{update.pk}/withdraw/", arrange=submitted),
    "comments": Call("/api/v1/updates/{update.pk}/comments/", arrange=draft),
    "comment": Call(
        "/api/v1/updates/{update.pk}/comments/", arrange=draft, body=lambda world: {"text": "Which figures?"}
    ),
    "approve": Call("/api/v1/updates/{update.pk}/approve/", arrange=submitted, body=lambda world: {"comment": "Good."}),
    "return": Call(
        "/api/v1/updates/{update.pk}/return/", arrange=submitted, body=lambda world: {"comment": "Add numbers by sex."}
    ),
    "evidence": Call(
        "/api/v1/updates/{update.pk}/evidence/",
        arrange=draft,
        body=lambda world: {"file": SimpleUploadedFile("report.pdf", PDF, content_type="application/pdf")},
        format="multipart",
    ),
    "unattach": Call(
        "/api/v1/updates/{update.pk}/evidence/{update.evidence_id}/", arrange=lambda world: with_evidence(world)
    ),
    "bulk": Call(
        "/api/v1/updates/bulk/",
        body=lambda world: [{**new_update(world), "client_key": "permission-matrix"}],
        per_item=True,
    ),
    # The `update` these calls get is the report that compiled_report made.
    "reports": Call("/api/v1/reports/", arrange=compiled_report),
    "report": Call("/api/v1/reports/{update.pk}/", arrange=compiled_report),
    "ask-report": Call("/api/v1/reports/", body=lambda world: {"period": world.period.code}),
    "report-pdf": Call("/api/v1/reports/{update.pk}/pdf/", arrange=compiled_report),
    "report-xlsx": Call("/api/v1/reports/{update.pk}/xlsx/", arrange=compiled_report),
    "iati": Call("/api/v1/iati/activities.xml", arrange=publishable),
    "deleted": Call("/api/v1/deleted/?since={update.since}", arrange=deleted_draft),
    "import": Call("/api/v1/imports/", body=lambda world: office_template(world), format="multipart"),
    # The `update` these calls get is the reporter's dry run of the office's template.
    "imports": Call("/api/v1/imports/", arrange=lambda world: checked_import(world)),
    "import-run": Call("/api/v1/imports/{update.pk}/", arrange=lambda world: checked_import(world)),
    "import-confirm": Call("/api/v1/imports/{update.pk}/confirm/", arrange=lambda world: checked_import(world)),
    "import-csv": Call("/api/v1/imports/{update.pk}/summary.csv", arrange=lambda world: checked_import(world)),
}

# Cells where the API answers otherwise than the table says: (label, persona) → the bug.
KNOWN_BUGS: dict[tuple[str, str], str] = {}


def cells(keep=lambda method, expected: True):
    """Turn the table into test cases, one per endpoint and persona, with ids like reporter-approve-403."""
    found = []
    for label, _name, method, *statuses in MATRIX:
        for persona, expected in zip(PERSONAS, statuses, strict=True):
            if keep(method, expected):
                bug = KNOWN_BUGS.get((label, persona))
                marks = [pytest.mark.xfail(reason=bug, strict=True)] if bug else []
                found.append(
                    pytest.param(persona, label, method, expected, id=f"{persona}-{label}-{expected}", marks=marks)
                )
    return found


def user_of(world, persona):
    attribute = PERSONAS[persona]
    return None if attribute is None else getattr(world, attribute)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture(autouse=True)
def iati_configured(settings):
    settings.IATI_ORGANISATION_ID, settings.PORTAL_URL = "XI-IATI-JAP", "https://portal.example.org"


@pytest.mark.parametrize(("persona", "label", "method", "expected"), cells())
def test_each_persona_gets_the_status_the_matrix_lists(world, api, persona, label, method, expected):
    call = CALLS[label]
    update = call.arrange(world)
    response = call.send(api(user_of(world, persona)), method, world, update)
    assert call.status(response) == expected, response.content[:500]


def stored(media):
    return (
        sorted(
            ProgressUpdate.objects.values_list(
                "id", "state", "version", "rag", "percent_complete", "reviewed_by", "review_comment"
            )
        ),
        sorted(Measurement.objects.values_list("id", flat=True)),
        sorted(Evidence.objects.values_list("id", flat=True)),
        sorted(ImportRun.objects.values_list("id", "state")),
        sorted(path for path in media.rglob("*") if path.is_file()),
    )


@pytest.mark.parametrize(
    ("persona", "label", "method", "expected"),
    cells(keep=lambda method, expected: method != "GET" and expected >= 400),
)
def test_a_refused_write_leaves_everything_as_it_was(world, api, media, persona, label, method, expected):
    call = CALLS[label]
    update = call.arrange(world)
    before = stored(media)
    call.send(api(user_of(world, persona)), method, world, update)
    assert stored(media) == before


def test_creating_on_an_activity_the_reporter_cannot_see_names_the_activity(world, api):
    response = api(world.other_reporter).post("/api/v1/updates/", new_update(world), format="json")
    assert response.status_code == 400
    assert "activity" in response.json(), response.json()


def methods_of(view) -> set[str]:
    view_class = getattr(view, "cls", None) or getattr(view, "view_class", None)
    assert view_class is not None, f"{view} is a function view: add a rule for it here"
    allowed = view_class.http_method_names
    actions = getattr(view, "actions", None)
    names = actions.keys() if actions else [name for name in allowed if hasattr(view_class, name)]
    return {name.upper() for name in names if name in allowed} - IMPLIED_METHODS


def routes(patterns=urlpatterns) -> set[tuple[str, str]]:
    """List (route name, method) of every API URL, leaving out the format-suffix twins."""
    found = set()
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            found |= routes(pattern.url_patterns)
            continue
        assert isinstance(pattern, URLPattern)
        if "format" in pattern.pattern.regex.groupindex:
            continue
        found |= {(pattern.name or str(pattern.pattern), method) for method in methods_of(pattern.callback)}
    return found


def listed() -> set[tuple[str, str]]:
    return {(name, method) for _label, name, method, *_statuses in MATRIX}


def test_the_matrix_lists_every_endpoint_and_method():
    missing = routes() - listed()
    assert not missing, f"Add these to MATRIX: {sorted(missing)}"


def test_the_matrix_lists_no_endpoint_that_is_gone():
    gone = listed() - routes()
    assert not gone, f"Remove these from MATRIX: {sorted(gone)}"


def test_every_row_of_the_matrix_says_how_to_call_its_endpoint():
    labels = [label for label, *_rest in MATRIX]
    assert sorted(labels) == sorted(CALLS)
