"""The IATI 2.03 activity export: what goes out, with which values, valid against the official schema."""

import datetime
from decimal import Decimal

import pytest

from actionplan.iati import validation
from actionplan.models import Activity, Indicator, Measurement, PeriodTarget
from portal.models import Organization
from tests.factories import (
    ActivityFactory,
    CountryFactory,
    EvidenceFactory,
    IndicatorFactory,
    MeasurementFactory,
    OrganizationFactory,
    ProgressUpdateFactory,
)

from .conftest import ORGANISATION_ID, activity_of, parsed

API = "/api/v1/iati/activities.xml"
SIX_LANGUAGES = ["en", "fr", "es", "ar", "ru", "zh"]


def narratives(element) -> list[tuple[str, str]]:
    return [(narrative.get("{http://www.w3.org/XML/1998/namespace}lang"), narrative.text) for narrative in element]


@pytest.fixture
def described(published):
    """CYB-1.1 with something for every element: partners, countries, an indicator with a baseline, targets,
    a breakdown, an approved update, a draft and a submitted one, a public file and a private one."""
    world = published
    activity = world.activity
    activity.lead_organization = OrganizationFactory(code="UNODC", name="United Nations Office on Drugs and Crime")
    activity.description = "Ateliers sur la preuve électronique."
    activity.language = "fr"
    activity.actual_start = datetime.date(2019, 9, 1)
    activity.status = Activity.Status.ONGOING
    activity.save()
    activity.partner_organizations.add(
        OrganizationFactory(code="EU", name="European Union", kind=Organization.Kind.DONOR),
        OrganizationFactory(code="AFRIPOL", name="AFRIPOL", kind=Organization.Kind.PARTNER),
    )
    activity.beneficiary_countries.set(CountryFactory.create_batch(3))

    indicator = world.indicator
    indicator.baseline_value, indicator.baseline_date = Decimal(5), datetime.date(2019, 6, 30)
    indicator.target_value, indicator.target_date = Decimal(100), datetime.date(2020, 6, 30)
    indicator.dimensions = ["sex"]
    indicator.save()
    PeriodTarget.objects.create(indicator=indicator, period=world.locked_period, value=Decimal(25))
    second = world.second_indicator
    second.direction, second.measure = Indicator.Direction.DECREASE, Indicator.Measure.PERCENTAGE
    second.save()

    approved = ProgressUpdateFactory(
        activity=activity, period=world.locked_period, office=world.office, state="approved"
    )
    MeasurementFactory(update=approved, indicator=indicator, value=30)
    MeasurementFactory(update=approved, indicator=indicator, value=12, sex=Measurement.Sex.FEMALE)
    MeasurementFactory(update=approved, indicator=indicator, value=18, sex=Measurement.Sex.MALE)
    world.draft = ProgressUpdateFactory(activity=activity, period=world.period, office=world.office, state="draft")
    MeasurementFactory(update=world.draft, indicator=indicator, value=99)
    submitted = ProgressUpdateFactory(
        activity=activity, period=world.period, office=world.other_office, state="submitted"
    )
    MeasurementFactory(update=submitted, indicator=indicator, value=77)
    world.public_file = EvidenceFactory(
        update=approved, public=True, original_name="attendance.pdf", content_type="application/pdf"
    )
    EvidenceFactory(update=approved, original_name="private.pdf", sha256="1" * 64)
    return world


def exported(api, user, **query):
    response = api(user).get(API, query)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/xml"
    return parsed(response)


def test_the_demo_datas_export_passes_the_iati_schema_and_rules(api, db):
    from django.contrib.auth import get_user_model

    from portal.demo import seed_demo
    from portal.reference import load_reference_data

    load_reference_data()
    seed_demo(scale="S", seed=1, password="pw")
    officer = get_user_model().objects.get(username="officer")

    root = exported(api, officer)

    validation.schema().assertValid(root)
    assert len(root) == Activity.objects.publishable().count() > 100
    assert root.xpath("//result/indicator/period/actual/dimension"), "the demo's breakdowns are exported"


