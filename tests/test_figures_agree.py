"""One number everywhere: hand-computed indicator figures, the same on every page, report and API."""

import datetime
import io
import re
from decimal import Decimal
from types import SimpleNamespace

import openpyxl
import pypdf
import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from actionplan.models import Indicator, Measurement, ProgressUpdate, ReportingPeriod
from portal import numbers
from portal.models import Role
from steering.models import ProgressReport
from steering.reports import services as report_services
from tests import factories

pytestmark = pytest.mark.django_db

# Approved values per office and quarter of activity FIG-1.1 (None: nothing reported), submitted on that day.
VALUES = {
    "A": {"Q1": 10, "Q2": None, "Q3": 30},
    "B": {"Q1": 20, "Q2": 25, "Q3": 40},
    "C": {"Q1": 5, "Q2": None, "Q3": None},
}
SUBMITTED_DAY = {"A": 5, "B": 3, "C": 9}
RULES = {
    "FIG-1.1-SUM": {"office_rule": "sum", "period_rule": "cumulative"},
    "FIG-1.1-MEAN": {"office_rule": "mean", "period_rule": "per_period"},
    "FIG-1.1-MAX": {"office_rule": "max", "period_rule": "latest"},
    "FIG-1.1-LAST": {"office_rule": "latest", "period_rule": "per_period"},
    "FIG-1.1-DEC": {
        "office_rule": "max", "period_rule": "per_period", "direction": "decrease", "baseline_value": 100,
        "target_value": 40,
    },
}  # fmt: skip
DECREASE = {("B", "Q1"): 80, ("A", "Q3"): 35}

# At 2020-Q3, by hand:
EXPECTED = {
    # A 30 and B 40 reported, C's 5 carried from Q1; Q3's own target is 80: 93.75 %.
    "FIG-1.1-SUM": ("75", 93.75, False),
    # (30 + 40) / 2 against the end target 100.
    "FIG-1.1-MEAN": ("35", 35.0, False),
    # The largest of the Q3 round.
    "FIG-1.1-MAX": ("40", 40.0, False),
    # A submitted after B in Q3.
    "FIG-1.1-LAST": ("30", 30.0, False),
    # From 100 down to 35, the target being 40: reached, (100 - 35) / (100 - 40) = 108.33 %.
    "FIG-1.1-DEC": ("35", 108.33, True),
    # The objective's indicator: office A's 12 through FIG-1.1 and 8 through FIG-1.2, summed; target 50.
    "FIG-1-I1": ("20", 40.0, False),
}
AVERAGE = (93.75 + 35 + 40 + 30 + 108.3333 + 40) / 6  # 57.85


