"""Writing, submitting and reviewing progress updates in the browser."""

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from actionplan.models import Evidence, ProgressUpdate
from tests.factories import ProgressUpdateFactory

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def form_data(world, **extra):
    data = {
        "period": world.period.code,
        "office": world.office.code,
        "rag": "at_risk",
        "percent_complete": "40",
        "narrative": "Two workshops delivered.",
        "challenges": "",
        "next_steps": "",
        f"measurement_{world.indicator.pk}": "12",
    }
    return {**data, **extra}


def create(client, world, **extra):
    return client.post(reverse("update-create", args=[world.activity.code]), form_data(world, **extra))


def test_reporter_saves_a_draft_with_a_measurement_and_evidence(as_user, world):
    client = as_user(world.reporter)
    response = create(client, world, save="", evidence=SimpleUploadedFile("list.pdf", PDF))

    update = ProgressUpdate.objects.get()
    assert response.status_code == 302 and response.url == reverse("update-detail", args=[update.pk])
    assert (update.state, update.source, update.percent_complete) == ("draft", "web", 40)
    assert [(m.indicator.code, m.value) for m in update.measurements.all()] == [("CYB-1.1-I1", 12)]
    assert Evidence.objects.get().content_type == "application/pdf"


def test_submit_button_submits_at_once(as_user, world):
    create(as_user(world.reporter), world, submit="")
    assert ProgressUpdate.objects.get().state == "submitted"


def test_invalid_form_names_the_field_and_keeps_the_input(as_user, world):
    response = create(as_user(world.reporter), world, percent_complete="140", narrative="Kept text")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Ensure this value is less than or equal to 100." in page
    assert "Kept text" in page
    assert not ProgressUpdate.objects.exists()


def test_refused_evidence_saves_nothing_and_says_why(as_user, world):
    response = create(as_user(world.reporter), world, evidence=SimpleUploadedFile("virus.pdf", b"MZ\x90\x00" * 20))
    assert response.status_code == 200
    assert "whatever its name" in response.content.decode()
    assert not ProgressUpdate.objects.exists() and not Evidence.objects.exists()


def test_locked_period_is_not_offered_and_a_forged_one_is_refused(as_user, world):
    client = as_user(world.reporter)
    form = client.get(reverse("update-create", args=[world.activity.code])).context["context_form"]
    assert list(form.fields["period"].queryset) == [world.period]
    response = create(client, world, period=world.locked_period.code)
    assert response.status_code == 200 and not ProgressUpdate.objects.exists()


def test_committee_member_cannot_open_the_report_form(as_user, world):
    assert as_user(world.committee).get(reverse("update-create", args=[world.activity.code])).status_code == 403


def test_review_round_trip_with_emails(as_user, world, client, django_capture_on_commit_callbacks):
    world.reporter.email = "reporter@example.org"
    world.reporter.save()
    create(as_user(world.reporter), world, submit="")
    update = ProgressUpdate.objects.get()

    client.force_login(world.officer)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("update-return", args=[update.pk]), {"comment": "Add the number of women trained."})
    update.refresh_from_db()
    assert update.state == "returned"
    assert mail.outbox[-1].to == ["reporter@example.org"]
    assert "Add the number of women trained." in mail.outbox[-1].body

    client.force_login(world.reporter)
    page = client.get(reverse("update-edit", args=[update.pk])).content.decode()
    assert "Add the number of women trained." in page
    client.post(reverse("update-edit", args=[update.pk]), {**form_data(world), "version": update.version, "submit": ""})
    update.refresh_from_db()
    assert update.state == "submitted"

    client.force_login(world.officer)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("update-approve", args=[update.pk]))
    update.refresh_from_db()
    assert update.state == "approved"
    assert mail.outbox[-1].subject.startswith("Approved")


def test_return_without_comment_says_so(as_user, world):
    update = ProgressUpdateFactory(activity=world.activity, period=world.period, office=world.office, state="submitted")
    response = as_user(world.officer).post(reverse("update-return", args=[update.pk]), {"comment": ""})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    update.refresh_from_db()
    assert update.state == "submitted"


def test_stale_edit_is_refused_with_a_message_and_the_input_kept(as_user, world):
    update = ProgressUpdateFactory(
        activity=world.activity, period=world.period, office=world.office, author=world.reporter
    )
    ProgressUpdate.objects.filter(pk=update.pk).update(version=2)  # someone else saved meanwhile
    response = as_user(world.reporter).post(
        reverse("update-edit", args=[update.pk]), {**form_data(world), "version": 1, "narrative": "My careful text"}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "changed since you read it" in page
    assert "My careful text" in page


def test_edit_page_of_a_locked_period_says_why(as_user, world):
    update = ProgressUpdateFactory(activity=world.activity, period=world.locked_period, office=world.office)
    client = as_user(world.reporter)
    page = client.get(reverse("update-edit", args=[update.pk])).content.decode()
    assert "is locked" in page
    response = client.post(reverse("update-edit", args=[update.pk]), {**form_data(world), "version": 1})
    assert "is locked" in response.content.decode()
    update.refresh_from_db()
    assert update.percent_complete == 50


def test_approved_update_cannot_be_submitted_and_the_page_says_why(as_user, world):
    update = ProgressUpdateFactory(activity=world.activity, period=world.period, office=world.office, state="approved")
    client = as_user(world.reporter)
    response = client.post(reverse("update-submit", args=[update.pk]), follow=True)
    assert "only a draft or a returned update can be changed" in response.content.decode()


def test_update_of_another_office_answers_404(as_user, world):
    update = ProgressUpdateFactory(activity=world.other_activity, period=world.period, office=world.other_office)
    assert as_user(world.reporter).get(reverse("update-detail", args=[update.pk])).status_code == 404


def test_evidence_download_is_an_attachment_for_those_who_may_see_it(as_user, world, client):
    create(as_user(world.reporter), world, evidence=SimpleUploadedFile("list.pdf", PDF))
    evidence = Evidence.objects.get()
    response = client.get(reverse("evidence-download", args=[evidence.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert b"".join(response.streaming_content) == PDF

    client.force_login(world.other_reporter)
    assert client.get(reverse("evidence-download", args=[evidence.pk])).status_code == 404


def test_review_queue_is_for_officers(as_user, world):
    assert as_user(world.reporter).get(reverse("review-queue")).status_code == 403


def test_review_queue_lists_fifty_updates_a_page_oldest_first(as_user, world):
    import datetime

    from tests.factories import ActivityFactory

    first_submitted = datetime.datetime(2020, 7, 1, tzinfo=datetime.UTC)
    for day in range(51):
        activity = ActivityFactory(objective=world.objective)
        ProgressUpdateFactory(
            activity=activity, period=world.period, office=world.office, state="submitted",
            submitted_at=first_submitted + datetime.timedelta(days=day),
        )  # fmt: skip
    client = as_user(world.officer)

    first_page = client.get(reverse("review-queue"))
    last_page = client.get(reverse("review-queue"), {"page": 2})

    assert len(first_page.context["page"].object_list) == 50
    assert "51 updates wait for your review" in first_page.content.decode()
    [newest] = last_page.context["page"].object_list
    assert newest.submitted_at == first_submitted + datetime.timedelta(days=50)
