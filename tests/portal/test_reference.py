"""Reference data: what every installation holds, loaded as often as one likes."""

import datetime

import pytest
from django.apps import apps
from django.core.management import call_command

from actionplan.models import ActionPlan, FocusArea
from portal.models import Country, Office
from portal.reference import load_reference_data
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