@pytest.fixture
def plan(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    the_plan = factories.ActionPlanFactory()
    area = factories.FocusAreaFactory(plan=the_plan, code="FIG", name="Figures")
    objective = factories.ObjectiveFactory(focus_area=area, code="FIG-1")
    activity = factories.ActivityFactory(objective=objective, code="FIG-1.1")
    second = factories.ActivityFactory(objective=objective, code="FIG-1.2")
    offices = {name: factories.OfficeFactory(code=f"OFFICE-{name}") for name in VALUES}
    activity.implementing_offices.set(offices.values())
    second.implementing_offices.set([offices["A"]])
    periods = {}
    for n in range(1, 5):
        ends = datetime.date(2020, 3 * n, 28)
        periods[f"Q{n}"] = factories.ReportingPeriodFactory(
            plan=the_plan, code=f"2020-Q{n}", starts_on=datetime.date(2020, 3 * n - 2, 1), ends_on=ends,
            due_on=ends + datetime.timedelta(days=15), state="open" if n == 4 else "locked",
        )  # fmt: skip
    indicators = {
        code: factories.IndicatorFactory(activity=activity, code=code, **rules) for code, rules in RULES.items()
    }
    objective_indicator = factories.IndicatorFactory(
        activity=None, objective=objective, code="FIG-1-I1", office_rule="sum", period_rule="per_period",
        target_value=50,
    )  # fmt: skip
    factories.PeriodTargetFactory(indicator=indicators["FIG-1.1-SUM"], period=periods["Q3"], value=80)

    def approved(on, office, quarter):
        submitted = datetime.datetime.combine(periods[quarter].ends_on, datetime.time(9), tzinfo=datetime.UTC)
        return factories.ProgressUpdateFactory(
            activity=on, period=periods[quarter], office=offices[office], state=ProgressUpdate.State.APPROVED,
            submitted_at=submitted + datetime.timedelta(days=SUBMITTED_DAY[office]),
        )  # fmt: skip

    for office, by_quarter in VALUES.items():
        for quarter, value in by_quarter.items():
            decrease = DECREASE.get((office, quarter))
            if value is None and decrease is None:
                continue
            update = approved(activity, office, quarter)
            for code, indicator in indicators.items():
                reported = decrease if code == "FIG-1.1-DEC" else value
                if reported is not None:
                    Measurement.objects.create(update=update, indicator=indicator, value=reported)
            if (office, quarter) == ("A", "Q3"):
                Measurement.objects.create(update=update, indicator=objective_indicator, value=12)
    Measurement.objects.create(update=approved(second, "A", "Q3"), indicator=objective_indicator, value=8)

    groups = {role: Group.objects.get_or_create(name=role.value)[0] for role in Role}
    officer = factories.UserFactory(username="officer")
    officer.groups.add(groups[Role.PROGRAMME_OFFICER])
    committee = factories.UserFactory(username="committee")
    committee.groups.add(groups[Role.COMMITTEE_MEMBER])
    return SimpleNamespace(plan=the_plan, period=periods["Q3"], officer=officer, committee=committee)


def shown_on(client, url, code) -> tuple[str, str]:
    """The figure a page shows for the indicator: its value attribute and its visible text."""
    page = client.get(url, {"period": "2020-Q3"}).content.decode()
    match = re.search(
        rf'data-figure-of="{re.escape(code)}" data-value="([^"]*)".*?<strong class="fs-5 figure-value">([^<]*)</strong>'
        r".*?(?:figure-share\">([^<]*)</span>)?",
        page,
        re.S,
    )
    assert match, f"{code} is not on {url}"
    return match.group(1), match.group(2)


def pdf_text(report) -> str:
    """The PDF's text on one line: table cells wrap over several."""
    with report.pdf.open("rb") as handle:
        pages = pypdf.PdfReader(io.BytesIO(handle.read())).pages
    return " ".join(" ".join(page.extract_text() for page in pages).split())


@pytest.fixture
def report(plan):
    report = ProgressReport.objects.create(plan=plan.plan, period=plan.period, requested_by=plan.officer)
    assert report_services.compile_report(report_id=report.pk) == "succeeded"
    return ProgressReport.objects.get(pk=report.pk)


def test_every_page_shows_the_hand_computed_figure(client, plan):
    client.force_login(plan.officer)
    for code, (value, _share, _reached) in EXPECTED.items():
        indicator = Indicator.objects.get(code=code)
        pages = [reverse("indicator", args=[code])]
        if indicator.activity_id:
            pages.append(reverse("activity-detail", args=["FIG-1.1"]))
        else:
            pages += [reverse("focus-area", args=["FIG"]), reverse("objective", args=["FIG-1"])]
        for url in pages:
            assert shown_on(client, url, code) == (f"{Decimal(value):.2f}", value), (code, url)


def test_the_api_gives_the_hand_computed_figure(api, plan):
    client = api(plan.officer)
    for code, (value, share, reached) in EXPECTED.items():
        figure = client.get(f"/api/v1/indicators/{code}/figures/", {"period": "2020-Q3"}).json()["figure"]
        assert (figure["value"], round(figure["percent_of_target"], 2), figure["target_reached"]) == (
            f"{Decimal(value):.2f}", share, reached,
        ), code  # fmt: skip


def test_the_report_pdf_and_workbook_give_the_hand_computed_figure(plan, report):
    text = pdf_text(report)
    with report.xlsx.open("rb") as handle:
        sheet = openpyxl.load_workbook(io.BytesIO(handle.read()))["Indicators"]
    header = [cell.value for cell in sheet[1]]
    cells = {row[1]: dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2, values_only=True)}
    for code, (value, share, reached) in EXPECTED.items():
        # The indicator's row of the table: from its code to the next code (rows wrap over lines).
        row_text = re.search(rf"{re.escape(code)} (.*?)(?= FIG-1(?:\.1-[A-Z]+|-I1) | Each figure)", text).group(1)
        assert f" {value} 2020-Q3 {numbers.show(share, 'en', 1)}" in f"{row_text} ", (code, row_text)
        row = cells[code]
        assert (row["Figure"], round(row["% of target"], 2), row["Target reached"]) == (
            float(value), share, "yes" if reached else "no",
        ), code  # fmt: skip


def test_the_dashboard_and_the_report_count_the_same_hand_computed_indicators(client, plan, report):
    client.force_login(plan.committee)
    response = client.get(reverse("dashboard"), {"period": "2020-Q3"})
    [area] = response.context["figures"]["focus_areas"]
    counted = {"all": 6, "with_actual": 6, "on_track": 1}
    assert {key: area["indicators"][key] for key in counted} == counted
    assert area["indicators"]["average_percent"] == pytest.approx(AVERAGE, abs=1e-3)
    [summary] = report.snapshot["summary"]
    assert summary["indicators"] == area["indicators"]
    page = response.content.decode()
    assert re.search(r'data-area="FIG".*?<span class="average-percent">57\.8%</span>', page, re.S)
    assert re.search(r"FIG Figures 6 6 1 57\.8", pdf_text(report)), pdf_text(report)


def test_demo_dashboard_and_report_agree_on_every_focus_area(client):
    from portal.demo import seed_demo
    from portal.reference import load_reference_data

    load_reference_data()
    seed_demo(scale="XS", seed=2018, password="pw")
    committee = Group.objects.get(name=Role.COMMITTEE_MEMBER.value).user_set.get(username="committee")
    officer = Group.objects.get(name=Role.PROGRAMME_OFFICER.value).user_set.get(username="officer")
    client.force_login(committee)
    for period in ReportingPeriod.objects.order_by("-starts_on")[:2]:
        # The snapshot a compilation would freeze, without its files (the report's files are checked above).
        report = ProgressReport(plan=period.plan, period=period, requested_by=officer)
        snapshot, _content_hash = report_services.take_snapshot(report=report)
        dashboard = client.get(reverse("dashboard"), {"period": period.code}).context["figures"]
        on_dashboard = {area["code"]: area["indicators"] for area in dashboard["focus_areas"]}
        in_report = {area["code"]: area["indicators"] for area in snapshot["summary"]}
        assert on_dashboard == in_report, period.code
        assert all(figures["with_actual"] > 0 for figures in in_report.values())
