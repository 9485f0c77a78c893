"""The plan the portal works on: the latest to start, one rule for the pages, the reports and the IATI export."""

import datetime

from django.urls import reverse

from actionplan.models import ActionPlan
from tests.factories import ActionPlanFactory


def test_the_current_plan_is_the_latest_to_start(db):
    ActionPlanFactory(code="JAP-2018", starts_on=datetime.date(2018, 7, 1))
    ActionPlanFactory(code="JAP-2022", starts_on=datetime.date(2022, 7, 1), ends_on=datetime.date(2025, 6, 30))
    ActionPlanFactory(code="JAP-2020", starts_on=datetime.date(2020, 1, 1))

    assert ActionPlan.objects.current().first().code == "JAP-2022"


def test_of_two_plans_starting_the_same_day_the_current_is_the_one_made_first(db):
    first = ActionPlanFactory(code="JAP-A", starts_on=datetime.date(2018, 7, 1))
    ActionPlanFactory(code="JAP-B", starts_on=datetime.date(2018, 7, 1))
    # Without a tie-break PostgreSQL answers whichever row it reads first: an edit of the first plan
    # stores its row again, after the second's.
    first.save()

    assert ActionPlan.objects.current().first() == first


def test_the_plan_page_shows_the_current_plan(as_user, world):
    ActionPlanFactory(code="JAP-OLD", title="An older plan", starts_on=datetime.date(2010, 1, 1))

    page = as_user(world.officer).get(reverse("plan")).content.decode()

    assert world.plan.title in page and "An older plan" not in page
