"""Evidence files on an update: removed while it can change, never twice the same, any name length,
and a file chosen in a form that comes back is said to be lost."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from actionplan import evidence as evidence_files
from actionplan import services
from actionplan.models import Evidence, ProgressUpdate
from portal.errors import AlreadyExists, WrongState
from tests.factories import EvidenceFactory, ProgressUpdateFactory

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


def pdf(name="list.pdf", content=PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def test_a_long_file_name_is_stored_whole(world, draft):
    name = "attendance-sheet-of-the-regional-workshop-on-electronic-evidence-in-bangkok-march.pdf"
    stored = evidence_files.add_evidence(by=world.reporter, update=draft, upload=pdf(name))
    assert stored.original_name == name and len(stored.file.name) < 100


def test_the_same_file_twice_is_refused_naming_the_one_attached(world, draft):
    evidence_files.add_evidence(by=world.reporter, update=draft, upload=pdf("first.pdf"))
    with pytest.raises(AlreadyExists, match="already attached to the update, as first.pdf"):
        evidence_files.add_evidence(by=world.reporter, update=draft, upload=pdf("again.pdf"))
    assert draft.evidence.count() == 1


def test_the_reporter_removes_a_file_and_the_conversation_says_so(
    as_user, world, draft, media, django_capture_on_commit_callbacks
):
    stored = evidence_files.add_evidence(by=world.reporter, update=draft, upload=pdf("wrong.pdf"))
    path = media / stored.file.name
    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(world.reporter).post(reverse("evidence-remove", args=[stored.pk]))
    assert response.status_code == 302
    assert not Evidence.objects.exists() and not path.exists()
    assert list(draft.comments.values_list("kind", "text", "author__username")) == [
        ("evidence_removed", "wrong.pdf", "reporter.roseap")
    ]


def test_removing_evidence_from_an_approved_update_is_refused(as_user, world, draft):
    stored = evidence_files.add_evidence(by=world.reporter, update=draft, upload=pdf())
    services.submit_update(by=world.reporter, update=draft)
    services.approve_update(by=world.officer, update=draft)
    with pytest.raises(WrongState):
        evidence_files.remove_evidence(by=world.reporter, evidence=stored)
    as_user(world.reporter).post(reverse("evidence-remove", args=[stored.pk]))
    assert Evidence.objects.filter(pk=stored.pk).exists()


def test_another_office_cannot_remove_a_file(as_user, world, draft):
    stored = evidence_files.add_evidence(by=world.reporter, update=draft, upload=pdf())
    assert as_user(world.other_reporter).post(reverse("evidence-remove", args=[stored.pk])).status_code == 404
    assert Evidence.objects.filter(pk=stored.pk).exists()


def test_the_edit_form_lists_the_attached_files(as_user, world, draft):
    evidence_files.add_evidence(by=world.reporter, update=draft, upload=pdf("minutes.pdf"))
    page = as_user(world.reporter).get(reverse("update-edit", args=[draft.pk])).content.decode()
    assert 'id="attached-files"' in page and "minutes.pdf" in page


def test_a_form_that_comes_back_says_the_chosen_file_must_be_chosen_again(as_user, world):
    response = as_user(world.reporter).post(
        reverse("update-create", args=[world.activity.code]),
        {"period": world.period.code, "office": world.office.code, "rag": "on_track", "percent_complete": "400",
         "evidence": pdf("attendance.pdf")},
    )  # fmt: skip
    assert response.status_code == 200
    assert "The file you chose, attendance.pdf, was not kept" in response.content.decode()
    assert not ProgressUpdate.objects.exists()


def test_the_api_removes_a_file_of_a_draft(api, world, draft):
    stored = evidence_files.add_evidence(by=world.reporter, update=draft, upload=pdf())
    response = api(world.reporter).delete(f"/api/v1/updates/{draft.pk}/evidence/{stored.pk}/")
    assert response.status_code == 204 and not Evidence.objects.exists()


def test_the_api_refuses_the_same_file_twice_with_409(api, world, draft):
    client = api(world.reporter)
    url = f"/api/v1/updates/{draft.pk}/evidence/"
    assert client.post(url, {"file": pdf("a.pdf")}, format="multipart").status_code == 201
    again = client.post(url, {"file": pdf("b.pdf")}, format="multipart")
    assert again.status_code == 409 and "a.pdf" in again.json()["detail"]


def test_a_reporter_sees_the_files_of_its_own_offices_updates_alone(world, draft):
    own = EvidenceFactory(update=draft)
    other_update = ProgressUpdateFactory(activity=world.other_activity, period=world.period, office=world.other_office)
    EvidenceFactory(update=other_update, sha256="1" * 64)

    assert list(Evidence.objects.visible_to(world.reporter)) == [own]
    assert Evidence.objects.visible_to(world.officer).count() == 2


def test_a_file_is_downloaded_under_the_extension_of_its_sniffed_type(as_user, world, draft):
    stored = evidence_files.add_evidence(by=world.reporter, update=draft, upload=pdf("scan.svg"))

    response = as_user(world.reporter).get(reverse("evidence-download", args=[stored.pk]))

    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="scan.pdf"'
