"""The activity register's filter choices name only what the activities the user may see are about."""

import pytest
from django.urls import reverse

from tests.factories import CountryFactory, OfficeFactory, OrganizationFactory

# Each names a value that only the other office's restricted activity has.
MARKERS = ["Marker Country Q7", "MARKER-ORG", "Marker Region Q7", "MARKER-OFFICE", "marker-tag-q7"]


@pytest.fixture
def restricted_elsewhere(world):
    """The other office's restricted activity, in a country, region, organisation, office and tag of its own."""
    from actionplan.models import Tag

    activity = world.other_restricted
    activity.lead_organization = OrganizationFactory(code="MARKER-ORG")
    activity.save()
    activity.beneficiary_countries.add(CountryFactory(name="Marker Country Q7"))
    office = OfficeFactory(code="MARKER-OFFICE", country=CountryFactory(region="Marker Region Q7"))
    activity.implementing_offices.add(office)
    activity.tags.add(Tag.objects.create(name="marker-tag-q7"))
    return activity


def test_register_choices_name_only_the_values_of_activities_the_user_may_see(
    as_user, world, restricted_elsewhere, django_assert_max_num_queries
):
    client = as_user(world.reporter)
    # session, user, groups, unread notifications; the last period (where activities stand now); the
    # activities' count, their page and its three prefetches (offices, countries, tags); the choices:
    # focus areas, periods, offices, organisations, regions, countries, tags; the access-log insert of
    # the restricted row shown (CYB-1.2). As many as the officer's (tests/actionplan/test_pages.py).
    with django_assert_max_num_queries(18):
        page = client.get(reverse("activity-list")).content.decode()

    assert [marker for marker in MARKERS if marker in page] == []
    # The reporter's own activities' values are still offered, and the officer, who sees the
    # restricted activity, is offered its values.
    assert f'value="{world.activity.lead_organization.code}"' in page
    assert f'value="{world.office.code}"' in page
    page = as_user(world.officer).get(reverse("activity-list")).content.decode()
    assert [marker for marker in MARKERS if marker in page] == MARKERS
