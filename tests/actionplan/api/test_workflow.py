"""Submit, approve, return: the review workflow through the API."""

import pytest

from actionplan.models import ProgressUpdate
from tests.factories import ProgressUpdateFactory


@pytest.fixture
def draft(world):
    return ProgressUpdateFactory(
        activity=world.activity, period=world.period, office=world.office, author=world.reporter
    )


@pytest.fixture
def submitted(draft):
    draft.state = ProgressUpdate.State.SUBMITTED
    draft.save()
    return draft


def action(update, name):
    return f"/api/v1/updates/{update.pk}/{name}/"


def test_reporter_submits_its_draft(world, api, draft):
    response = api(world.reporter).post(action(draft, "submit"))
    assert response.status_code == 200
    assert response.json()["state"] == "submitted"
    assert response["ETag"] == '"2"'


def test_officer_approves_a_submitted_update(world, api, submitted):
    response = api(world.officer).post(action(submitted, "approve"), {"comment": "Well documented."}, format="json")
    assert response.status_code == 200
    data = response.json()
    assert (data["state"], data["reviewed_by"], data["review_comment"]) == ("approved", "officer", "Well documented.")


def test_officer_returns_a_submitted_update_with_a_comment(world, api, submitted):
    response = api(world.officer).post(action(submitted, "return"), {"comment": "Add numbers by sex."}, format="json")
    assert response.json()["state"] == "returned"
    assert response.json()["review_comment"] == "Add numbers by sex."


def test_return_without_a_comment_is_refused_naming_it(world, api, submitted):
    response = api(world.officer).post(action(submitted, "return"), {"comment": "  "}, format="json")
    assert response.status_code == 400
    assert "comment" in response.json()
    assert ProgressUpdate.objects.get().state == "submitted"


def test_reporter_resubmits_a_returned_update(world, api, submitted):
    api(world.officer).post(action(submitted, "return"), {"comment": "Fix it."}, format="json")
    assert api(world.reporter).post(action(submitted, "submit")).json()["state"] == "submitted"


def test_reporter_cannot_approve(world, api, submitted):
    assert api(world.reporter).post(action(submitted, "approve")).status_code == 403
    assert ProgressUpdate.objects.get().state == "submitted"


def test_committee_member_cannot_approve(world, api, submitted):
    assert api(world.committee).post(action(submitted, "approve")).status_code == 403


def test_draft_cannot_be_approved(world, api, draft):
    response = api(world.officer).post(action(draft, "approve"))
    assert response.status_code == 409
    assert response.json()["code"] == "wrong_state"


def test_approved_update_cannot_be_submitted_again(world, api, submitted):
    api(world.officer).post(action(submitted, "approve"))
    assert api(world.reporter).post(action(submitted, "submit")).status_code == 409


def test_nothing_is_reviewed_in_a_locked_period(world, api):
    update = ProgressUpdateFactory(
        activity=world.activity, period=world.locked_period, office=world.office, state=ProgressUpdate.State.SUBMITTED
    )
    response = api(world.officer).post(action(update, "approve"))
    assert response.status_code == 409
    assert response.json()["code"] == "period_locked"


def test_retried_submit_with_the_same_key_answers_as_the_first(world, api, draft):
    client = api(world.reporter)
    first = client.post(action(draft, "submit"), HTTP_IDEMPOTENCY_KEY="submit-1")
    retry = client.post(action(draft, "submit"), HTTP_IDEMPOTENCY_KEY="submit-1")
    assert (first.status_code, retry.status_code) == (200, 200)
    assert retry.json() == first.json()


def test_the_conversation_is_read_and_added_to_through_the_api(world, api):
    from actionplan import services

    update = services.create_update(
        by=world.reporter, activity=world.activity, period=world.period, office=world.office, rag="on_track",
        percent_complete=10, submit=True,
    )  # fmt: skip
    services.return_update(by=world.officer, update=update, comment="Add the numbers by sex.")
    reporter = api(world.reporter)
    answer = reporter.post(f"/api/v1/updates/{update.pk}/comments/", {"text": "Added."}, format="json")
    assert answer.status_code == 201 and answer.json()["kind"] == "reply"
    conversation = reporter.get(f"/api/v1/updates/{update.pk}/comments/").json()
    assert [(c["kind"], c["author"], c["text"]) for c in conversation] == [
        ("return", "officer", "Add the numbers by sex."), ("reply", "reporter.roseap", "Added."),
    ]  # fmt: skip


def test_an_empty_message_is_refused_naming_the_field(world, api):
    from actionplan import services

    update = services.create_update(
        by=world.reporter, activity=world.activity, period=world.period, office=world.office, rag="on_track",
        percent_complete=10,
    )  # fmt: skip
    answer = api(world.reporter).post(f"/api/v1/updates/{update.pk}/comments/", {"text": ""}, format="json")
    assert answer.status_code == 400 and "text" in answer.json()


def test_submitting_with_a_note_keeps_it_and_withdrawing_makes_a_draft_again(world, api):
    from actionplan import services

    update = services.create_update(
        by=world.reporter, activity=world.activity, period=world.period, office=world.office, rag="on_track",
        percent_complete=10,
    )  # fmt: skip
    reporter = api(world.reporter)
    reporter.post(f"/api/v1/updates/{update.pk}/submit/", {"note": "Early figures."}, format="json")
    assert reporter.post(f"/api/v1/updates/{update.pk}/withdraw/").json()["state"] == "draft"
    assert list(update.comments.values_list("kind", "text")) == [("submission", "Early figures."), ("withdrawal", "")]
