"""The kept latest approved state: what the pages read equals what a rebuild from scratch computes."""

import datetime
import random
from decimal import Decimal

import pytest
from django.core.management import call_command

from actionplan import figures, services, standings
from actionplan.measurements import MeasurementInput
from actionplan.models import (
    Activity,
    ActivityStanding,
    Indicator,
    IndicatorFigure,
    ProgressUpdate,
    ReportingPeriod,
)
from portal.errors import DomainError
from tests import factories

pytestmark = pytest.mark.django_db

State = ProgressUpdate.State
RULES = [(office, period) for office in Indicator.OfficeRule.values for period in Indicator.PeriodRule.values]


def kept() -> tuple[set, set]:
    """Every standing and figure as kept, by their natural keys."""
    return (
        set(
            ActivityStanding.objects.values_list(
                "activity_id", "as_of_id", "update_id", "reported_period_id", "rag", "percent_complete"
            )
        ),
        set(
            IndicatorFigure.objects.values_list(
                "indicator_id",
                "period_id",
                "value",
                "value_count",
                "office_count",
                "reported_count",
                "latest_reported_on",
            )  # fmt: skip
        ),
    )


def rebuilt() -> tuple[set, set]:
    standings.rebuild()
    return kept()


@pytest.fixture
def busy_world(world):
    """The world with both offices on two activities, indicators of every rule (one an objective's,
    fed by both activities), and four quarters, three of them open."""
    world.activity.implementing_offices.add(world.other_office)
    world.other_activity.implementing_offices.add(world.office)
    world.indicators = [world.indicator, world.second_indicator, world.other_indicator]
    world.objective_indicator = factories.IndicatorFactory(objective=world.objective, activity=None, code="CYB-1-I1")
    world.indicators.append(world.objective_indicator)
    world.periods = [world.locked_period, world.period]
    for quarter in (3, 4):
        world.periods.append(
            factories.ReportingPeriodFactory(
                plan=world.plan,
                code=f"2020-Q{quarter}",
                starts_on=datetime.date(2020, 3 * quarter - 2, 1),
                ends_on=datetime.date(2020, 3 * quarter, 28),
                due_on=datetime.date(2020, 3 * quarter, 28) + datetime.timedelta(days=15),
            )
        )
    world.reporters = {world.office: world.reporter, world.other_office: world.other_reporter}
    return world


class Workflow:
    """Random steps of the update workflow and of plan editing, each through the portal's own functions."""

    def __init__(self, world, seed: int):
        self.world = world
        self.random = random.Random(seed)

    def measurements(self, activity):
        measured = [indicator for indicator in self.world.indicators if indicator.activity_id in (activity.pk, None)]
        return [
            MeasurementInput(indicator=indicator, value=Decimal(self.random.randint(0, 40)))
            for indicator in self.random.sample(measured, self.random.randint(1, len(measured)))
        ]

    def updates(self, *states):
        return list(ProgressUpdate.objects.filter(state__in=states).order_by("pk"))

    def report(self):
        world = self.world
        activity = self.random.choice([world.activity, world.other_activity])
        office = self.random.choice([world.office, world.other_office])
        period = self.random.choice([period for period in world.periods if period.is_open()])
        services.create_update(
            by=world.reporters[office], activity=activity, period=period, office=office,
            rag=self.random.choice(["on_track", "at_risk", "off_track"]), percent_complete=self.random.randint(0, 100),
            measurements=self.measurements(activity), submit=True,
        )  # fmt: skip

    def approve(self):
        if submitted := self.updates(State.SUBMITTED):
            services.approve_update(by=self.world.officer, update=self.random.choice(submitted))

    def send_back(self):
        if submitted := self.updates(State.SUBMITTED):
            services.return_update(by=self.world.officer, update=self.random.choice(submitted), comment="Check it.")

    def resubmit(self):
        if returned := self.updates(State.RETURNED):
            update = self.random.choice(returned)
            by = self.world.reporters[update.office]
            services.edit_update(
                by=by, update=update, expected_version=update.version,
                changes={"percent_complete": self.random.randint(0, 100)},
                measurements=self.measurements(update.activity),
            )  # fmt: skip
            services.submit_update(by=by, update=update)

    def change_rule(self):
        indicator = self.random.choice(self.world.indicators)
        indicator.office_rule, indicator.period_rule = self.random.choice(RULES)
        indicator.save()

    def move_period(self):
        # Any quarter may start with the one before it (two periods starting on the same day) or back on its own.
        world = self.world
        index = self.random.randrange(1, len(world.periods))
        period = world.periods[index]
        earlier = world.periods[index - 1].starts_on
        period.starts_on = earlier if period.starts_on != earlier else datetime.date(2020, 3 * index + 1, 1)
        period.save()

    def add_period(self):
        last = max(period.ends_on for period in self.world.periods)
        self.world.periods.append(
            factories.ReportingPeriodFactory(
                plan=self.world.plan,
                code=f"P{len(self.world.periods)}",
                starts_on=last + datetime.timedelta(days=1),
                ends_on=last + datetime.timedelta(days=90),
                due_on=last + datetime.timedelta(days=100),
            )  # fmt: skip
        )

    def delete_approved(self):
        # As an administrator could in the shell: the kept state follows a deletion too.
        if approved := self.updates(State.APPROVED):
            self.random.choice(approved).delete()

    def step(self):
        steps = [self.report] * 4 + [self.approve] * 4 + [self.send_back, self.resubmit, self.change_rule]
        steps += [self.move_period, self.add_period, self.delete_approved]
        try:
            self.random.choice(steps)()
        except DomainError:
            pass  # refused (an update that exists already, a value out of range): nothing changed