def test_an_activity_with_every_element_exports_each_with_its_value(api, described):
    root = exported(api, described.officer)
    validation.schema().assertValid(root)
    activity = activity_of(root, "CYB-1.1")

    assert activity.findtext("iati-identifier") == f"{ORGANISATION_ID}-CYB-1.1"
    reporting = activity.find("reporting-org")
    assert (reporting.get("ref"), reporting.get("type")) == (ORGANISATION_ID, "40")
    # A name the catalogue translates, in each of the six languages; text a user typed, in its own.
    assert [language for language, _text in narratives(reporting)] == SIX_LANGUAGES
    assert narratives(activity.find("title")) == [("fr", "Regional training")]
    assert narratives(activity.find("description[@type='1']")) == [("fr", "Ateliers sur la preuve électronique.")]
    assert narratives(activity.find("description[@type='2']")) == [("en", "Strengthen national capacity")]
    participants = [
        (org.get("role"), org.get("ref"), narratives(org)[0][1]) for org in activity.findall("participating-org")
    ]
    assert participants == [
        ("2", ORGANISATION_ID, "United Nations Office on Drugs and Crime"),
        ("4", None, "AFRIPOL"),
        ("1", None, "European Union"),
        ("4", None, described.office.organization.name),
    ]
    assert activity.find("activity-status").get("code") == "2"
    assert [(date.get("type"), date.get("iso-date")) for date in activity.findall("activity-date")] == [
        ("1", "2019-07-01"),
        ("2", "2019-09-01"),
        ("3", "2021-06-30"),
    ]
    countries = sorted(described.activity.beneficiary_countries.values_list("iso2", flat=True))
    assert [(country.get("code"), country.get("percentage")) for country in activity.findall("recipient-country")] == [
        (countries[0], "33.34"),
        (countries[1], "33.33"),
        (countries[2], "33.33"),
    ]
    assert [(s.get("vocabulary"), s.get("code"), s.get("percentage")) for s in activity.findall("sector")] == [
        ("1", "15130", "100")
    ]
    (link,) = activity.findall("document-link")
    assert link.get("url") == f"https://portal.example.org/evidence/{described.public_file.pk}/public/"
    assert link.get("format") == "application/pdf"
    assert narratives(link.find("title"))[0][1] == "attendance.pdf"
    assert link.find("category").get("code") == "A08"

    first, second = activity.findall("result")
    assert first.get("type") == "1" and narratives(first.find("title")) == [("en", "Officers trained")]
    indicator = first.find("indicator")
    assert (indicator.get("measure"), indicator.get("ascending")) == ("1", "true")
    baseline = indicator.find("baseline")
    assert (baseline.get("year"), baseline.get("iso-date"), baseline.get("value")) == ("2019", "2019-06-30", "5")
    periods = [
        (
            period.find("period-start").get("iso-date"),
            period.find("period-end").get("iso-date"),
            period.find("target").get("value"),
            [
                (actual.get("value"), *((d.get("name"), d.get("value")) for d in actual.findall("dimension")))
                for actual in period.findall("actual")
            ],
        )
        for period in indicator.findall("period")
    ]
    breakdown = [("30",), ("12", ("sex", "female")), ("18", ("sex", "male"))]
    assert periods == [
        # The period's own target; then the end target, in the period that holds its date.
        ("2020-01-01", "2020-03-31", "25", breakdown),
        # Cumulative: the approved figure stands until another is approved.
        ("2020-04-01", "2020-06-30", "100", breakdown),
    ]
    decreasing = second.find("indicator")
    assert (decreasing.get("measure"), decreasing.get("ascending")) == ("2", "false")


def test_draft_and_submitted_figures_are_left_out_and_approved_ones_exported(api, described):
    activity = activity_of(exported(api, described.officer), "CYB-1.1")

    values = activity.xpath("result/indicator/period/actual/@value")
    assert "30" in values
    assert "99" not in values and "77" not in values


def test_restricted_activities_are_never_exported(api, published):
    root = exported(api, published.committee)

    identifiers = root.xpath("iati-activity/iati-identifier/text()")
    assert identifiers == [f"{ORGANISATION_ID}-CYB-1.1", f"{ORGANISATION_ID}-CYB-1.3"]


