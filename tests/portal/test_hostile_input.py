"""Hostile input, in the browser and the API: each is answered with a clear message and its status,
never a 500, and changes nothing."""

import csv
import io
import json
import re
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLResolver, get_resolver, reverse

from actionplan import services
from actionplan.models import Activity, Evidence, ProgressUpdate

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def draft(world):
    return services.create_update(
        by=world.reporter, activity=world.activity, period=world.period, office=world.office, rag="on_track",
        percent_complete=10,
    )  # fmt: skip


def _routes(resolver=None, prefix=""):
    """Every route of the portal, its regular expressions written as paths (format suffixes left out)."""
    for entry in (resolver or get_resolver()).url_patterns:
        route = str(entry.pattern)
        if "format" in route:
            continue
        route = re.sub(r"\(\?P<\w+>[^)]*\)", "<str:group>", route.lstrip("^").rstrip("$"))
        if isinstance(entry, URLResolver):
            yield from _routes(entry, prefix + route)
        elif "(" not in route:
            yield prefix + route


def _filled(route: str) -> str:
    """The route with a NUL in each text parameter, the others filled in."""
    for converter, value in (("str", "a\x00b"), ("path", "a\x00b"), ("int", "1"), ("uuid", str(uuid.uuid4()))):
        while f"<{converter}:" in route:
            start = route.index(f"<{converter}:")
            route = route[:start] + value + route[route.index(">", start) + 1 :]
    return "/" + route


ADDRESSES_WITH_TEXT = sorted({_filled(route) for route in _routes() if "\x00" in _filled(route)})
EVERY_ADDRESS = sorted({_filled(route) for route in _routes()})


def test_every_text_parameter_of_the_portal_is_covered():
    expected = {
        "/activities/a\x00b/",
        "/plan/focus-areas/a\x00b/",
        "/api/v1/activities/a\x00b/",
        "/admin/auth/user/a\x00b/change/",
    }
    assert expected <= set(ADDRESSES_WITH_TEXT)


def test_a_nul_in_the_address_is_refused_with_400_everywhere(as_user, world):
    client = as_user(world.officer)
    answers = {address: client.get(address) for address in ADDRESSES_WITH_TEXT}
    assert {address: r.status_code for address, r in answers.items() if r.status_code != 400} == {}
    assert all("NUL" in response.content.decode() for response in answers.values())


def test_a_nul_in_a_query_parameter_is_refused_with_400_everywhere(as_user, world):
    client = as_user(world.officer)
    statuses = {address: client.get(address, {"period": "2020\x00Q2"}).status_code for address in EVERY_ADDRESS}
    assert {address: status for address, status in statuses.items() if status != 400} == {}


def test_a_nul_under_the_api_is_answered_in_json(api, world):
    response = api(world.reporter).get("/api/v1/updates/", {"activity": "CYB\x001.1"})
    assert response.status_code == 400
    assert response.json()["code"] == "nul"


def test_a_posted_form_with_a_nul_in_its_address_changes_nothing(as_user, world, draft):
    response = as_user(world.reporter).post(reverse("update-submit", args=[draft.pk]) + "?next=a%00")
    assert response.status_code == 400
    assert ProgressUpdate.objects.get(pk=draft.pk).state == ProgressUpdate.State.DRAFT


