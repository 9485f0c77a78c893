"""What is due: every (activity, office) pair of a reporter's offices for an open period, of which the home
lists the first (``portal.home_data.HOME_PAIRS``) and links here when there are more."""

import datetime

import pytest
from django.urls import reverse

from actionplan.models import Activity, ProgressUpdate, ReportingPeriod
from portal.home_data import HOME_PAIRS
from tests import factories

pytestmark = pytest.mark.django_db

SEE_ALL = "See all updates due for"


def listed(response) -> list[tuple[str, str]]:
    return [(pair.activity.code, pair.office.code) for pair in response.context["page"].object_list]


def open_late_period(world) -> ReportingPeriod:
    """The world's earlier period opened again, its updates due long ago: overdue."""
    ReportingPeriod.objects.filter(pk=world.locked_period.pk).update(state="open", due_on=datetime.date(2020, 4, 15))
    return ReportingPeriod.objects.get(pk=world.locked_period.pk)


def test_the_page_lists_the_pairs_of_the_reporters_offices_for_the_latest_open_period(client, world):
    factories.ProgressUpdateFactory(activity=world.activity, period=world.period, office=world.office, state="draft")
    client.force_login(world.reporter)
    response = client.get(reverse("due-updates"))
    assert response.context["period"] == world.period
    assert sorted(listed(response)) == [("CYB-1.1", world.office.code), ("CYB-1.2", world.office.code)]
    page = response.content.decode()
    assert "Open (draft)" in page and reverse("update-create", args=["CYB-1.2"]) in page


def test_what_is_left_to_do_comes_first_and_what_is_approved_last(client, world):
    states = {"approved": "CYB-1.1", "submitted": "CYB-1.2", "draft": "CYB-1.3", "returned": "CYB-1.4"}
    for state, code in states.items():
        activity = Activity.objects.get(code=code)
        activity.implementing_offices.add(world.office)
        factories.ProgressUpdateFactory(activity=activity, period=world.period, office=world.office, state=state)
    unwritten = factories.ActivityFactory(objective=world.objective, code="CYB-1.9")
    unwritten.implementing_offices.add(world.office)
    client.force_login(world.reporter)
    shown = [code for code, _office in listed(client.get(reverse("due-updates")))]
    assert shown == ["CYB-1.9", "CYB-1.4", "CYB-1.3", "CYB-1.2", "CYB-1.1"]


def test_the_state_of_each_update_is_named_in_the_readers_language(client, world):
    factories.ProgressUpdateFactory(activity=world.activity, period=world.period, office=world.office, state="draft")
    client.force_login(world.reporter)
    page = client.get(reverse("due-updates"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "(brouillon)" in page


def test_another_offices_reporter_sees_its_own_pairs_alone(client, world):
    client.force_login(world.other_reporter)
    response = client.get(reverse("due-updates"))
    assert listed(response) == [("CYB-1.3", world.other_office.code), ("CYB-1.4", world.other_office.code)]


def test_the_page_lists_the_period_asked_for_among_the_open_ones(client, world):
    late = open_late_period(world)
    client.force_login(world.reporter)
    response = client.get(reverse("due-updates"), {"period": late.code})
    assert response.context["period"] == late and len(listed(response)) == 2


@pytest.mark.parametrize("period", ["2019-Q9", "locked"])
def test_a_period_unknown_or_not_open_is_not_found(client, world, period):
    client.force_login(world.reporter)
    code = world.locked_period.code if period == "locked" else period
    assert client.get(reverse("due-updates"), {"period": code}).status_code == 404


def test_the_home_lists_the_first_pairs_due_and_links_to_all_of_them(client, world):
    factories.grow_plan(world, HOME_PAIRS, state=ProgressUpdate.State.DRAFT)
    client.force_login(world.reporter)
    home = client.get(reverse("home"))
    assert len(home.context["due"]) == HOME_PAIRS
    page = home.content.decode()
    link = f"{reverse('due-updates')}?period={world.period.code}"
    assert SEE_ALL in page and link in page
    assert client.get(link).context["page"].paginator.count == HOME_PAIRS + 2


def test_the_home_links_to_the_page_of_an_overdue_period_when_it_lists_only_the_first(client, world):
    late = open_late_period(world)
    factories.grow_plan(world, HOME_PAIRS, state=ProgressUpdate.State.DRAFT)
    client.force_login(world.reporter)
    page = client.get(reverse("home")).content.decode()
    assert f"{reverse('due-updates')}?period={late.code}" in page


def test_the_home_offers_no_link_when_it_lists_every_pair(client, world):
    client.force_login(world.reporter)
    assert SEE_ALL not in client.get(reverse("home")).content.decode()


@pytest.mark.parametrize("size", [2, 60])
def test_the_page_reads_a_fixed_number_of_queries(client, world, django_assert_max_num_queries, size):
    factories.grow_plan(world, size, state=ProgressUpdate.State.DRAFT)
    client.force_login(world.reporter)
    # session, user, groups, unread notifications; the period, the count, the page's pairs; the access log's
    # insert of the restricted activity listed (CYB-1.2), one however many.
    with django_assert_max_num_queries(8):
        assert client.get(reverse("due-updates")).status_code == 200


@pytest.fixture
def earlier_plan(world):
    """An earlier plan with an activity the world's office implements and a period still open."""
    plan = factories.ActionPlanFactory(
        title="Earlier plan", starts_on=datetime.date(2015, 7, 1), ends_on=datetime.date(2018, 6, 30)
    )
    activity = factories.ActivityFactory(
        objective=factories.ObjectiveFactory(focus_area=factories.FocusAreaFactory(plan=plan, code="OLD")),
        code="OLD-1.1",
    )
    activity.implementing_offices.add(world.office)
    return factories.ReportingPeriodFactory(plan=plan, code="2018-Q3", state="open")


def test_a_period_lists_the_activities_of_its_own_plan_alone(client, world, earlier_plan):
    client.force_login(world.reporter)
    assert [code for code, _office in listed(client.get(reverse("due-updates")))] == ["CYB-1.1", "CYB-1.2"]
    earlier = client.get(reverse("due-updates"), {"period": earlier_plan.code})
    assert [code for code, _office in listed(earlier)] == ["OLD-1.1"]
