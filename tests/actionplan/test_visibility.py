"""Who reads which activities: ``Activity.objects.visible_to``, the one rule every page, API call and export uses."""

from actionplan.models import Activity
from portal import roles
from tests.factories import ActivityFactory, MembershipFactory, OfficeFactory, UserFactory


def codes(user):
    return sorted(Activity.objects.visible_to(user).values_list("code", flat=True))


def test_a_reporter_of_two_offices_reads_what_either_implements_once_each_and_nothing_else(world):
    # An activity both offices implement is read once; one only a third office implements, not at all.
    MembershipFactory(user=world.reporter, office=world.other_office)
    shared = ActivityFactory(objective=world.objective, code="CYB-1.5")
    shared.implementing_offices.add(world.office, world.other_office)
    ActivityFactory(objective=world.objective, code="CYB-1.6").implementing_offices.add(OfficeFactory())

    assert codes(world.reporter) == ["CYB-1.1", "CYB-1.2", "CYB-1.3", "CYB-1.4", "CYB-1.5"]


def test_a_reporter_reads_its_offices_activities_restricted_ones_included(world):
    assert codes(world.reporter) == ["CYB-1.1", "CYB-1.2"]
    assert codes(world.other_reporter) == ["CYB-1.3", "CYB-1.4"]


def test_a_user_of_no_office_reads_nothing_and_an_officer_or_committee_member_everything(world):
    assert codes(world.outsider) == []
    assert codes(world.officer) == codes(world.committee) == ["CYB-1.1", "CYB-1.2", "CYB-1.3", "CYB-1.4"]


def test_the_offices_read_with_a_token_give_the_same_activities_as_the_offices_read_by_the_rule(world):
    # An API call knows its user's offices from its token's row (``roles.remember_offices``) and writes them in.
    MembershipFactory(user=world.reporter, office=world.other_office)
    read_by_the_rule = codes(world.reporter)
    roles.remember_offices(world.reporter, [world.office.pk, world.other_office.pk])
    assert codes(world.reporter) == read_by_the_rule == ["CYB-1.1", "CYB-1.2", "CYB-1.3", "CYB-1.4"]

    no_office = UserFactory(username="no-office")
    roles.remember_offices(no_office, [])
    assert codes(no_office) == []