def test_a_restricted_activity_asked_for_by_its_code_is_not_found(api, published):
    response = api(published.officer).get(API, {"activity": "CYB-1.2"})

    assert response.status_code == 404
    assert response.json()["code"] == "nothing_to_publish"


def test_a_private_file_and_one_of_an_update_not_approved_are_not_linked(api, described):
    EvidenceFactory(update=described.draft, public=True, original_name="draft.pdf", sha256="2" * 64)

    activity = activity_of(exported(api, described.officer), "CYB-1.1")

    assert activity.xpath("document-link/title/narrative/text()") == ["attendance.pdf"]


@pytest.mark.parametrize(
    "query, codes",
    [({"focus_area": "CYB"}, ["CYB-1.1", "CYB-1.3"]), ({"activity": "CYB-1.3"}, ["CYB-1.3"])],
)
def test_a_focus_area_or_an_activity_narrows_the_export(api, published, query, codes):
    root = exported(api, published.officer, **query)

    assert root.xpath("iati-activity/iati-identifier/text()") == [f"{ORGANISATION_ID}-{code}" for code in codes]


def test_an_unknown_focus_area_is_refused_naming_the_parameter(api, published):
    response = api(published.officer).get(API, {"focus_area": "NOPE"})

    assert response.status_code == 400
    assert response.json()["focus_area"] == ["Unknown focus area NOPE."]


def grow(world, count):
    """Activities of the world's objective, each with an indicator, an approved value broken down, and a public file."""
    for _ in range(count):
        activity = ActivityFactory(objective=world.objective, planned_start=datetime.date(2019, 7, 1))
        activity.implementing_offices.add(world.office)
        activity.partner_organizations.add(world.office.organization)
        activity.beneficiary_countries.add(world.office.country)
        indicator = IndicatorFactory(activity=activity, dimensions=["sex"], baseline_date=datetime.date(2019, 6, 30))
        PeriodTarget.objects.create(indicator=indicator, period=world.period, value=Decimal(50))
        update = ProgressUpdateFactory(activity=activity, period=world.period, office=world.office, state="approved")
        MeasurementFactory(update=update, indicator=indicator, value=10)
        MeasurementFactory(update=update, indicator=indicator, value=4, sex=Measurement.Sex.FEMALE)
        EvidenceFactory(update=update, public=True)


@pytest.fixture
def chunk_of_two(monkeypatch):
    """Activities read two at a time, so that a small plan crosses the chunk size."""
    from actionplan.iati import export

    monkeypatch.setattr(export, "CHUNK", 2)


def test_each_chunk_of_activities_takes_the_same_queries(api, published, chunk_of_two):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = api(published.officer)
    counts = []
    for chunks in (1, 2, 3):
        with CaptureQueriesContext(connection) as queries:
            assert len(parsed(client.get(API))) == 2 * chunks
        counts.append(len(queries))
        grow(published, 2)

    # The token with its user's groups (SQLite, without arrays, reads the groups apart); the focus of the
    # export: the plan, its activities' keys, its periods, the reporting organisation's name, the countries'
    # codes; last, the access-log insert.
    # Then per chunk of activities: the activities (with their objective, focus area, lead and last change),
    # their partners, offices (with their organisation), countries, indicators, the breakdowns, the public
    # files, the kept figures, the targets.
    fixed, per_chunk = (7 if connection.vendor == "postgresql" else 8), 9
    assert counts == [fixed + per_chunk, fixed + 2 * per_chunk, fixed + 3 * per_chunk]


def test_activities_read_in_chunks_are_each_written_once_in_order(api, published, chunk_of_two):
    grow(published, 3)

    identifiers = parsed(api(published.officer).get(API)).xpath("iati-activity/iati-identifier/text()")

    codes = Activity.objects.publishable().order_by("code").values_list("code", flat=True)
    assert identifiers == [f"{ORGANISATION_ID}-{code}" for code in codes]
    assert len(identifiers) == len(set(identifiers)) == 5


