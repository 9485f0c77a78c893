"""The IATI rules an activity must keep that the 2.03 schema cannot express.

The schema says which elements and attributes exist; it cannot say that a baseline without a value
means nothing, that a period ends after it starts, or that shares add up to 100. Exports have broken
silently on exactly these. Each rule reads the activity as written, whatever built it; its messages
are in English, beside the schema's own.
"""

import datetime
import ipaddress
from collections import defaultdict
from collections.abc import Callable, Iterator
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

from lxml import etree

from .codes import ACTUAL_END, ACTUAL_START, DAC_5_DIGIT, HUNDRED, PLANNED_END, PLANNED_START
from .validation import Problem, identifier_of, path_in_activity

Rule = Callable[[etree._Element, datetime.date], Iterator[tuple[etree._Element, str]]]
RULES: dict[str, Rule] = {}


def rule(name: str):
    def register(check: Rule) -> Rule:
        RULES[name] = check
        return check

    return register


def _date(element: etree._Element | None) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(element.get("iso-date", "")) if element is not None else None
    except ValueError:
        return None  # the schema reports a malformed date


def _dates(activity) -> dict[str, datetime.date]:
    return {
        element.get("type"): day for element in activity.findall("activity-date") if (day := _date(element)) is not None
    }


def _shares_problem(elements: list[etree._Element]) -> str | None:
    """What is wrong with the percentages of elements that share something out (countries, sectors), if anything."""
    if not elements:
        return None
    given = [element.get("percentage") for element in elements]
    if len(elements) == 1 and given[0] is None:
        return None  # one alone takes the whole
    if None in given:
        return "several are given, and not each with a percentage"
    try:
        total = sum(Decimal(value) for value in given)
    except InvalidOperation:
        return None  # the schema reports a percentage that is not a number
    if total != HUNDRED:
        return f"their percentages add up to {total}, not 100"
    return None


def _is_public_https(url: str) -> bool:
    """Tell whether ``url`` is absolute, https, and names a host other than this machine (localhost, loopback)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return False  # a malformed address: an invalid port or bracket
    if parts.scheme != "https" or not host or host == "localhost" or host.endswith(".localhost"):
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return True  # a name, not an address


@rule("reporting-org-ref")
def _reporting_org_has_a_ref(activity, today):
    reporting = activity.find("reporting-org")
    if reporting is not None and not reporting.get("ref", "").strip():
        yield reporting, "has no ref: set IATI_ORGANISATION_ID to the reporting organisation's IATI identifier"


@rule("identifier-prefix")
def _identifier_begins_with_the_reporting_org(activity, today):
    reporting = activity.find("reporting-org")
    ref = reporting.get("ref", "").strip() if reporting is not None else ""
    identifier = identifier_of(activity)
    if ref and not identifier.startswith(f"{ref}-"):
        message = f"{identifier!r} does not begin with the reporting-org ref {ref!r} and a hyphen"
        yield activity.find("iati-identifier"), message


@rule("start-date")
def _activity_has_a_start(activity, today):
    if not {PLANNED_START, ACTUAL_START} & _dates(activity).keys():
        yield activity, "has neither a planned nor an actual start date (activity-date of type 1 or 2)"


@rule("dates-in-order")
def _activity_ends_after_it_starts(activity, today):
    dates = _dates(activity)
    for start, end, kind in ((PLANNED_START, PLANNED_END, "planned"), (ACTUAL_START, ACTUAL_END, "actual")):
        if start in dates and end in dates and dates[end] < dates[start]:
            yield activity, f"its {kind} end {dates[end]} is before its {kind} start {dates[start]}"


@rule("actual-not-future")
def _actuals_are_not_in_the_future(activity, today):
    for element in activity.findall("activity-date"):
        day = _date(element)
        if element.get("type") in (ACTUAL_START, ACTUAL_END) and day is not None and day > today:
            yield element, f"an actual date, {day}, is in the future"
    for period in activity.iterfind("result/indicator/period"):
        start = _date(period.find("period-start"))
        if period.find("actual") is not None and start is not None and start > today:
            yield period, f"reports an actual value for a period that starts in the future ({start})"


@rule("recipient-present")
def _activity_has_a_recipient(activity, today):
    # IATI's rules ask for recipient-country or recipient-region on the activity (or on each transaction, which
    # the export writes none of).
    if activity.find("recipient-country") is None and activity.find("recipient-region") is None:
        yield activity, "has no recipient-country nor recipient-region: give the activity its beneficiary countries"


@rule("recipient-percentages")
def _recipients_add_up(activity, today):
    recipients = activity.findall("recipient-country") + activity.findall("recipient-region")
    problem = _shares_problem(recipients)
    if problem:
        yield recipients[0], f"recipient countries and regions: {problem}"


@rule("sector-present")
def _activity_has_a_sector(activity, today):
    if activity.find("sector") is None:
        yield activity, "has no sector: give its focus area DAC purpose codes in IATI_SECTORS"


@rule("sector-percentages")
def _sectors_add_up(activity, today):
    by_vocabulary = defaultdict(list)
    for sector in activity.findall("sector"):
        by_vocabulary[sector.get("vocabulary", DAC_5_DIGIT)].append(sector)
    for vocabulary, sectors in sorted(by_vocabulary.items()):
        problem = _shares_problem(sectors)
        if problem:
            yield sectors[0], f"sectors of vocabulary {vocabulary}: {problem}"


@rule("document-link-url")
def _document_links_are_public(activity, today):
    for link in activity.findall("document-link"):
        url = link.get("url", "")
        if not _is_public_https(url):
            message = f"its url {url!r} is not an absolute https address the public can reach: set PORTAL_URL"
            yield link, f"{message} to the portal's address as the public reaches it"


@rule("result-indicator")
def _results_have_an_indicator(activity, today):
    for result in activity.findall("result"):
        if result.find("indicator") is None:
            yield result, "has no indicator"


@rule("baseline-value")
def _baselines_have_a_value(activity, today):
    for baseline in activity.iterfind("result/indicator/baseline"):
        if not baseline.get("value", "").strip():
            yield baseline, "has no value"


@rule("period-order")
def _periods_start_before_they_end(activity, today):
    for period in activity.iterfind("result/indicator/period"):
        start, end = _date(period.find("period-start")), _date(period.find("period-end"))
        if start is not None and end is not None and not start < end:
            yield period, f"starts on {start}, which is not before its end, {end}"


class Checker:
    """Apply the rules to the activities of one file, one activity at a time (the file is written as it goes),
    and, across them, that no two share an iati-identifier."""

    def __init__(self, *, today: datetime.date):
        self.today = today
        self.identifiers: set[str] = set()

    def problems(self, activity: etree._Element) -> list[Problem]:
        identifier = identifier_of(activity)
        found = [
            Problem(identifier, path_in_activity(activity.getroottree().getpath(element)), name, message)
            for name, check in RULES.items()
            for element, message in check(activity, self.today)
        ]
        if identifier in self.identifiers:
            found.append(Problem(identifier, "iati-identifier", "identifier-unique", "another activity has it too"))
        self.identifiers.add(identifier)
        return found