@pytest.mark.parametrize("seed", range(6))
def test_the_kept_state_equals_a_rebuild_after_random_workflow_steps(busy_world, seed):
    workflow = Workflow(busy_world, seed)
    for _step in range(40):
        workflow.step()
    assert ProgressUpdate.objects.filter(state=State.APPROVED).exists()
    maintained = kept()
    assert maintained == rebuilt()


def test_the_kept_standings_are_the_updates_every_reader_ranks_first_at_each_period(busy_world):
    # The kept standings are written in SQL of their own (one statement for every period): they must rank
    # as ``latest_approved_per_activity`` does, which the figures, the reports and the API read.
    for seed in range(3):
        workflow = Workflow(busy_world, seed)
        for _step in range(15):
            workflow.step()
    for period in ReportingPeriod.objects.filter(plan=busy_world.plan):
        ranked_first = ProgressUpdate.objects.latest_approved_per_activity(as_of=period.starts_on)
        assert set(ActivityStanding.objects.filter(as_of=period).values_list("activity_id", "update_id")) == set(
            ranked_first.values_list("activity_id", "pk")
        )
    assert ActivityStanding.objects.exists()


def test_an_approval_changes_the_kept_standing_and_figure_in_its_own_transaction(busy_world):
    update = services.create_update(
        by=busy_world.reporter, activity=busy_world.activity, period=busy_world.period, office=busy_world.office,
        rag="at_risk", percent_complete=40, measurements=[MeasurementInput(busy_world.indicator, Decimal(12))],
        submit=True,
    )  # fmt: skip
    assert not ActivityStanding.objects.exists()
    services.approve_update(by=busy_world.officer, update=update)
    standing = ActivityStanding.objects.get(activity=busy_world.activity, as_of=busy_world.period)
    assert (standing.update_id, standing.rag, standing.percent_complete) == (update.pk, "at_risk", 40)
    assert IndicatorFigure.objects.get(indicator=busy_world.indicator, period=busy_world.period).value == 12


def test_an_approved_update_moved_to_another_activity_stands_at_that_one_only(busy_world):
    update = factories.ProgressUpdateFactory(
        activity=busy_world.activity, period=busy_world.period, office=busy_world.office, state=State.APPROVED
    )
    moved_to = factories.ActivityFactory(objective=busy_world.activity.objective)

    update.activity = moved_to
    update.save()

    assert set(ActivityStanding.objects.filter(update=update).values_list("activity", flat=True)) == {moved_to.pk}
    assert kept() == rebuilt()