def test_an_activity_of_a_focus_area_without_dac_codes_is_refused_naming_iati_sectors(api, published, settings):
    settings.IATI_SECTORS = {"TER": ["15220"]}

    response = api(published.officer).get(API)

    assert response.status_code == 409
    problems = response.json()["errors"]
    assert [(problem["activity"], problem["rule"]) for problem in problems] == [
        (f"{ORGANISATION_ID}-CYB-1.1", "sector-present"),
        (f"{ORGANISATION_ID}-CYB-1.3", "sector-present"),
    ]
    assert "IATI_SECTORS" in problems[0]["message"]


@pytest.fixture
def opened(monkeypatch):
    """The temporary files the export opens."""
    import tempfile

    from actionplan.iati import export

    files, original = [], tempfile.TemporaryFile

    def temporary_file():
        files.append(original())
        return files[-1]

    monkeypatch.setattr(export.tempfile, "TemporaryFile", temporary_file)
    return files


def test_the_temporary_file_is_closed_when_building_the_export_fails(published, monkeypatch, opened):
    from actionplan.iati import export

    def broken(self, ids):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(export._Builder, "activities", broken)
    scope = export.scope_of(user=published.officer)

    with pytest.raises(RuntimeError):
        export.export(scope=scope, user=published.officer)

    assert [file.closed for file in opened] == [True]


def test_the_temporary_file_is_closed_when_the_export_is_refused(published, settings, opened):
    from actionplan.iati import export

    settings.IATI_ORGANISATION_ID = ""
    scope = export.scope_of(user=published.officer)

    with pytest.raises(validation.InvalidExport):
        export.export(scope=scope, user=published.officer)

    assert [file.closed for file in opened] == [True]


def _titled(world, text):
    Activity.objects.filter(pk=world.activity.pk).update(title=text)
    return "title/narrative"


def _lead_named(world, text):
    Organization.objects.filter(pk=world.activity.lead_organization_id).update(name=text)
    return "participating-org[@role='2']/narrative"


def _file_named(world, text):
    type(world.public_file).objects.filter(pk=world.public_file.pk).update(original_name=text)
    return "document-link/title/narrative"


@pytest.mark.parametrize("where", [_titled, _lead_named, _file_named], ids=["title", "organisation", "file-name"])
def test_characters_xml_cannot_carry_are_left_out_of_the_export(api, described, where):
    path = where(described, "Vertical\x0btab, form\x0cfeed,\x1f unit separator\ufffe")

    activity = activity_of(exported(api, described.officer), "CYB-1.1")

    assert activity.findtext(path) == "Verticaltab, formfeed, unit separator"


def periods_of(activity, result=1) -> list[tuple]:
    """Each period of the activity's result: its start, its target and its actual values."""
    return [
        (
            period.find("period-start").get("iso-date"),
            period.find("target").get("value"),
            period.xpath("actual[not(dimension)]/@value"),
        )
        for period in activity.findall(f"result[{result}]/indicator/period")
    ]


@pytest.mark.parametrize(
    "target_date, start",
    [(datetime.date(2030, 12, 31), "2020-04-01"), (datetime.date(2019, 12, 31), "2020-01-01"), (None, "2020-04-01")],
    ids=["after-every-period", "before-every-period", "undated"],
)
def test_an_end_target_outside_every_period_is_kept(api, published, target_date, start):
    Indicator.objects.filter(pk=published.other_indicator.pk).update(target_value=40, target_date=target_date)

    activity = activity_of(exported(api, published.officer), "CYB-1.3")

    assert periods_of(activity) == [(start, "40", [])]


def test_a_period_with_an_actual_and_no_target_of_its_own_is_measured_against_the_end_target(api, published):
    indicator = published.other_indicator
    Indicator.objects.filter(pk=indicator.pk).update(target_value=40, target_date=datetime.date(2020, 6, 30))
    approved = ProgressUpdateFactory(
        activity=published.other_activity, period=published.locked_period, office=published.other_office,
        state="approved",
    )  # fmt: skip
    MeasurementFactory(update=approved, indicator=indicator, value=12)

    activity = activity_of(exported(api, published.officer), "CYB-1.3")

    # Cumulative: the approved 12 stands in the next period too.
    assert periods_of(activity) == [("2020-01-01", "40", ["12"]), ("2020-04-01", "40", ["12"])]


