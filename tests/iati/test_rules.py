"""The IATI rules the schema cannot express: each broken fixture is refused by its own rule, and by no other."""

import datetime

import pytest
from lxml import etree

from actionplan.iati import rules, validation

TODAY = datetime.date(2026, 6, 1)

VALID = b"""
<iati-activity xml:lang="en" last-updated-datetime="2026-01-01T00:00:00+00:00">
  <iati-identifier>XI-IATI-JAP-CYB-1.1</iati-identifier>
  <reporting-org ref="XI-IATI-JAP" type="40"><narrative>UNODC</narrative></reporting-org>
  <title><narrative>Regional training</narrative></title>
  <description type="1"><narrative>Workshops on electronic evidence.</narrative></description>
  <participating-org role="2"><narrative>UNODC</narrative></participating-org>
  <activity-status code="2"/>
  <activity-date type="1" iso-date="2020-01-01"/>
  <activity-date type="2" iso-date="2020-02-01"/>
  <activity-date type="3" iso-date="2021-12-31"/>
  <recipient-country code="KE" percentage="60"/>
  <recipient-country code="TZ" percentage="40"/>
  <sector vocabulary="1" code="15130" percentage="100"/>
  <document-link url="https://portal.example.org/evidence/1/public/" format="text/csv">
    <title><narrative>attendance.csv</narrative></title>
    <category code="A08"/>
  </document-link>
  <result type="1">
    <title><narrative>Officers trained</narrative></title>
    <indicator measure="1" ascending="true">
      <title><narrative>Officers trained</narrative></title>
      <baseline year="2019" value="0"/>
      <period>
        <period-start iso-date="2020-01-01"/><period-end iso-date="2020-03-31"/>
        <target value="10"/><actual value="12"/>
      </period>
    </indicator>
  </result>
</iati-activity>
"""


def activity() -> etree._Element:
    return etree.fromstring(VALID, etree.XMLParser(resolve_entities=False, no_network=True))


def _set(path, attribute, value):
    def change(element):
        element.find(path).set(attribute, value)

    return change


def _remove(*paths):
    def change(element):
        for path in paths:
            for found in element.findall(path):
                found.getparent().remove(found)

    return change


def _text(path, text):
    def change(element):
        element.find(path).text = text

    return change


BROKEN = {
    "reporting-org-ref": _set("reporting-org", "ref", ""),
    "identifier-prefix": _text("iati-identifier", "CYB-1.1"),
    "start-date": _remove("activity-date[@type='1']", "activity-date[@type='2']"),
    "dates-in-order": _set("activity-date[@type='3']", "iso-date", "2019-12-31"),
    "actual-not-future": _set("activity-date[@type='2']", "iso-date", "2026-06-02"),
    "recipient-present": _remove("recipient-country"),
    "recipient-percentages": _set("recipient-country[2]", "percentage", "30"),
    "document-link-url": _set("document-link", "url", "http://127.0.0.1:8000/evidence/1/public/"),
    "sector-present": _remove("sector"),
    "sector-percentages": _set("sector", "percentage", "90"),
    "result-indicator": _remove("result/indicator"),
    "baseline-value": _set("result/indicator/baseline", "value", ""),
    "period-order": _set("result/indicator/period/period-end", "iso-date", "2020-01-01"),
}


def test_the_valid_fixture_passes_the_schema_and_every_rule():
    assert validation.schema_problems(activity(), validation.schema()) == []
    assert rules.Checker(today=TODAY).problems(activity()) == []


def test_every_rule_has_a_broken_fixture():
    assert set(BROKEN) == set(rules.RULES)


@pytest.mark.parametrize("rule", sorted(BROKEN))
def test_a_broken_fixture_is_refused_by_its_rule_alone(rule):
    broken = activity()
    BROKEN[rule](broken)

    problems = rules.Checker(today=TODAY).problems(broken)

    assert [problem.rule for problem in problems] == [rule]
    assert problems[0].activity == broken.findtext("iati-identifier")


@pytest.mark.parametrize("rule", sorted(set(BROKEN) - {"result-indicator"}))
def test_the_schema_lets_through_what_only_the_rule_refuses(rule):
    broken = activity()
    BROKEN[rule](broken)

    assert validation.schema_problems(broken, validation.schema()) == []


def test_an_actual_value_of_a_period_yet_to_start_is_refused():
    broken = activity()
    broken.find("result/indicator/period/period-start").set("iso-date", "2026-07-01")
    broken.find("result/indicator/period/period-end").set("iso-date", "2026-09-30")

    problems = rules.Checker(today=TODAY).problems(broken)

    assert [(problem.rule, problem.element) for problem in problems] == [
        ("actual-not-future", "result/indicator/period")
    ]


def test_two_activities_of_one_file_with_the_same_identifier_are_refused():
    checker = rules.Checker(today=TODAY)

    assert checker.problems(activity()) == []
    assert [problem.rule for problem in checker.problems(activity())] == ["identifier-unique"]


def test_a_problem_names_the_activity_the_element_and_the_rule():
    broken = activity()
    BROKEN["baseline-value"](broken)

    (problem,) = rules.Checker(today=TODAY).problems(broken)

    assert str(problem) == "XI-IATI-JAP-CYB-1.1 result/indicator/baseline: has no value"


@pytest.mark.parametrize(
    "url",
    [
        "http://portal.example.org/evidence/1/public/",
        "https://localhost:8000/evidence/1/public/",
        "https://127.0.0.1/evidence/1/public/",
        "https://[::1]/evidence/1/public/",
        "/evidence/1/public/",
    ],
    ids=["http", "localhost", "loopback", "loopback-ipv6", "relative"],
)
def test_a_document_link_the_public_cannot_follow_is_refused(url):
    broken = activity()
    broken.find("document-link").set("url", url)

    problems = rules.Checker(today=TODAY).problems(broken)

    assert [(problem.rule, problem.element) for problem in problems] == [("document-link-url", "document-link")]


def test_an_activity_with_a_recipient_region_alone_needs_no_recipient_country():
    broken = activity()
    _remove("recipient-country")(broken)
    broken.find("sector").addprevious(etree.Element("recipient-region", code="298", percentage="100"))

    assert rules.Checker(today=TODAY).problems(broken) == []
