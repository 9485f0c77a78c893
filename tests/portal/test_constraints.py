"""The database itself refuses duplicate organisations, offices and memberships."""

import pytest

from tests import factories
from tests.conftest import assert_refused

pytestmark = pytest.mark.django_db


def test_office_codes_are_unique():
    office = factories.OfficeFactory()
    assert_refused(lambda: factories.OfficeFactory(code=office.code))


def test_organization_codes_are_unique():
    organization = factories.OrganizationFactory()
    assert_refused(lambda: factories.OrganizationFactory(code=organization.code))


def test_user_belongs_to_an_office_once():
    membership = factories.MembershipFactory()
    assert_refused(lambda: factories.MembershipFactory(user=membership.user, office=membership.office))


def test_country_code_is_three_capital_letters():
    assert_refused(lambda: factories.CountryFactory(iso3="fr1"))
