"""The review queue: what an officer can act on, filtered, in order; the next update after a review;
bulk approval; updates left in locked periods; the conversation on an update."""

import datetime

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from actionplan import paging, review_queue, services
from actionplan.models import ProgressUpdate, UpdateComment
from tests.factories import ActivityFactory, ProgressUpdateFactory

DAY = datetime.datetime(2020, 7, 1, 9, tzinfo=datetime.UTC)


def submitted(world, *, period=None, office=None, days=0, activity=None, **extra):
    activity = activity or ActivityFactory(objective=world.objective)
    activity.implementing_offices.add(office or world.office)
    return ProgressUpdateFactory(
        activity=activity, period=period or world.period, office=office or world.office, author=world.reporter,
        state="submitted", submitted_at=DAY + datetime.timedelta(days=days), **extra,
    )  # fmt: skip


def listed(response):
    return [update.pk for update in response.context["page"].object_list]


def said(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def officer(as_user, world):
    return as_user(world.officer)


def test_the_queue_lists_what_can_be_reviewed_now_and_the_locked_ones_apart(officer, world):
    now = submitted(world)
    stuck = submitted(world, period=world.locked_period)
    response = officer.get(reverse("review-queue"))
    assert listed(response) == [now.pk]
    assert [update.pk for update in response.context["stuck"]] == [stuck.pk]
    assert response.context["stuck_count"] == 1


def test_the_current_period_comes_first_then_the_longest_waiting(officer, world):
    later, earlier = submitted(world, days=5), submitted(world, days=1)
    reopened = submitted(world, period=world.locked_period, days=0)
    services.reopen_for_review(by=world.officer, update=reopened)
    assert listed(officer.get(reverse("review-queue"))) == [earlier.pk, later.pk, reopened.pk]


def test_mine_is_the_default_when_the_officer_has_updates_of_its_own(officer, world):
    mine = submitted(world, activity=ActivityFactory(objective=world.objective, responsible_officer=world.officer))
    others = submitted(world)
    assert listed(officer.get(reverse("review-queue"))) == [mine.pk]
    assert set(listed(officer.get(reverse("review-queue"), {"mine": "0"}))) == {mine.pk, others.pk}


def test_focus_area_leads_see_their_areas_updates_as_theirs(officer, world):
    world.area.lead_officers.add(world.officer)
    update = submitted(world)
    response = officer.get(reverse("review-queue"))
    assert (response.context["filters"].mine, listed(response)) == (True, [update.pk])


def test_filters_narrow_the_queue_and_each_choice_says_how_many(officer, world):
    ours = submitted(world)
    theirs = submitted(world, office=world.other_office, warnings=[{"indicator": None, "rule": "x", "message": "m"}])
    response = officer.get(reverse("review-queue"), {"office": world.other_office.code, "mine": "0"})
    assert listed(response) == [theirs.pk]
    offices = {row["code"]: row["n"] for row in response.context["facets"]["office"]}
    assert offices == {world.office.code: 1, world.other_office.code: 1}
    assert listed(officer.get(reverse("review-queue"), {"flagged": "1", "mine": "0"})) == [theirs.pk]
    organization = world.office.organization.code
    assert listed(officer.get(reverse("review-queue"), {"organization": organization, "mine": "0"})) == [ours.pk]


def test_an_unknown_filter_code_is_dropped_with_a_notice(officer, world):
    response = officer.get(reverse("review-queue"), {"period": "1999-Q9"})
    assert "Unknown period 1999-Q9" in response.content.decode()


def test_after_approving_the_next_update_of_the_same_filtered_queue_opens(officer, world):
    first, second = submitted(world, days=1), submitted(world, days=2)
    submitted(world, office=world.other_office, days=0)
    queue = f"office={world.office.code}&mine=0"
    response = officer.post(reverse("update-approve", args=[first.pk]), {"queue": queue})
    assert response.status_code == 302
    assert response.url == f"{reverse('update-detail', args=[second.pk])}?office={world.office.code}&mine=0"


def test_after_returning_the_last_one_the_queue_opens(officer, world):
    only = submitted(world)
    response = officer.post(reverse("update-return", args=[only.pk]), {"comment": "Add numbers.", "queue": "mine=0"})
    assert response.url == f"{reverse('review-queue')}?mine=0"
    assert "Nothing else waits in this queue." in said(response)


def test_bulk_approval_answers_for_each_update_and_leaves_a_changed_one_alone(officer, world):
    fine, changed = submitted(world), submitted(world)
    stuck = submitted(world, period=world.locked_period)
    ProgressUpdate.objects.filter(pk=changed.pk).update(version=changed.version + 1)
    response = officer.post(
        reverse("review-approve-selected"),
        {"selected": [f"{u.pk}:{u.version}" for u in (fine, changed, stuck)], "queue": "mine=0"},
    )
    messages = said(response)
    assert "1 of 3 updates approved." in messages
    assert any(m.startswith(f"{fine.activity.code}") and m.endswith(": approved") for m in messages)
    assert any(changed.activity.code in m and "changed since your page was loaded" in m for m in messages)
    assert any(stuck.activity.code in m and "is locked" in m for m in messages)
    states = dict(ProgressUpdate.objects.values_list("pk", "state"))
    assert (states[fine.pk], states[changed.pk], states[stuck.pk]) == ("approved", "submitted", "submitted")


def test_approving_in_a_locked_period_is_refused_saying_what_to_do(officer, world):
    stuck = submitted(world, period=world.locked_period)
    response = officer.post(reverse("update-approve", args=[stuck.pk]))
    assert any("open this update for review, or close it out" in m for m in said(response))
    assert ProgressUpdate.objects.get(pk=stuck.pk).state == "submitted"


def test_an_update_of_a_locked_period_opened_for_review_can_be_approved_and_it_is_recorded(officer, world):
    stuck = submitted(world, period=world.locked_period)
    officer.post(reverse("update-reopen", args=[stuck.pk]), {"reason": "Submitted in time, reviewed late."})
    officer.post(reverse("update-approve", args=[stuck.pk]))
    stuck.refresh_from_db()
    assert (stuck.state, stuck.reopened_for_review_by) == ("approved", world.officer)
    kinds = list(stuck.comments.values_list("kind", "text"))
    assert kinds == [("reopened", "Submitted in time, reviewed late."), ("approval", "")]


def test_closing_out_needs_a_reason_and_takes_the_update_out_of_every_list(officer, world):
    stuck = submitted(world, period=world.locked_period)
    response = officer.post(reverse("update-close-out", args=[stuck.pk]), {"reason": " "})
    assert any("Say why" in m for m in said(response))
    officer.post(reverse("update-close-out", args=[stuck.pk]), {"reason": "Superseded by the next quarter's report."})
    stuck.refresh_from_db()
    assert (stuck.closed_out_by, stuck.closed_out_reason) == (world.officer, "Superseded by the next quarter's report.")
    response = officer.get(reverse("review-queue"))
    assert response.context["stuck_count"] == 0 and listed(response) == []


def test_the_return_comment_stays_in_the_conversation_after_approval(as_user, world):
    update = submitted(world)
    services.return_update(by=world.officer, update=update, comment="Add the number of women trained.")
    services.add_comment(by=world.reporter, update=update, text="Added: 14 of 38.")
    services.submit_update(by=world.reporter, update=update, note="Numbers by sex added.")
    services.approve_update(by=world.officer, update=update, comment="Thank you.")
    conversation = list(update.comments.values_list("kind", "author__username", "text", "version"))
    assert conversation == [
        ("return", "officer", "Add the number of women trained.", 2),
        ("reply", "reporter.roseap", "Added: 14 of 38.", 2),
        ("resubmission", "reporter.roseap", "Numbers by sex added.", 3),
        ("approval", "officer", "Thank you.", 4),
    ]
    page = as_user(world.reporter).get(reverse("update-detail", args=[update.pk])).content.decode()
    assert page.index("Add the number of women trained.") < page.index("Thank you.")


def test_the_reporter_answers_on_the_page(as_user, world):
    update = submitted(world)
    services.return_update(by=world.officer, update=update, comment="Add numbers.")
    client = as_user(world.reporter)
    response = client.post(reverse("update-comment", args=[update.pk]), {"text": "Which numbers?"})
    assert response.status_code == 302
    assert update.comments.last().text == "Which numbers?"


def test_a_reply_to_an_approved_update_is_refused_and_the_text_kept(as_user, world):
    update = submitted(world)
    services.approve_update(by=world.officer, update=update)
    response = as_user(world.reporter).post(reverse("update-comment", args=[update.pk]), {"text": "One more thing"})
    assert response.status_code == 400
    assert "its conversation is closed" in response.content.decode()
    assert "One more thing" in response.content.decode()
    assert not update.comments.filter(kind=UpdateComment.Kind.REPLY).exists()


def test_a_reporter_withdraws_a_submission_not_yet_reviewed(as_user, world):
    update = submitted(world)
    as_user(world.reporter).post(reverse("update-withdraw", args=[update.pk]))
    update.refresh_from_db()
    assert update.state == "draft"
    assert update.comments.get().kind == "withdrawal"


def test_withdrawing_a_reviewed_update_is_refused(as_user, world):
    update = submitted(world)
    services.approve_update(by=world.officer, update=update)
    response = as_user(world.reporter).post(reverse("update-withdraw", args=[update.pk]))
    assert any("only a submitted update not yet reviewed can be withdrawn" in m for m in said(response))
    assert ProgressUpdate.objects.get(pk=update.pk).state == "approved"


def test_only_officers_open_the_queue(as_user, world):
    assert as_user(world.reporter).get(reverse("review-queue")).status_code == 403


def test_an_update_changed_since_the_officer_read_it_is_not_approved(officer, world):
    update = submitted(world)
    ProgressUpdate.objects.filter(pk=update.pk).update(version=update.version + 3)
    response = officer.post(reverse("update-approve", args=[update.pk]), {"version": update.version})
    assert any("changed since your page was loaded" in m for m in said(response))
    assert ProgressUpdate.objects.get(pk=update.pk).state == "submitted"


def test_an_approval_note_too_long_is_refused_and_nothing_approved(officer, world):
    update = submitted(world)
    response = officer.post(reverse("update-approve", args=[update.pk]), {"comment": "x" * 20_001})
    assert response.status_code == 400
    assert ProgressUpdate.objects.get(pk=update.pk).state == "submitted"


def test_the_next_update_is_the_one_after_the_reviewed_one_so_a_skipped_one_stays_behind(officer, world):
    skipped, first, second = submitted(world, days=1), submitted(world, days=2), submitted(world, days=3)
    response = officer.post(reverse("update-approve", args=[first.pk]), {"queue": "mine=0"})
    assert response.url.startswith(reverse("update-detail", args=[second.pk]))
    response = officer.post(reverse("update-approve", args=[second.pk]), {"queue": "mine=0"})
    assert response.url.startswith(reverse("update-detail", args=[skipped.pk]))


def test_an_update_opened_for_review_in_a_locked_period_is_not_returned(officer, world):
    stuck = submitted(world, period=world.locked_period)
    services.reopen_for_review(by=world.officer, update=stuck)
    response = officer.post(reverse("update-return", args=[stuck.pk]), {"comment": "Fix it."})
    assert any("could not change a returned update" in m for m in said(response))
    assert ProgressUpdate.objects.get(pk=stuck.pk).state == "submitted"


def test_an_officer_does_not_withdraw_an_offices_submission(officer, world):
    update = submitted(world)
    officer.post(reverse("update-withdraw", args=[update.pk]))
    assert ProgressUpdate.objects.get(pk=update.pk).state == "submitted"


def test_a_filter_code_with_a_nul_is_refused_with_a_page_that_says_why(officer, world):
    response = officer.get(reverse("review-queue"), {"period": "2020\x00Q2"})
    assert response.status_code == 400 and "NUL character" in response.content.decode()


def test_the_queue_read_in_two_steps_pages_the_same_rows_in_the_same_order_as_read_at_once(world):
    from django.core.paginator import Paginator

    for days in (3, 1, 1, 2, 0):
        submitted(world, days=days)
        submitted(world, period=world.locked_period, days=days)
    services.reopen_for_review(by=world.officer, update=ProgressUpdate.objects.filter(period=world.locked_period)[0])
    filters = review_queue.QueueFilters(mine=False)
    queue = review_queue.queue(world.officer, filters)
    at_once = Paginator(queue, 2)
    in_two_steps = Paginator(paging.ReadInTwoSteps(queue), 2)

    assert in_two_steps.count == at_once.count == 6
    assert [list(in_two_steps.page(number)) for number in in_two_steps.page_range] == [
        list(at_once.page(number)) for number in at_once.page_range
    ]


def a_queue_of_six(world):
    for days in (3, 1, 1, 2, 0):
        submitted(world, days=days)
        submitted(world, period=world.locked_period, days=days)
    services.reopen_for_review(by=world.officer, update=ProgressUpdate.objects.filter(period=world.locked_period)[0])
    return review_queue.queue(world.officer, review_queue.QueueFilters(mine=False))


@pytest.mark.parametrize(("start", "size"), [(0, 2), (0, 10), (2, 2), (5, 2)])
def test_the_queue_counted_and_cut_in_one_pass_gives_what_count_and_a_slice_give(
    world, start, size, django_assert_num_queries
):
    queue = a_queue_of_six(world)
    expected = (queue.count(), list(queue[start : start + size]))

    with django_assert_num_queries(2):  # the count with the window's ids, then their rows
        counted = paging.ReadInTwoSteps(queue).counted_slice(start, size)

    assert counted == expected == (6, list(queue)[start : start + size])
    nothing = review_queue.queue(world.officer, review_queue.QueueFilters(mine=True))
    assert paging.ReadInTwoSteps(nothing).counted_slice(start, size) == (0, [])


def test_a_window_past_the_last_row_is_counted_apart(world):
    assert paging.ReadInTwoSteps(a_queue_of_six(world)).counted_slice(6, 2) == (6, [])


@pytest.mark.parametrize("number", ["1", "2", "3", "4", "99", "99999999999999999999", "0", "-1", "two", None])
def test_a_page_counted_and_cut_in_one_pass_is_the_page_the_paginator_gives(world, number, django_assert_num_queries):
    from django.core.paginator import Paginator

    items = paging.ReadInTwoSteps(a_queue_of_six(world))
    expected = Paginator(items, 2).get_page(number)

    # A page that holds rows: its count and ids in one query, then its rows. One past the last: counted apart, and
    # the last page read as the paginator reads it (its ids, then its rows). Before the first: as the paginator.
    queries = {"1": 2, "2": 2, "3": 2, "two": 2, None: 2, "4": 4, "99": 4, "99999999999999999999": 4, "0": 3, "-1": 3}
    with django_assert_num_queries(queries[number]):
        page = paging.page_of(items, 2, number)

    assert (page.number, list(page), page.paginator.count) == (expected.number, list(expected), 6)


def test_a_queryset_in_its_models_own_order_is_counted_and_cut_as_count_and_a_slice_give(world):
    for days in (3, 1, 2):
        submitted(world, days=days)
    updates = ProgressUpdate.objects.all()  # in the order of the model's Meta

    assert paging.ReadInTwoSteps(updates).counted_slice(0, 2) == (3, list(updates[:2]))


def test_each_filters_counts_are_those_of_the_queue_with_the_other_filters_applied(world, django_assert_num_queries):
    import collections
    import itertools

    from tests.factories import FocusAreaFactory, ObjectiveFactory, OfficeFactory

    # Two choices of each filter, in every combination; one update flagged; one opened in a locked period.
    second_area = FocusAreaFactory(plan=world.plan, code="TER", name="Terrorism")
    objectives = [world.objective, ObjectiveFactory(focus_area=second_area, code="TER-1")]
    offices = [world.office, world.other_office, OfficeFactory(code="UNODC-ROEA")]
    for days, (objective, office) in enumerate(itertools.product(objectives, offices)):
        submitted(world, office=office, days=days, activity=ActivityFactory(objective=objective))
    submitted(world, office=offices[2], warnings=[{"indicator": None, "rule": "x", "message": "m"}])
    reopened = submitted(world, period=world.locked_period, office=offices[1])
    services.reopen_for_review(by=world.officer, update=reopened)
    rows = {
        "period": lambda update: update.period.code,
        "focus_area": lambda update: update.activity.objective.focus_area.code,
        "office": lambda update: update.office.code,
        "organization": lambda update: update.office.organization.code,
    }
    chosen = {
        "period": world.period,
        "focus_area": second_area,
        "office": offices[1],
        "organization": offices[2].organization,
    }
    world.area.lead_officers.add(world.officer)  # the officer's own: the updates of CYB
    for mine, flagged, *picks in itertools.product(
        (False, True), (False, True), *[(None, choice) for choice in chosen.values()]
    ):
        filters = review_queue.QueueFilters(mine=mine, flagged=flagged, **dict(zip(chosen, picks, strict=True)))

        with django_assert_num_queries(1):
            counted = review_queue.facets(world.officer, filters)

        for name, code_of in rows.items():
            others = review_queue.QueueFilters(**{**filters.__dict__, name: None})
            expected = collections.Counter(code_of(update) for update in review_queue.queue(world.officer, others))
            assert {choice["code"]: choice["n"] for choice in counted[name]} == expected, (name, filters)
            assert [choice["code"] for choice in counted[name]] == sorted(expected)

    unfiltered = review_queue.facets(world.officer, review_queue.QueueFilters(mine=False))
    assert [(choice["code"], choice["name"], choice["n"]) for choice in unfiltered["focus_area"]] == [
        ("CYB", "Cybercrime", 5),
        ("TER", "Terrorism", 3),
    ]
    assert [(choice["code"], choice["n"]) for choice in unfiltered["period"]] == [("2020-Q1", 1), ("2020-Q2", 7)]
