"""Which organisation a user works for: the profile's, else the one of the user's offices."""

import pytest
from django.contrib.auth.models import AnonymousUser

from portal.models import Profile
from portal.organisations import organisation_of
from tests import factories

pytestmark = pytest.mark.django_db


def test_a_user_works_for_the_organisation_of_the_offices():
    office = factories.OfficeFactory()
    membership = factories.MembershipFactory(office=office)
    factories.MembershipFactory(user=membership.user, office=factories.OfficeFactory(organization=office.organization))
    assert organisation_of(membership.user) == office.organization


def test_a_user_of_offices_of_two_organisations_has_none_until_one_is_chosen():
    membership = factories.MembershipFactory()
    factories.MembershipFactory(user=membership.user)
    assert organisation_of(membership.user) is None


def test_the_organisation_on_the_profile_stands_over_the_offices():
    membership = factories.MembershipFactory()
    chosen = factories.OrganizationFactory()
    Profile.objects.create(user=membership.user, organization=chosen)
    assert organisation_of(membership.user) == chosen


def test_a_user_without_office_or_profile_has_no_organisation():
    assert organisation_of(factories.UserFactory()) is None


def test_an_anonymous_visitor_has_no_organisation():
    assert organisation_of(AnonymousUser()) is None
