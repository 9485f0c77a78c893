"""The home page shows each role what it needs first."""

import pytest
from django.urls import reverse

from portal.demo import seed_demo
from portal.reference import load_reference_data
from tests import factories
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db


def test_anonymous_user_is_sent_to_login(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_login_page_answers(client):
    assert client.get(reverse("login")).status_code == 200


def test_wrong_password_keeps_the_username_and_says_why(client):
    factories.UserFactory(username="olga")
    response = client.post(reverse("login"), {"username": "olga", "password": "wrong"})
    assert response.status_code == 200
    assert 'value="olga"' in response.content.decode()
    assert "correct username and password" in response.content.decode()


def test_demo_officer_logs_in_to_the_review_queue(client):
    load_reference_data()
    seed_demo(scale="XS", seed=1, password="pw")
    response = client.post(reverse("login"), {"username": "officer", "password": "pw"}, follow=True)
    assert response.context["queue_count"] > 0
    assert "Review queue" in response.content.decode()


def test_officer_sees_submitted_updates_and_activities_needing_attention(client, world):
    factories.ProgressUpdateFactory(
        activity=world.activity, period=world.locked_period, office=world.office, state="approved", rag="off_track"
    )
    submitted = factories.ProgressUpdateFactory(
        activity=world.activity, period=world.period, office=world.office, state="submitted", rag="on_track"
    )
    client.force_login(world.officer)
    response = client.get(reverse("home"))
    assert list(response.context["queue"]) == [submitted]
    # CYB-1.1's latest approved update is off track; the other three have no update for the current period.
    assert [activity.code for activity in response.context["attention"]] == ["CYB-1.1", "CYB-1.2", "CYB-1.3", "CYB-1.4"]


def test_officer_sees_which_activities_needing_attention_miss_their_update(client, world):
    # CYB-1.1 is off track and has its update for the current period; the others have none.
    factories.ProgressUpdateFactory(
        activity=world.activity, period=world.locked_period, office=world.office, state="approved", rag="off_track"
    )
    factories.ProgressUpdateFactory(
        activity=world.activity, period=world.period, office=world.office, state="submitted"
    )
    client.force_login(world.officer)

    response = client.get(reverse("home"))

    missing = {activity.code: activity.missing_update for activity in response.context["attention"]}
    assert missing == {"CYB-1.1": False, "CYB-1.2": True, "CYB-1.3": True, "CYB-1.4": True}
    assert response.content.decode().count("is missing") == 3


def test_officer_sees_the_first_activities_off_track_or_missing_in_code_order_each_once(client, world, monkeypatch):
    # Read as two lists cut at the rows shown (off track; missing an update), then merged: an activity on
    # both shows once, and one shown from the off-track list is marked missing only if it is.
    from portal import home_data

    monkeypatch.setattr(home_data, "HOME_ROWS", 3)
    for activity in (world.activity, world.restricted):
        factories.ProgressUpdateFactory(
            activity=activity, period=world.locked_period, office=world.office, state="approved", rag="off_track"
        )
    factories.ProgressUpdateFactory(
        activity=world.activity, period=world.period, office=world.office, state="submitted"
    )
    client.force_login(world.officer)

    response = client.get(reverse("home"))

    shown = [(activity.code, activity.missing_update) for activity in response.context["attention"]]
    assert shown == [("CYB-1.1", False), ("CYB-1.2", True), ("CYB-1.3", True)]


def test_reporter_sees_what_is_due_and_what_was_returned(client, world):
    returned = factories.ProgressUpdateFactory(
        activity=world.activity, period=world.period, office=world.office, state="returned"
    )
    client.force_login(world.reporter)
    response = client.get(reverse("home"))
    due = {(pair.activity.code, pair.update_id) for pair in response.context["due"]}
    assert due == {("CYB-1.1", returned.pk), ("CYB-1.2", None)}
    assert list(response.context["returned"]) == [returned]
    assert "2020-Q2" in response.content.decode()


def test_committee_member_sees_the_next_meeting(client, world):
    meeting = factories.MeetingFactory(committee=factories.CommitteeFactory(plan=world.plan), place="Vienna")
    client.force_login(world.committee)
    response = client.get(reverse("home"))
    assert response.context["next_meeting"] == meeting
    assert "Vienna" in response.content.decode()


def test_password_reset_sends_a_link_that_sets_a_new_password(client, mailoutbox):
    import re

    factories.UserFactory(username="amina", email="amina@example.org")
    client.post(reverse("password_reset"), {"email": "amina@example.org"})
    assert mailoutbox[0].to == ["amina@example.org"]
    link = re.search(r"https?://[^/]+(/accounts/reset/\S+)", mailoutbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "a-new-long-passphrase", "new_password2": "a-new-long-passphrase"},
    )
    assert sign_in(client, "amina", "a-new-long-passphrase")


def test_a_reporter_sees_what_is_overdue_in_an_earlier_open_period_first(client, world):
    import datetime

    from actionplan.models import ReportingPeriod

    ReportingPeriod.objects.filter(pk=world.locked_period.pk).update(state="open", due_on=datetime.date(2020, 4, 15))
    client.force_login(world.reporter)
    page = client.get(reverse("home")).content.decode()
    assert "Overdue for <bdi>2020-Q1</bdi>" in page
    assert page.index("Overdue for <bdi>2020-Q1</bdi>") < page.index("Due for <bdi>2020-Q2</bdi>")


def test_a_returned_update_is_shown_first_with_the_officers_comment(client, world):
    from actionplan import services

    update = services.create_update(
        by=world.reporter, activity=world.activity, period=world.period, office=world.office, rag="on_track",
        percent_complete=20, submit=True,
    )  # fmt: skip
    services.return_update(by=world.officer, update=update, comment="Add the attendance list.")
    client.force_login(world.reporter)
    page = client.get(reverse("home")).content.decode()
    assert "Add the attendance list." in page and page.index("Returned to you") < page.index("Due for")


@pytest.mark.parametrize("size", [2, 20])
def test_reporters_home_reads_a_fixed_number_of_queries_joining_its_offices_once(client, world, size):
    import datetime

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from actionplan.models import ProgressUpdate, ReportingPeriod

    ReportingPeriod.objects.filter(pk=world.locked_period.pk).update(state="open", due_on=datetime.date(2020, 4, 15))
    factories.grow_plan(world, size, state=ProgressUpdate.State.DRAFT)
    factories.grow_plan(world, size, state=ProgressUpdate.State.RETURNED)
    ProgressUpdate.objects.filter(state=ProgressUpdate.State.RETURNED).update(
        reviewed_by=world.officer, review_comment="Add the attendance list."
    )
    client.force_login(world.reporter)

    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("home")).content.decode()

    assert "Overdue for" in page and "Returned to you" in page
    assert page.count("Add the attendance list.") == page.count("— officer") == min(size, 10)
    # session, user, plan, open period, groups, unread notifications; the late periods and one list for each;
    # what is due, returned (and its reviewers), the drafts, the action items.
    assert len(queries) == 13
    # What the reporter may read (``visible_to``) is its offices' already: each list names its memberships
    # there and, for the updates, once in the activities it may read; a second join doubles the planning.
    assert max(query["sql"].count('JOIN "portal_membership"') for query in queries) <= 2
    # The lists read what they show: not an update's texts, nor an activity's description.
    read = " ".join(query["sql"] for query in queries)
    assert '"actionplan_progressupdate"."narrative"' not in read and '"actionplan_activity"."description"' not in read
