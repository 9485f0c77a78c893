"""Reference data: what every installation holds, loaded as often as one likes."""

import datetime
import json
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command

from actionplan.models import ActionPlan, FocusArea
from portal.models import Country, Office
from portal.reference import country_rows, load_reference_data
from steering.models import Meeting

pytestmark = pytest.mark.django_db


def row_counts():
    return {model._meta.label: model.objects.count() for model in apps.get_models()}


def test_loading_twice_adds_and_changes_nothing():
    load_reference_data()
    counts = row_counts()
    stamps = list(Country.objects.order_by("iso3").values_list("updated_at", flat=True))

    second = load_reference_data()

    assert (second.created, second.updated) == (0, 0)
    assert row_counts() == counts
    assert list(Country.objects.order_by("iso3").values_list("updated_at", flat=True)) == stamps


def test_loading_restores_a_changed_reference_row():
    load_reference_data()
    FocusArea.objects.filter(code="CYB").update(name="Cyber")

    result = load_reference_data()

    assert result.updated == 1
    assert FocusArea.objects.get(code="CYB").name == "Cybercrime"


def test_countries_carry_their_un_m49_region():
    load_reference_data()
    assert Country.objects.count() >= 249
    assert Country.objects.get(iso3="AUT").region == "Western Europe"
    assert Country.objects.get(iso3="AFG").region == "Southern Asia"
    assert Country.objects.get(iso3="NAM").region == "Southern Africa"
    assert not Country.objects.filter(region="").exists()


def test_countries_carry_the_code_of_their_region():
    load_reference_data()
    assert Country.objects.get(iso3="AUT").region_code == "155"
    assert Country.objects.get(iso3="KEN").region_code == "014"
    assert Country.objects.get(iso3="ATA").region_code == "010"
    assert not Country.objects.filter(region_code="").exists()


# What country_converter 1.3.2 gave, recorded before it went (by a script in commit 11adf3f).
COUNTRY_CONVERTER = Path(__file__).parent / "data" / "country_converter_regions.json"

# Where the portal departs from country_converter on purpose: M49 is the reference, and
# country_converter's continent column is not M49's region level for a few territories.
DEPARTURES = {
    "NRU": {"region": "Micronesia"},  # M49 puts Nauru in Micronesia; country_converter, in Polynesia
    "BVT": {"continent": "Americas"},  # in South America by M49; country_converter: Antarctica
    "SGS": {"continent": "Americas"},  # in South America by M49; country_converter: Antarctica
    "HMD": {"continent": "Oceania"},  # in Australia and New Zealand by M49; country_converter: Antarctica
    "CXR": {"continent": "Oceania"},  # in Australia and New Zealand by M49; country_converter: Asia
    "CCK": {"continent": "Oceania"},  # in Australia and New Zealand by M49; country_converter: Asia
}


def test_countries_have_the_regions_country_converter_gave_them_but_for_the_known_departures():
    expected = {}
    for iso3, row in json.loads(COUNTRY_CONVERTER.read_text(encoding="utf-8"))["countries"].items():
        row = {**row, **DEPARTURES.get(iso3, {})}
        # M49 and CLDR name region 019 the Americas; country_converter's continent said "America".
        expected[iso3] = {**row, "continent": "Americas" if row["continent"] == "America" else row["continent"]}
    found = {row["iso3"]: {key: row[key] for key in ("region", "continent", "m49")} for row in country_rows()}

    differences = [
        f"{iso3}: country_converter {expected.get(iso3)}, CLDR {found.get(iso3)}"
        for iso3 in sorted(expected.keys() | found.keys())
        if expected.get(iso3) != found.get(iso3)
    ]
    assert not differences, "\n".join(differences)


def test_the_2018_plan_has_its_six_focus_areas_in_order():
    load_reference_data()
    plan = ActionPlan.objects.get(code="JAP-2018")
    assert list(plan.focus_areas.values_list("name", flat=True)) == [
        "Terrorism",
        "Illicit trafficking and organized crime",
        "Cybercrime",
        "Maritime and border security",
        "Forensic and criminal justice capacity",
        "Institutional capacity",
    ]
    assert "foreign terrorist fighters" in plan.focus_areas.get(code="TER").description
    assert "SARTO" in plan.focus_areas.get(code="TOC").description


def test_parties_and_headquarters_are_loaded():
    load_reference_data()
    plan = ActionPlan.objects.get(code="JAP-2018")
    assert set(plan.agreement.parties.values_list("code", flat=True)) == {"UNODC", "INTERPOL"}
    assert Office.objects.get(code="UNODC-HQ").city == "Vienna"
    assert Office.objects.get(code="INTERPOL-GS").city == "Lyon"


def test_committee_met_in_lyon_on_6_june_2018():
    load_reference_data()
    meeting = Meeting.objects.get(date=datetime.date(2018, 6, 6))
    assert "Lyon" in meeting.place
    assert meeting.committee.plan.code == "JAP-2018"


def test_command_reports_what_it_did(capsys):
    call_command("load_reference")
    assert "created" in capsys.readouterr().out


def test_periodic_jobs_are_scheduled_once_and_admin_changes_are_kept():
    from django_celery_beat.models import PeriodicTask

    load_reference_data()
    PeriodicTask.objects.filter(task="portal.tasks.purge_idempotency_keys").update(enabled=False)
    load_reference_data()
    job = PeriodicTask.objects.get(task="portal.tasks.purge_idempotency_keys")
    assert not job.enabled


def test_seed_demo_on_an_empty_database_loads_the_reference_data_first(capsys):
    call_command("seed_demo", "--scale", "XS")
    assert "loading it first" in capsys.readouterr().out
    assert FocusArea.objects.count() == 6
    assert Meeting.objects.exists()