def test_a_breakdown_by_country_names_it_by_the_code_of_recipient_country(api, described):
    from actionplan.models import Measurement

    indicator = described.indicator
    Indicator.objects.filter(pk=indicator.pk).update(dimensions=["country"])
    country = described.activity.beneficiary_countries.order_by("iso2").first()
    update = Measurement.objects.filter(indicator=indicator, update__state="approved").first().update
    MeasurementFactory(update=update, indicator=indicator, value=7, country=country)

    activity = activity_of(exported(api, described.officer), "CYB-1.1")

    assert set(activity.xpath("result/indicator/period/actual/dimension[@name='country']/@value")) == {country.iso2}
    assert country.iso2 in activity.xpath("recipient-country/@code")


@pytest.fixture
def dated(described):
    """Every time the activity's record is made of, set to the same moment, before the one a test moves on."""
    from actionplan.models import Evidence, PeriodTarget, ProgressUpdate

    world, then = described, datetime.datetime(2020, 5, 1, tzinfo=datetime.UTC)
    Activity.objects.filter(pk=world.activity.pk).update(updated_at=then)
    Indicator.objects.filter(activity=world.activity).update(updated_at=then)
    PeriodTarget.objects.filter(indicator__activity=world.activity).update(updated_at=then)
    ProgressUpdate.objects.filter(activity=world.activity, state="approved").update(reviewed_at=then)
    Evidence.objects.filter(update__activity=world.activity).update(updated_at=then)
    world.later = datetime.datetime(2020, 7, 1, 12, tzinfo=datetime.UTC)
    return world


def last_updated(api, world) -> str:
    return activity_of(exported(api, world.officer), "CYB-1.1").get("last-updated-datetime")


@pytest.mark.parametrize("changed", ["activity", "indicator", "period-target", "review", "public-file", "private-file"])
def test_the_record_was_last_updated_at_the_latest_change_of_the_activity_its_figures_or_its_files(api, dated, changed):
    from actionplan.models import Evidence, PeriodTarget, ProgressUpdate

    later, activity = dated.later, dated.activity
    {
        "activity": lambda: Activity.objects.filter(pk=activity.pk).update(updated_at=later),
        "indicator": lambda: Indicator.objects.filter(pk=dated.second_indicator.pk).update(updated_at=later),
        "period-target": lambda: PeriodTarget.objects.filter(indicator=dated.indicator).update(updated_at=later),
        "review": lambda: ProgressUpdate.objects.filter(activity=activity, state="approved").update(reviewed_at=later),
        "public-file": lambda: Evidence.objects.filter(pk=dated.public_file.pk).update(updated_at=later),
        # Made private again: its document-link is gone, a change of the record.
        "private-file": lambda: Evidence.objects.filter(public=False).update(updated_at=later),
    }[changed]()

    assert last_updated(api, dated) == later.isoformat()


def test_a_review_that_returned_an_update_does_not_change_the_record(api, dated):
    from actionplan.models import ProgressUpdate

    ProgressUpdate.objects.filter(activity=dated.activity, state="submitted").update(
        state="returned", reviewed_at=dated.later
    )

    assert last_updated(api, dated) == "2020-05-01T00:00:00+00:00"


def test_an_activity_without_a_beneficiary_country_is_refused_naming_the_rule(api, published):
    published.other_activity.beneficiary_countries.clear()

    response = api(published.officer).get(API)

    assert response.status_code == 409
    assert [(problem["activity"], problem["rule"]) for problem in response.json()["errors"]] == [
        (f"{ORGANISATION_ID}-CYB-1.3", "recipient-present")
    ]


def test_a_document_link_on_the_portals_loopback_address_is_refused_naming_the_rule(api, described, settings):
    settings.PORTAL_URL = "http://127.0.0.1:8000"

    response = api(described.officer).get(API)

    assert response.status_code == 409
    assert [(problem["element"], problem["rule"]) for problem in response.json()["errors"]] == [
        ("document-link", "document-link-url")
    ]
