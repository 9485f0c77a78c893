import datetime

import pytest
from lxml import etree

ORGANISATION_ID = "XI-IATI-JAP"


@pytest.fixture(autouse=True)
def iati_settings(settings):
    settings.IATI_ORGANISATION_ID = ORGANISATION_ID
    settings.PORTAL_URL = "https://portal.example.org"
    return settings


@pytest.fixture
def published(world):
    """The world with what IATI asks of each activity it may publish: a start (and an end) date, and a recipient
    country (its office's)."""
    for activity, office in ((world.activity, world.office), (world.other_activity, world.other_office)):
        activity.planned_start, activity.planned_end = datetime.date(2019, 7, 1), datetime.date(2021, 6, 30)
        activity.save()
        activity.beneficiary_countries.add(office.country)
    return world


def parsed(response) -> etree._Element:
    """The root of an exported file, read with entities and the network left alone."""
    content = b"".join(response.streaming_content)
    return etree.fromstring(content, etree.XMLParser(resolve_entities=False, no_network=True))


def activity_of(root: etree._Element, code: str) -> etree._Element:
    (activity,) = root.xpath("iati-activity[iati-identifier=$identifier]", identifier=f"{ORGANISATION_ID}-{code}")
    return activity
