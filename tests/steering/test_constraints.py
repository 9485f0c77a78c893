"""The database itself refuses rows that break the committee's rules."""

import pytest

from tests import factories
from tests.conftest import assert_refused

pytestmark = pytest.mark.django_db


def test_one_review_per_focus_area_per_meeting():
    review = factories.ReviewFactory()
    assert_refused(lambda: factories.ReviewFactory(meeting=review.meeting, focus_area=review.focus_area))


def test_decision_numbers_are_unique_within_a_meeting():
    decision = factories.DecisionFactory(number=1)
    assert_refused(lambda: factories.DecisionFactory(meeting=decision.meeting, number=1))


def test_decision_numbers_start_at_one():
    assert_refused(lambda: factories.DecisionFactory(number=0))


def test_action_item_owned_by_a_user_or_an_office():
    assert_refused(lambda: factories.ActionItemFactory(owner_user=None, owner_office=None))


def test_action_item_not_owned_by_both_a_user_and_an_office():
    assert_refused(lambda: factories.ActionItemFactory(owner_office=factories.OfficeFactory()))


def test_committee_member_seated_once():
    from steering.models import CommitteeMember

    committee = factories.CommitteeFactory()
    user = factories.UserFactory()
    CommitteeMember.objects.create(committee=committee, user=user)
    assert_refused(lambda: CommitteeMember.objects.create(committee=committee, user=user))


@pytest.mark.parametrize("progress", [101, -1])
def test_report_progress_stays_between_0_and_100(progress):
    assert_refused(lambda: factories.ProgressReportFactory(progress=progress))
