"""A progress report "as endorsed at version X": asked for through the page, the API or the service, compiled
against that version's targets, and named so on its cover."""

import io
from decimal import Decimal

import openpyxl
import pypdf
import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from actionplan import change_requests, versions
from portal.errors import InvalidInput
from portal.models import Organization, Profile, Role
from steering.models import ProgressReport
from steering.reports import services
from tests import factories


def _officer_of(user, code):
    organisation = Organization.objects.get_or_create(code=code, defaults={"name": code})[0]
    Profile.objects.update_or_create(user=user, defaults={"organization": organisation})
    user.groups.add(Group.objects.get_or_create(name=Role.PROGRAMME_OFFICER.value)[0])
    return user


@pytest.fixture
def changed(reported):
    """The reported world at version 1.0, then CYB-1.1-I1's end target changed from 100 to 150 as version 1.1."""
    world = reported
    world.version = versions.record_version(plan=world.plan, endorsement="Steering committee, Lyon")
    _officer_of(world.officer, "UNODC")
    interpol = _officer_of(factories.UserFactory(username="officer.lyon"), "INTERPOL")
    change = change_requests.propose_change(
        by=world.officer, item=world.indicator, values={"target_value": Decimal(150)}, reason="Two more countries."
    )
    world.latest = change_requests.record_approval(change=change, by=interpol)
    assert world.latest.number == "1.1"
    return world


def target_of(snapshot, code="CYB-1.1-I1"):
    area = next(row for row in snapshot["focus_areas"] if row["code"] == "CYB")
    return next(row["target"] for row in area["indicators"] if row["code"] == code)


def test_a_report_at_version_1_0_after_a_change_applied_as_1_1_holds_1_0s_targets(changed, media):
    report, created = services.request_report(
        by=changed.officer, plan=changed.plan, period=changed.period, version=changed.version
    )
    assert created and services.compile_report(report_id=report.pk) == "succeeded"
    report = ProgressReport.objects.get(pk=report.pk)

    assert target_of(report.snapshot) == 100.0 and report.snapshot["version"]["number"] == "1.0"
    with report.xlsx.open("rb") as handle:
        book = openpyxl.load_workbook(io.BytesIO(handle.read()))
    cover = {row[0]: row[1] for row in book["Cover"].iter_rows(min_row=2, values_only=True)}
    assert cover["Plan version"] == "as endorsed at version 1.0"
    header, *rows = book["Indicators"].iter_rows(values_only=True)
    [indicator] = [
        dict(zip(header, row, strict=True)) for row in rows if row[header.index("Indicator")] == "CYB-1.1-I1"
    ]
    assert indicator["End target"] == 100
    with report.pdf.open("rb") as handle:
        first_page = pypdf.PdfReader(io.BytesIO(handle.read())).pages[0].extract_text()
    assert "as endorsed at version 1.0" in first_page


def test_a_report_of_the_current_plan_holds_todays_targets_and_names_no_version(changed):
    snapshot, _hash = services.take_snapshot(report=ProgressReport(plan=changed.plan, period=changed.period))
    assert target_of(snapshot) == 150.0 and "version" not in snapshot


def test_two_identical_requests_at_different_versions_are_two_reports(changed):
    ask = {"by": changed.officer, "plan": changed.plan, "period": changed.period}
    current, created_current = services.request_report(**ask)
    at_1_0, created_at_1_0 = services.request_report(**ask, version=changed.version)
    again, created_again = services.request_report(**ask, version=changed.version)
    assert (created_current, created_at_1_0, created_again) == (True, True, False)
    assert current.pk != at_1_0.pk and again.pk == at_1_0.pk
    assert (current.version, at_1_0.version) == (None, changed.version)


def test_a_version_of_another_plan_is_refused_naming_the_field(changed):
    other = versions.record_version(plan=factories.ActionPlanFactory(code="JAP-OTHER"), endorsement="Elsewhere")
    with pytest.raises(InvalidInput) as refused:
        services.request_report(by=changed.officer, plan=changed.plan, period=changed.period, version=other)
    assert refused.value.field == "version" and not ProgressReport.objects.exists()


def test_the_report_page_asks_for_a_report_at_a_version(client, changed):
    client.force_login(changed.officer)
    page = client.get(reverse("report-list")).content.decode()
    assert "As endorsed at version 1.0" in page and "As endorsed at version 1.1" in page
    response = client.post(reverse("report-list"), {"period": changed.period.pk, "version": changed.version.pk})
    report = ProgressReport.objects.get()
    assert response.status_code == 302 and report.version == changed.version
    detail = client.get(reverse("report-detail", args=[report.pk])).content.decode()
    assert "As endorsed at version" in detail and "1.0" in detail


def test_the_api_asks_for_a_report_at_a_version(api, changed):
    response = api(changed.officer).post("/api/v1/reports/", {"period": "2020-Q2", "version": "1.0"}, format="json")
    assert response.status_code == 201 and response.json()["version"] == "1.0"
    assert ProgressReport.objects.get().version == changed.version


@pytest.mark.parametrize("number", ["9.9", "one"])
def test_the_api_refuses_an_unknown_version_naming_the_field(api, changed, number):
    response = api(changed.officer).post("/api/v1/reports/", {"period": "2020-Q2", "version": number}, format="json")
    assert response.status_code == 400 and "version" in response.json()
    assert f"Version {number}" in str(response.json()["version"])
    assert not ProgressReport.objects.exists()