def test_an_approved_update_read_without_its_activity_and_moved_leaves_the_kept_state_as_rebuilt(busy_world):
    update = factories.ProgressUpdateFactory(
        activity=busy_world.activity, period=busy_world.period, office=busy_world.office, state=State.APPROVED
    )
    read = ProgressUpdate.objects.only("state", "period").get(pk=update.pk)

    read.activity = factories.ActivityFactory(objective=busy_world.activity.objective)
    read.save()

    assert kept() == rebuilt()


def test_a_draft_saved_or_submitted_leaves_the_kept_state_alone(busy_world):
    # The reporters' daily writes cost nothing here: only approved values are kept.
    before = kept()
    services.create_update(
        by=busy_world.reporter, activity=busy_world.activity, period=busy_world.period, office=busy_world.office,
        rag="on_track", percent_complete=10, measurements=[MeasurementInput(busy_world.indicator, Decimal(3))],
        submit=True,
    )  # fmt: skip
    assert kept() == before


def test_the_kept_figures_are_those_computed_from_the_approved_values(busy_world):
    for seed in range(3):
        workflow = Workflow(busy_world, seed)
        for _step in range(15):
            workflow.step()
    periods = list(ReportingPeriod.objects.filter(plan=busy_world.plan))
    indicators = Indicator.objects.filter(pk__in=[indicator.pk for indicator in busy_world.indicators])
    read = figures.figures(indicators, periods)
    # Computed for each office together is computed, not read: the same rule over the same values.
    computed = figures.figures(indicators, periods, offices=[busy_world.office, busy_world.other_office])
    assert read == computed
    assert read


def test_the_register_reads_the_latest_standing_of_each_activity(busy_world):
    old = factories.ProgressUpdateFactory(
        activity=busy_world.activity, period=busy_world.locked_period, office=busy_world.office, state=State.APPROVED,
        rag="off_track", percent_complete=10,
    )  # fmt: skip
    factories.ProgressUpdateFactory(
        activity=busy_world.activity, period=busy_world.period, office=busy_world.office, state=State.APPROVED,
        rag="on_track", percent_complete=60,
    )  # fmt: skip
    now = Activity.objects.for_register().get(pk=busy_world.activity.pk)
    then = Activity.objects.for_register(busy_world.locked_period).get(pk=busy_world.activity.pk)
    assert (now.latest_rag, now.latest_percent, now.latest_period) == ("on_track", 60, busy_world.period.code)
    assert (then.latest_rag, then.latest_percent, then.latest_period) == ("off_track", 10, old.period.code)


def test_rebuild_standings_recomputes_what_a_bulk_write_left_behind(busy_world, capsys):
    update = factories.ProgressUpdateFactory(
        activity=busy_world.activity, period=busy_world.period, office=busy_world.office, state=State.APPROVED,
        rag="at_risk",
    )  # fmt: skip
    # A write that sends no signal (SQL, a bulk update) leaves the kept state behind...
    ProgressUpdate.objects.filter(pk=update.pk).update(rag="off_track")
    assert ActivityStanding.objects.get(activity=busy_world.activity, as_of=busy_world.period).rag == "at_risk"
    call_command("rebuild_standings")
    assert ActivityStanding.objects.get(activity=busy_world.activity, as_of=busy_world.period).rag == "off_track"
    assert "activity standings" in capsys.readouterr().out


def test_a_refresh_of_activities_and_indicators_that_match_nothing_changes_nothing(busy_world):
    # As ``.none()`` and ``[]`` do: a filter that can match no row (``pk__in=[]``) is compiled to nothing at all.
    for seed in range(2):
        workflow = Workflow(busy_world, seed)
        for _step in range(10):
            workflow.step()
    before = kept()

    standings.refresh(
        plan_id=busy_world.plan.pk,
        activities=Activity.objects.filter(pk__in=[]),
        indicators=Indicator.objects.filter(pk__in=[]),
    )

    assert kept() == before
