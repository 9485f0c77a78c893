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


def test_each_reader_gets_the_choices_of_the_activities_it_may_see_when_another_read_them_first(
    as_user, world, restricted_elsewhere
):
    # The officer's choices, which name the restricted activity's values, are kept first.
    as_user(world.officer).get(reverse("activity-list"))

    page = as_user(world.reporter).get(reverse("activity-list")).content.decode()

    assert [marker for marker in MARKERS if marker in page] == []


def test_kept_choices_are_read_without_a_query(as_user, world, django_assert_num_queries):
    from actionplan import register_choices

    register_choices.for_user(world.officer)

    with django_assert_num_queries(0):
        register_choices.for_user(world.officer)


@pytest.mark.parametrize("change", ["tag", "country", "office", "organization", "region"])
def test_a_change_to_what_the_choices_name_is_offered_on_the_next_view(as_user, world, change):
    from actionplan.models import Tag

    client = as_user(world.officer)
    client.get(reverse("activity-list"))
    activity = world.activity
    if change == "tag":
        activity.tags.add(Tag.objects.create(name="new-tag-q8"))
        expected = 'value="new-tag-q8"'
    elif change == "country":
        activity.beneficiary_countries.add(CountryFactory(iso3="QQQ", name="Newland Q8"))
        expected = ">Newland Q8<"
    elif change == "office":
        activity.implementing_offices.add(OfficeFactory(code="NEW-OFFICE-Q8"))
        expected = 'value="NEW-OFFICE-Q8"'
    elif change == "organization":
        organization = activity.lead_organization
        organization.code = "RENAMED-Q8"
        organization.save()
        expected = 'value="RENAMED-Q8"'
    else:
        country = world.office.country
        country.region = "New Region Q8"
        country.save()
        expected = 'value="New Region Q8"'

    assert expected in client.get(reverse("activity-list")).content.decode()


def test_a_reporter_joining_an_office_is_offered_its_activities_values_on_the_next_view(as_user, world):
    from portal.models import Membership

    client = as_user(world.reporter)
    assert f'value="{world.other_office.code}"' not in client.get(reverse("activity-list")).content.decode()

    Membership.objects.create(user=world.reporter, office=world.other_office)

    assert f'value="{world.other_office.code}"' in client.get(reverse("activity-list")).content.decode()


def test_each_language_has_its_own_choices(as_user, world):
    from portal.models import Country

    world.activity.beneficiary_countries.add(Country.objects.create(iso3="DEU", iso2="DE", name="Germany"))
    client = as_user(world.officer)

    english = client.get(reverse("activity-list"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    french = client.get(reverse("activity-list"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    assert '<option value="DEU">Germany</option>' in english
    assert '<option value="DEU">Allemagne</option>' in french
