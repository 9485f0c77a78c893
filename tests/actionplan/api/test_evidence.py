"""POST /api/v1/updates/{id}/evidence/: files checked by content, size-limited, never half-stored."""

import hashlib
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from actionplan.models import Evidence
from tests.factories import ProgressUpdateFactory

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 64


def office_document(part):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(part, "<document/>")
    return buffer.getvalue()


@pytest.fixture
def update(world):
    return ProgressUpdateFactory(
        activity=world.activity, period=world.period, office=world.office, author=world.reporter
    )


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def upload(client, update, name, content, content_type="application/octet-stream"):
    return client.post(
        f"/api/v1/updates/{update.pk}/evidence/",
        {"file": SimpleUploadedFile(name, content, content_type=content_type)},
        format="multipart",
    )


def stored_files(media):
    return [path for path in media.rglob("*") if path.is_file()]


@pytest.mark.parametrize(
    "name, content, sniffed",
    [
        ("report.pdf", PDF, "application/pdf"),
        ("photo.png", PNG, "image/png"),
        ("photo.jpg", JPEG, "image/jpeg"),
        ("attendance.csv", "name,country\nAmina,KEN\nJosé,COL\n".encode(), "text/csv"),
        (
            "minutes.docx",
            office_document("word/document.xml"),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (
            "figures.xlsx",
            office_document("xl/workbook.xml"),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
    ],
)
def test_accepted_file_is_stored_with_its_size_checksum_and_sniffed_type(
    world, api, update, media, name, content, sniffed
):
    response = upload(api(world.reporter), update, name, content)

    assert response.status_code == 201, response.json()
    data = response.json()
    assert (data["original_name"], data["content_type"], data["size"]) == (name, sniffed, len(content))
    assert data["sha256"] == hashlib.sha256(content).hexdigest()
    assert [path.read_bytes() for path in stored_files(media)] == [content]


def test_type_comes_from_content_not_from_the_browser(world, api, update):
    response = upload(api(world.reporter), update, "scan.pdf", PNG, content_type="application/pdf")
    assert response.json()["content_type"] == "image/png"


@pytest.mark.parametrize(
    "name, content",
    [
        ("report.pdf", ELF),
        ("report.pdf", b"MZ\x90\x00" + b"\x00" * 60),
        ("archive.docx", office_document("other/thing.xml")),
        ("notes.csv", b"\x00\x01\x02binary"),
        ("page.html", b"<html><script>alert(1)</script></html>"),
    ],
)
def test_refused_type_is_answered_415_and_nothing_is_stored(world, api, update, media, name, content):
    response = upload(api(world.reporter), update, name, content)
    assert response.status_code == 415
    assert "file" in response.json()
    assert not Evidence.objects.exists()
    assert stored_files(media) == []


def test_file_over_the_limit_is_answered_413_and_nothing_is_stored(world, api, update, media, settings):
    settings.EVIDENCE_MAX_BYTES = 1_000
    response = upload(api(world.reporter), update, "big.pdf", PDF + b"0" * 2_000)
    assert response.status_code == 413
    assert not Evidence.objects.exists()
    assert stored_files(media) == []


def test_missing_file_is_refused_naming_the_field(world, api, update):
    response = api(world.reporter).post(f"/api/v1/updates/{update.pk}/evidence/", {}, format="multipart")
    assert response.status_code == 400
    assert "file" in response.json()


def test_evidence_cannot_be_added_to_an_approved_update(world, api, update, media):
    update.state = "approved"
    update.save()
    assert upload(api(world.reporter), update, "report.pdf", PDF).status_code == 409
    assert stored_files(media) == []


def test_evidence_appears_on_the_update(world, api, update):
    client = api(world.reporter)
    upload(client, update, "report.pdf", PDF)
    assert [item["original_name"] for item in client.get(f"/api/v1/updates/{update.pk}/").json()["evidence"]] == [
        "report.pdf"
    ]


def test_retried_upload_with_the_same_key_stores_one_file(world, api, update, media):
    client = api(world.reporter)
    for _ in range(2):
        response = client.post(
            f"/api/v1/updates/{update.pk}/evidence/",
            {"file": SimpleUploadedFile("report.pdf", PDF)},
            format="multipart",
            HTTP_IDEMPOTENCY_KEY="upload-1",
        )
        assert response.status_code == 201
    assert Evidence.objects.count() == 1
    assert len(stored_files(media)) == 1
