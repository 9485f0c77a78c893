"""Meetings: the secretary records reviews, decisions and action items; co-chairs sign the minutes (test_signoff)."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse

from steering.models import ActionItem, ActionItemNote, Decision, Review

PREFIXES = {
    "meeting-review": "review",
    "meeting-decision": "decision",
    "meeting-action-item": "item",
    "meeting-minutes": "minutes",
}


def post(client, name, meeting, data):
    prefix = PREFIXES[name]
    return client.post(reverse(name, args=[meeting.pk]), {f"{prefix}-{key}": value for key, value in data.items()})


def test_secretary_records_a_review_with_the_figures_frozen(as_user, committee_world):
    world = committee_world
    response = post(
        as_user(world.secretary), "meeting-review", world.meeting,
        {"focus_area": world.area.pk, "rating": "at_risk", "assessment": "Slow start in two regions."},
    )  # fmt: skip
    assert response.status_code == 302
    review = Review.objects.get()
    assert (review.rating, review.recorded_by) == ("at_risk", world.secretary)
    assert review.figures["code"] == "CYB"
    assert review.figures["status"]["planned"] == 4
    assert review.figures["period"] == "2020-Q2"


def test_second_review_of_the_same_area_is_refused_with_a_message(as_user, committee_world):
    world = committee_world
    client = as_user(world.secretary)
    data = {"focus_area": world.area.pk, "rating": "at_risk", "assessment": "First."}
    post(client, "meeting-review", world.meeting, data)
    response = post(client, "meeting-review", world.meeting, {**data, "assessment": "Second."})
    assert response.status_code == 400
    assert "already reviewed at this meeting" in response.content.decode()
    assert "Second." in response.content.decode()
    assert Review.objects.count() == 1


def test_decisions_are_numbered_within_the_meeting(as_user, committee_world):
    world = committee_world
    client = as_user(world.secretary)
    for text in ("Adopt the plan.", "Meet again in March."):
        post(client, "meeting-decision", world.meeting, {"text": text})
    post(client, "meeting-decision", world.next_meeting, {"text": "Another meeting's first."})
    assert list(Decision.objects.filter(meeting=world.meeting).values_list("number", "text")) == [
        (1, "Adopt the plan."),
        (2, "Meet again in March."),
    ]
    assert Decision.objects.get(meeting=world.next_meeting).number == 1


def test_action_item_is_recorded_and_its_owner_told(as_user, committee_world, django_capture_on_commit_callbacks):
    world = committee_world
    world.officer.email = "officer@example.org"
    world.officer.save()
    with django_capture_on_commit_callbacks(execute=True):
        response = post(
            as_user(world.secretary), "meeting-action-item", world.meeting,
            {"description": "Prepare a note on SARTO.", "owner_user": world.officer.pk, "due_on": "2020-12-01"},
        )  # fmt: skip
    assert response.status_code == 302
    assert ActionItem.objects.get().owner_user == world.officer
    assert mail.outbox[0].to == ["officer@example.org"]
    assert "Prepare a note on SARTO." in mail.outbox[0].body


def test_due_date_before_the_meeting_is_refused(as_user, committee_world):
    world = committee_world
    response = post(
        as_user(world.secretary), "meeting-action-item", world.meeting,
        {"description": "Too early", "owner_office": world.office.pk, "due_on": "2020-08-31"},
    )  # fmt: skip
    assert response.status_code == 400
    assert "cannot be before the meeting" in response.content.decode()
    assert not ActionItem.objects.exists()


def test_action_item_needs_exactly_one_owner(as_user, committee_world):
    world = committee_world
    response = post(
        as_user(world.secretary), "meeting-action-item", world.meeting,
        {"description": "Whose?", "due_on": "2020-12-01"},
    )  # fmt: skip
    assert "one owner" in response.content.decode()


def test_committee_member_cannot_record(as_user, committee_world):
    world = committee_world
    response = post(as_user(world.committee), "meeting-decision", world.meeting, {"text": "Mine."})
    assert response.status_code == 403
    assert not Decision.objects.exists()


def test_one_co_chair_alone_no_longer_approves_the_minutes(as_user, signing_world):
    world = signing_world
    as_user(world.secretary).post(
        reverse("meeting-minutes", args=[world.meeting.pk]), {"minutes-minutes": "The committee met.", "submit": ""}
    )
    client = as_user(world.cochair)
    client.post(reverse("signoff-sign", args=[world.meeting.signoffs.get().pk]))
    world.meeting.refresh_from_db()
    assert world.meeting.minutes_submitted_at is not None
    assert world.meeting.minutes_approved_at is None and world.meeting.minutes_approved_by is None


def test_only_the_secretary_or_an_officer_writes_and_submits_the_minutes(as_user, committee_world):
    world = committee_world
    response = as_user(world.cochair).post(
        reverse("meeting-minutes", args=[world.meeting.pk]), {"minutes-minutes": "x", "submit": ""}
    )
    assert response.status_code == 403
    world.meeting.refresh_from_db()
    assert world.meeting.minutes == "" and world.meeting.minutes_submitted_at is None


def test_next_meeting_lists_open_items_of_earlier_meetings(as_user, committee_world):
    from tests.factories import ActionItemFactory

    world = committee_world
    open_item = ActionItemFactory(meeting=world.meeting, description="Still open", due_on=datetime.date(2020, 10, 1))
    ActionItemFactory(meeting=world.meeting, description="Finished", state="done")
    response = as_user(world.committee).get(reverse("meeting-detail", args=[world.next_meeting.pk]))
    assert list(response.context["earlier_open"]) == [open_item]


def test_tracker_lists_overdue_items_first(as_user, committee_world):
    from tests.factories import ActionItemFactory

    world = committee_world
    later = ActionItemFactory(meeting=world.meeting, due_on=datetime.date(2999, 1, 1))
    overdue = ActionItemFactory(meeting=world.meeting, due_on=datetime.date(2020, 10, 1))
    done = ActionItemFactory(meeting=world.meeting, due_on=datetime.date(2020, 9, 2), state="done")
    response = as_user(world.committee).get(reverse("action-items"))
    assert list(response.context["items"]) == [overdue, later, done]


def test_owner_comments_on_its_item_and_closes_it(as_user, committee_world):
    from tests.factories import ActionItemFactory

    world = committee_world
    item = ActionItemFactory(meeting=world.meeting, owner_user=world.committee)
    client = as_user(world.committee)
    client.post(reverse("action-item-detail", args=[item.pk]), {"text": "Note sent to members.", "state": "done"})
    item.refresh_from_db()
    assert item.state == "done" and item.closed_at is not None
    assert ActionItemNote.objects.get().author == world.committee


def test_member_who_does_not_own_an_item_cannot_comment(as_user, committee_world):
    from tests.factories import ActionItemFactory

    world = committee_world
    item = ActionItemFactory(meeting=world.meeting, owner_user=world.officer)
    response = as_user(world.committee).post(
        reverse("action-item-detail", args=[item.pk]), {"text": "Me too", "state": "open"}
    )
    assert response.status_code == 403
    assert not ActionItemNote.objects.exists()


@pytest.mark.parametrize("items", [1, 15])
def test_meeting_page_query_count_does_not_grow(as_user, committee_world, django_assert_max_num_queries, items):
    from tests.factories import ActionItemFactory, DecisionFactory

    world = committee_world
    for number in range(1, items + 1):
        DecisionFactory(meeting=world.meeting, number=number)
        ActionItemFactory(meeting=world.meeting, due_on=datetime.date(2020, 10, 1))
    client = as_user(world.secretary)
    # A process reads a model's content type once and keeps it (the sign-off panel's): counted from the second
    # view on, whichever test of the process ran first.
    client.get(reverse("meeting-detail", args=[world.next_meeting.pk]))
    # includes the review form's live dashboard figures for the first unreviewed area, the sign-off
    # panel (its rounds, the co-chairs' seats) and the navigation's unread notifications
    with django_assert_max_num_queries(33):
        client.get(reverse("meeting-detail", args=[world.next_meeting.pk]))


def test_meeting_record_exports_as_pdf(as_user, committee_world):
    import io

    import pypdf

    from tests.factories import DecisionFactory, ReviewFactory

    world = committee_world
    ReviewFactory(meeting=world.meeting, focus_area=world.area, assessment="Good progress in Kenya.")
    DecisionFactory(meeting=world.meeting, number=1, text="The committee adopts the recovery plan.")
    response = as_user(world.committee).get(reverse("meeting-pdf", args=[world.meeting.pk]))
    assert response["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(response.content)).pages)
    assert "Good progress in Kenya." in text
    assert "The committee adopts the recovery plan." in text


@pytest.mark.parametrize("page", ["meeting-list", "action-items"])
def test_field_reporters_do_not_read_the_committee_record(as_user, committee_world, page):
    assert as_user(committee_world.reporter).get(reverse(page)).status_code == 403


def _office_item(world, **extra):
    from tests.factories import ActionItemFactory

    return ActionItemFactory(
        meeting=world.meeting, owner_user=None, owner_office=world.office, description="Send the seizure data",
        **extra,
    )  # fmt: skip


def test_a_reporter_finds_its_offices_action_items_on_its_home_page(as_user, committee_world):
    _office_item(committee_world)
    page = as_user(committee_world.reporter).get(reverse("home")).content.decode()
    assert "Send the seizure data" in page


def test_a_reporter_follows_its_offices_item_without_opening_the_committees_records(as_user, committee_world):
    item = _office_item(committee_world)
    client = as_user(committee_world.reporter)
    page = client.get(reverse("action-item-detail", args=[item.pk]))
    assert page.status_code == 200
    assert reverse("meeting-detail", args=[committee_world.meeting.pk]) not in page.content.decode()
    response = client.post(
        reverse("action-item-detail", args=[item.pk]), {"text": "Data sent on 3 May.", "state": "done"}
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.state == "done" and item.notes.get().author == committee_world.reporter
    assert client.get(reverse("meeting-detail", args=[committee_world.meeting.pk])).status_code == 403
    assert client.get(reverse("action-items")).status_code == 403


def test_an_owner_may_not_drop_an_item(as_user, committee_world):
    item = _office_item(committee_world)
    response = as_user(committee_world.reporter).post(
        reverse("action-item-detail", args=[item.pk]), {"text": "Not ours.", "state": "dropped"}
    )
    assert response.status_code == 200
    item.refresh_from_db()
    assert item.state == "open" and not item.notes.exists()


def test_another_offices_item_is_not_found(as_user, committee_world):
    item = _office_item(committee_world)
    assert as_user(committee_world.other_reporter).get(reverse("action-item-detail", args=[item.pk])).status_code == 404


def test_the_dashboard_tiles_open_the_lists_they_count(as_user, committee_world):
    import datetime

    overdue = _office_item(committee_world, due_on=datetime.date(2000, 1, 1))
    later = _office_item(committee_world, due_on=datetime.date(2999, 1, 1))
    client = as_user(committee_world.committee)
    page = client.get(reverse("dashboard")).content.decode()
    assert f'href="{reverse("action-items")}?overdue=1"' in page
    listed = client.get(reverse("action-items"), {"overdue": "1"}).context["items"]
    assert [item.pk for item in listed] == [overdue.pk]
    assert {item.pk for item in client.get(reverse("action-items"), {"state": "open"}).context["items"]} >= {
        overdue.pk, later.pk,
    }  # fmt: skip


def _second_area(world):
    from tests.factories import FocusAreaFactory, ObjectiveFactory

    area = FocusAreaFactory(plan=world.plan, code="TER", name="Terrorism", order=2)
    ObjectiveFactory(focus_area=area, code="TER-1")
    return area


def test_the_figures_panel_follows_the_area_chosen(as_user, committee_world):
    world = committee_world
    terrorism = _second_area(world)
    response = as_user(world.secretary).get(
        reverse("meeting-review-figures", args=[world.meeting.pk]), {"review-focus_area": terrorism.pk}
    )
    assert response.status_code == 200
    assert response.context["review_area"] == terrorism
    assert response.context["review_figures"]["code"] == "TER"
    assert 'name="review-shown_figures"' in response.content.decode()


def test_exactly_the_figures_shown_are_frozen_into_the_review(as_user, committee_world):
    world = committee_world
    client = as_user(world.secretary)
    panel = client.get(reverse("meeting-review-figures", args=[world.meeting.pk]), {"review-focus_area": world.area.pk})
    shown = panel.context["review_figures_token"]
    # Something changes after the panel was shown: the review keeps what the recorder saw.
    world.activity.status = "completed"
    world.activity.save()
    data = {"focus_area": world.area.pk, "rating": "on_track", "assessment": "Fine.", "shown_figures": shown}
    post(client, "meeting-review", world.meeting, data)
    assert Review.objects.get().figures == panel.context["review_figures"]


def test_figures_shown_for_another_area_are_not_frozen_into_this_one(as_user, committee_world):
    world = committee_world
    terrorism = _second_area(world)
    client = as_user(world.secretary)
    panel = client.get(reverse("meeting-review-figures", args=[world.meeting.pk]), {"review-focus_area": world.area.pk})
    post(client, "meeting-review", world.meeting, {
        "focus_area": terrorism.pk, "rating": "on_track", "assessment": "Fine.",
        "shown_figures": panel.context["review_figures_token"],
    })  # fmt: skip
    assert Review.objects.get().figures["code"] == "TER"


def test_the_rating_has_no_default(as_user, committee_world):
    world = committee_world
    response = post(
        as_user(world.secretary), "meeting-review", world.meeting,
        {"focus_area": world.area.pk, "assessment": "No rating given."},
    )  # fmt: skip
    assert response.status_code == 400 and not Review.objects.exists()
    assert "This field is required." in str(response.context["review_form"].errors["rating"])


def test_reviews_and_decisions_change_until_the_minutes_are_approved(as_user, committee_world):
    world = committee_world
    client = as_user(world.secretary)
    post(client, "meeting-review", world.meeting, {"focus_area": world.area.pk, "rating": "at_risk", "assessment": "A"})
    for text in ("First.", "Second.", "Third."):
        post(client, "meeting-decision", world.meeting, {"text": text})
    review = Review.objects.get()
    client.post(reverse("meeting-review-edit", args=[world.meeting.pk, review.pk]),
                {"review-rating": "on_track", "review-assessment": "Better than feared."})  # fmt: skip
    review.refresh_from_db()
    assert (review.rating, review.assessment) == ("on_track", "Better than feared.")
    first = Decision.objects.get(number=1)
    client.post(reverse("meeting-decision-delete", args=[world.meeting.pk, first.pk]))
    assert list(Decision.objects.values_list("number", "text")) == [(1, "Second."), (2, "Third.")]
    client.post(reverse("meeting-review-delete", args=[world.meeting.pk, review.pk]))
    assert not Review.objects.exists()


def test_nothing_changes_once_the_minutes_are_approved(as_user, committee_world):
    world = committee_world
    secretary = as_user(world.secretary)
    post(secretary, "meeting-decision", world.meeting, {"text": "Kept."})
    decision = Decision.objects.get()
    world.meeting.minutes_approved_at = datetime.datetime(2020, 9, 2, tzinfo=datetime.UTC)
    world.meeting.save()
    response = secretary.post(reverse("meeting-decision-delete", args=[world.meeting.pk, decision.pk]))
    assert response.status_code == 302
    assert Decision.objects.filter(pk=decision.pk).exists()


def test_attendees_are_chosen_by_name(as_user, committee_world):
    world = committee_world
    world.cochair.first_name, world.cochair.last_name = "Ivan", "Chair"
    world.cochair.save()
    page = as_user(world.secretary).get(reverse("meeting-list")).content.decode()
    assert "data-filterable" in page and "Ivan Chair" in page


def test_an_owner_does_not_take_up_a_dropped_item_again_but_may_still_write_on_it(as_user, committee_world):
    item = _office_item(committee_world, state="dropped")
    client = as_user(committee_world.reporter)
    client.post(reverse("action-item-detail", args=[item.pk]), {"text": "Still relevant?", "state": "open"})
    item.refresh_from_db()
    assert item.state == "dropped" and not item.notes.exists()
    client.post(reverse("action-item-detail", args=[item.pk]), {"text": "Noted.", "state": ""})
    item.refresh_from_db()
    assert item.state == "dropped" and item.notes.get().text == "Noted."


def test_a_figures_panel_for_no_such_area_is_not_found(as_user, committee_world):
    url = reverse("meeting-review-figures", args=[committee_world.meeting.pk])
    assert as_user(committee_world.secretary).get(url, {"review-focus_area": "abc"}).status_code == 404
