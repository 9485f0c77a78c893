"""Programme officers keep the plan in the browser; a concurrent edit never goes unnoticed."""

import pytest
from django.urls import reverse

from actionplan.models import Activity, ReportingPeriod


@pytest.fixture
def officer(client, world):
    client.force_login(world.officer)
    return client


def activity_data(world, **extra):
    data = {
        "objective": world.objective.pk,
        "code": "CYB-1.9",
        "title": "Regional workshop on ransomware",
        "kind": "training",
        "status": "planned",
        "sensitivity": "internal",
        "lead_organization": world.office.organization.pk,
        "implementing_offices": [world.office.pk],
        "budget_currency": "USD",
    }
    return {**data, **extra}


def test_officer_creates_an_activity(officer, world):
    response = officer.post(reverse("plan-item-new", args=["activity"]), activity_data(world))
    assert response.status_code == 302 and response.url == reverse("activity-detail", args=["CYB-1.9"])
    assert list(Activity.objects.get(code="CYB-1.9").implementing_offices.all()) == [world.office]


def test_officer_edits_an_activity_and_its_version_moves_on(officer, world):
    officer.post(
        reverse("plan-item-edit", args=["activity", "CYB-1.1"]),
        activity_data(world, code="CYB-1.1", title="Renamed", expected_version=1),
    )
    activity = Activity.objects.get(code="CYB-1.1")
    assert (activity.title, activity.version) == ("Renamed", 2)
    assert activity.history.first().history_user == world.officer


def test_concurrent_edit_is_refused_and_the_input_kept(officer, world):
    Activity.objects.filter(code="CYB-1.1").update(version=2, title="Their title")
    response = officer.post(
        reverse("plan-item-edit", args=["activity", "CYB-1.1"]),
        activity_data(world, code="CYB-1.1", title="My title", expected_version=1),
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Someone else saved this activity" in page
    assert 'value="My title"' in page
    assert Activity.objects.get(code="CYB-1.1").title == "Their title"


def test_end_before_start_is_refused_naming_the_field(officer, world):
    response = officer.post(
        reverse("plan-item-new", args=["activity"]),
        activity_data(world, planned_start="2020-05-01", planned_end="2020-04-01"),
    )
    assert response.status_code == 200
    assert response.context["form"].errors["planned_end"] == ["The end cannot be before the start."]
    assert not Activity.objects.filter(code="CYB-1.9").exists()


def test_duplicate_code_is_refused_naming_the_field(officer, world):
    response = officer.post(reverse("plan-item-new", args=["activity"]), activity_data(world, code="CYB-1.1"))
    assert "code" in response.context["form"].errors


def test_officer_locks_a_period(officer, world):
    officer.post(
        reverse("plan-item-edit", args=["period", "2020-Q2"]),
        {
            "plan": world.plan.pk,
            "code": "2020-Q2",
            "starts_on": "2020-04-01",
            "ends_on": "2020-06-30",
            "due_on": "2020-07-15",
            "state": "locked",
            "expected_version": 1,
        },
    )
    assert ReportingPeriod.objects.get(code="2020-Q2").state == "locked"


def test_indicator_must_measure_an_objective_or_an_activity(officer, world):
    response = officer.post(
        reverse("plan-item-new", args=["indicator"]),
        {
            "objective": world.objective.pk,
            "activity": world.activity.pk,
            "code": "X-I1",
            "name": "x",
            "unit": "n",
            "direction": "increase",
            "baseline_value": 0,
            "target_value": 1,
        },
    )
    assert "either an objective or an activity" in response.content.decode()


@pytest.mark.parametrize("persona", ["reporter", "committee"])
def test_only_officers_change_the_plan(client, world, persona):
    client.force_login(getattr(world, persona))
    assert client.get(reverse("plan-item-edit", args=["activity", "CYB-1.1"])).status_code == 403
    assert client.post(reverse("plan-item-new", args=["activity"]), activity_data(world)).status_code == 403
    assert not Activity.objects.filter(code="CYB-1.9").exists()


def test_unknown_kind_answers_404(officer):
    assert officer.get(reverse("plan-item-new", args=["focus-area"])).status_code == 404


def indicator_data(world, **extra):
    data = {
        "activity": world.activity.pk,
        "code": "CYB-1.1-I9",
        "name": "Share of participants rating the course useful",
        "unit": "%",
        "measure": "percentage",
        "direction": "increase",
        "office_rule": "mean",
        "period_rule": "per_period",
        "dimensions": ["sex", "age"],
        "baseline_value": "40",
        "target_value": "80",
        "plausible_share_of_target": "150",
        "plausible_growth": "3",
    }
    return {**data, **extra}


def test_officer_defines_how_an_indicators_values_combine_and_its_period_targets(officer, world):
    response = officer.post(
        reverse("plan-item-new", args=["indicator"]), indicator_data(world, **{"target_2020-Q2": "60"})
    )
    assert response.status_code == 302 and response.url == reverse("indicator", args=["CYB-1.1-I9"])
    indicator = world.activity.indicators.get(code="CYB-1.1-I9")
    assert (indicator.measure, indicator.office_rule, indicator.period_rule) == ("percentage", "mean", "per_period")
    assert indicator.dimensions == ["sex", "age"]
    assert [(t.period.code, t.value) for t in indicator.period_targets.all()] == [("2020-Q2", 60)]


def test_clearing_a_period_target_removes_it(officer, world):
    officer.post(reverse("plan-item-new", args=["indicator"]), indicator_data(world, **{"target_2020-Q2": "60"}))
    officer.post(
        reverse("plan-item-edit", args=["indicator", "CYB-1.1-I9"]),
        # A target removed is a target changed: it takes a reason (tests/actionplan/test_figure_reasons.py).
        indicator_data(world, expected_version=1, change_reason="Quarter dropped", **{"target_2020-Q2": ""}),
    )
    assert not world.activity.indicators.get(code="CYB-1.1-I9").period_targets.exists()


def test_a_percentage_target_over_100_is_refused_naming_the_field(officer, world):
    response = officer.post(
        reverse("plan-item-new", args=["indicator"]), indicator_data(world, **{"target_2020-Q2": "120"})
    )
    assert response.status_code == 200
    assert response.context["form"].errors["target_2020-Q2"] == ["A percentage takes values from 0 to 100."]


def test_a_period_overlapping_another_of_the_plan_is_refused(officer, world):
    data = {"plan": world.plan.pk, "code": "2020-H1", "starts_on": "2020-01-01", "ends_on": "2020-06-30",
            "due_on": "2020-07-15", "state": "open"}  # fmt: skip
    response = officer.post(reverse("plan-item-new", args=["period"]), data)
    assert response.status_code == 200
    assert "overlaps 2020-Q1" in response.context["form"].errors["starts_on"][0]