def deeply_nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_json_nested_too_deeply_is_a_clear_400_in_json_with_nothing_written(api, world, depth):
    body = '{"activity": "CYB-1.1", "period": "2020-Q2", "office": "UNODC-ROSEAP", "rag": ' + deeply_nested(depth)
    response = api(world.reporter).post("/api/v1/updates/", data=body + "}", content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "nested too deeply" in response.json()["detail"]
    assert not ProgressUpdate.objects.exists()


def test_wide_json_is_refused_by_its_fields_without_a_row_written(api, world):
    body = {
        "activity": "CYB-1.1", "period": "2020-Q2", "office": "UNODC-ROSEAP", "rag": "on_track",
        "measurements": [{"indicator": f"X-{n}", "value": n} for n in range(20_000)],
        **{f"field_{n}": n for n in range(5_000)},
    }  # fmt: skip
    response = api(world.reporter).post("/api/v1/updates/", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert "no more than 100" in str(response.json()["measurements"])
    assert not ProgressUpdate.objects.exists()


def test_a_huge_multipart_upload_in_the_browser_is_refused_before_it_is_read(as_user, world, draft):
    response = as_user(world.reporter).post(
        reverse("evidence-upload", args=[draft.pk]),
        {"file": SimpleUploadedFile("big.pdf", PDF, content_type="application/pdf")},
        CONTENT_LENGTH=str(300 * 1024 * 1024),
    )
    assert response.status_code == 413
    assert "at most" in response.content.decode()
    assert not Evidence.objects.exists()


def test_a_huge_multipart_upload_to_the_api_is_refused_before_it_is_read(api, world, draft):
    response = api(world.reporter).post(
        f"/api/v1/updates/{draft.pk}/evidence/",
        {"file": SimpleUploadedFile("big.pdf", PDF, content_type="application/pdf")},
        format="multipart",
        CONTENT_LENGTH=str(300 * 1024 * 1024),
    )
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
    assert not Evidence.objects.exists()


HOSTILE_FILE_NAMES = [
    "a" * 251 + ".pdf",
    "../../../etc/passwd.pdf",
    "..\\..\\windows\\win.ini.pdf",
    "minutes\r\nSet-Cookie: x=1.pdf",
    "minutes \"signed\" 'final'.pdf",
    "invoice\u202efdp.exe.pdf",
    "<script>alert(1)</script>.pdf",
]


@pytest.mark.parametrize("name", HOSTILE_FILE_NAMES)
def test_a_hostile_file_name_is_stored_safely_and_downloaded_under_a_clean_name(as_user, world, draft, media, name):
    client = as_user(world.reporter)
    response = client.post(
        reverse("evidence-upload", args=[draft.pk]), {"file": SimpleUploadedFile(name, PDF, "application/pdf")}
    )
    assert response.status_code == 302
    stored = Evidence.objects.get()
    assert media in (media / stored.file.name).resolve().parents  # written inside the media folder
    assert not any(character in stored.original_name for character in "/\\\r\n\u202e")
    download = client.get(reverse("evidence-download", args=[stored.pk]))
    assert download.status_code == 200
    assert "\n" not in download["Content-Disposition"] and "\r" not in download["Content-Disposition"]
    page = client.get(reverse("update-detail", args=[draft.pk])).content.decode()
    assert "<script>alert(1)</script>" not in page


@pytest.mark.parametrize("name", HOSTILE_FILE_NAMES)
def test_a_hostile_file_name_through_the_api_is_stored_safely(api, world, draft, name):
    response = api(world.reporter).post(
        f"/api/v1/updates/{draft.pk}/evidence/",
        {"file": SimpleUploadedFile(name, PDF, "application/pdf")},
        format="multipart",
    )
    assert response.status_code == 201
    assert not any(character in response.json()["original_name"] for character in "/\\\r\n\u202e")


def export_csv(client) -> str:
    response = client.get(reverse("activity-list"), {"export": "csv"})
    return b"".join(response.streaming_content).decode("utf-8").lstrip("\ufeff")


@pytest.mark.parametrize("separator", [",", ";"])
def test_no_csv_field_reads_as_a_formula_whatever_the_separator(as_user, world, separator):
    Activity.objects.filter(code="CYB-1.1").update(title="Workshop;=1+1", description="x")
    Activity.objects.filter(code="CYB-1.2").update(title='Training,=HYPERLINK("http://evil"); +cmd')
    rows = list(csv.reader(io.StringIO(export_csv(as_user(world.officer))), delimiter=separator))
    fields = [field.strip().lstrip('"') for row in rows for field in row]
    assert not [field for field in fields if field.startswith(("=", "+", "-", "@"))]


def test_a_title_with_a_semicolon_stays_one_field_for_a_comma_reader(as_user, world):
    Activity.objects.filter(code="CYB-1.1").update(title="Workshop;=1+1")
    rows = list(csv.reader(io.StringIO(export_csv(as_user(world.officer)))))
    assert rows[1][:2] == ["CYB-1.1", "Workshop;'=1+1"]


def assert_json_refusal(response, status, code):
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == code and body["detail"]
    return body


def assert_page_refusal(response, status, text):
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    # The portal's page (its stylesheet, no inline style), not Django's plain one.
    assert "css/portal.css" in page and "<style" not in page
    assert text in page
    return page


def test_a_host_not_allowed_is_refused_with_400(client, world):
    response = client.get("/", HTTP_HOST="attacker.example")
    page = assert_page_refusal(response, 400, "The portal does not answer to the host this request names.")
    assert "attacker.example" not in page


def test_a_host_not_allowed_under_the_api_is_refused_with_400(client, world):
    response = client.get("/api/v1/activities/", HTTP_HOST="attacker.example")
    body = assert_json_refusal(response, 400, "disallowed_host")
    assert "attacker.example" not in body["detail"]


TOO_MANY_FIELDS = "&".join(f"f{number}=1" for number in range(1200))  # Django takes 1,000


def test_too_many_query_fields_under_the_api_are_refused_in_json(api, world):
    response = api(world.reporter).get(f"/api/v1/activities/?{TOO_MANY_FIELDS}")
    assert_json_refusal(response, 400, "too_many_fields")


def test_too_many_query_fields_of_a_page_are_refused_with_a_page(as_user, world):
    response = as_user(world.reporter).get(f"/activities/?{TOO_MANY_FIELDS}")
    assert_page_refusal(response, 400, "more fields or files than any form")


def test_a_form_body_too_big_to_read_is_refused_with_a_page(as_user, world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = as_user(world.reporter).post("/accounts/profile/", {"first_name": "x" * 2000})
    assert_page_refusal(response, 413, "larger than the portal accepts")


@pytest.mark.urls("tests.portal.failing_urls")
def test_a_suspicious_operation_is_answered_in_json_under_the_api_and_with_the_portals_page_elsewhere(as_user, world):
    body = assert_json_refusal(as_user(world.reporter).get("/api/v1/suspicious/"), 400, "bad_request")
    assert "suspicious" not in body["detail"]
    page = assert_page_refusal(
        as_user(world.reporter).get("/suspicious/"), 400, "The portal could not take this request."
    )
    assert "Django finds suspicious" not in page
    assert 'href="/accounts/profile/"' in page  # the signed-in user's page, with the navigation


@pytest.mark.urls("tests.portal.failing_urls")
def test_a_refusal_of_djangos_is_answered_in_json_under_the_api_and_with_the_portals_page_elsewhere(client, world):
    assert_json_refusal(client.get("/api/v1/refused/"), 403, "permission_denied")
    assert_page_refusal(client.get("/refused/"), 403, "This page is not open to you.")


def test_a_form_without_its_csrf_token_is_refused_with_the_portals_page(world):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(world.reporter)
    response = browser.post("/accounts/profile/", {"first_name": "Mallory"})
    assert_page_refusal(response, 403, "security token")
    world.reporter.refresh_from_db()
    assert world.reporter.first_name != "Mallory"


@pytest.mark.urls("tests.portal.failing_urls")
def test_a_post_without_its_csrf_token_under_the_api_is_answered_in_json(world):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(world.reporter)
    assert_json_refusal(browser.post("/api/v1/plain-form/", {"a": "b"}), 403, "csrf_failed")


@pytest.mark.urls("tests.portal.failing_urls")
def test_a_failure_under_the_api_is_answered_in_json(client, world):
    client.raise_request_exception = False
    response = client.get("/api/v1/failing/")
    assert response.status_code == 500
    assert response.json()["code"] == "server_error"


@pytest.mark.urls("tests.portal.failing_urls")
def test_a_failure_of_a_page_is_answered_with_the_portals_page(client, world):
    client.raise_request_exception = False
    response = client.get("/failing/")
    assert response.status_code == 500
    assert "The portal failed to answer this request." in response.content.decode()


def test_an_unrouted_address_under_the_api_is_answered_in_json(api, world):
    response = api(world.reporter).get("/api/v1/no-such-thing/")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
