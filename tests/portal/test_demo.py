"""Demo data: deterministic, realistic, loaded once."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import F

from actionplan.models import Activity, Measurement, ProgressUpdate, ReportingPeriod
from portal.demo import DemoDataExists, seed_demo
from portal.reference import load_reference_data
from tests.conftest import sign_in
from tests.template_database import server_connection

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def reference(db):
    load_reference_data()


def fingerprint(seed):
    """Load the demo data, describe it, and roll it back."""
    with transaction.atomic():
        counts = seed_demo(scale="XS", seed=seed, password="pw")
        described = (
            counts,
            list(Activity.objects.order_by("code").values_list("code", "title", "status")),
            list(ProgressUpdate.objects.order_by("id").values_list("id", "state", "rag", "percent_complete")),
            list(
                Measurement.objects.order_by(
                    "update_id", "indicator__code", "sex", "age_band", "country__iso3"
                ).values_list("value", flat=True)
            ),
        )
        transaction.set_rollback(True)
    return described


def test_same_seed_gives_the_same_rows():
    assert fingerprint(7) == fingerprint(7)


def test_another_seed_gives_other_rows():
    assert fingerprint(7)[1] != fingerprint(8)[1]


def test_small_scale_has_every_workflow_state_and_the_committee_record():
    counts = seed_demo(scale="S", seed=1, password="pw")
    assert 100 <= counts["activities"] <= 150
    assert 15 <= counts["offices"] + 2 <= 25
    assert counts["periods"] == 8
    assert set(ProgressUpdate.objects.values_list("state", flat=True).distinct()) == set(ProgressUpdate.State)
    assert counts["measurements"] > counts["updates"]
    assert counts["evidence"] > 0
    assert counts["meetings"] == 4 and counts["reviews"] > 0 and counts["decisions"] > 0 and counts["action items"] > 0


def test_demo_users_can_log_in_with_the_given_password(client):
    seed_demo(scale="XS", seed=1, password="s3cret-demo")
    for username in ("admin", "officer", "committee", "secretary", "reporter.unodc-roseap"):
        assert sign_in(client, username, "s3cret-demo"), username
        client.logout()


def test_every_field_office_has_a_reporter():
    from portal.models import Office

    seed_demo(scale="XS", seed=1, password="pw")
    for office in Office.objects.exclude(kind=Office.Kind.HEADQUARTERS):
        assert office.memberships.filter(user__username=f"reporter.{office.code.lower()}").exists()


def test_second_load_is_refused_and_adds_nothing():
    seed_demo(scale="XS", seed=1, password="pw")
    count = Activity.objects.count()
    with pytest.raises(DemoDataExists):
        seed_demo(scale="XS", seed=1, password="pw")
    assert Activity.objects.count() == count


def test_if_empty_makes_a_second_load_a_quiet_success(capsys):
    call_command("seed_demo", "--if-empty")
    count = Activity.objects.count()
    call_command("seed_demo", "--if-empty")
    assert Activity.objects.count() == count
    assert "already loaded" in capsys.readouterr().out


@pytest.mark.parametrize(
    "arguments, named",
    [(["--scale", "XXL"], "--scale"), (["--seed", "abc"], "--seed"), (["--password", ""], "--password")],
)
def test_bad_argument_is_refused_naming_it(arguments, named):
    with pytest.raises(CommandError, match=named):
        call_command("seed_demo", *arguments)
    assert not Activity.objects.exists()


def test_bad_argument_exits_non_zero_with_one_line():
    result = subprocess.run(
        [sys.executable, "manage.py", "seed_demo", "--scale", "XXL"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "DEBUG": "true"},
    )
    assert result.returncode != 0
    refusal = "CommandError: --scale: unknown scale 'XXL'; choose one of XS, S, M, L, XL"
    assert result.stderr.strip().splitlines() == [refusal]


def test_the_demo_lives_in_the_present_of_the_day_given():
    import datetime

    from django.db.models import Max

    from steering.models import Meeting

    today = datetime.date(2026, 11, 30)
    seed_demo(scale="XS", seed=1, password="pw", today=today)
    periods = list(ReportingPeriod.objects.order_by("starts_on"))
    current, under_review, *_ = reversed(periods)
    assert (current.code, current.state, current.due_on) == ("2026-Q4", "open", datetime.date(2027, 1, 15))
    assert (under_review.code, under_review.state) == ("2026-Q3", "open")
    assert {period.state for period in periods[:-2]} == {"locked"}
    states = set(under_review.updates.values_list("state", flat=True))
    assert {"submitted", "approved", "returned"} <= states
    latest = ProgressUpdate.objects.aggregate(Max("created_at"), Max("submitted_at"), Max("reviewed_at"))
    assert all(moment.date() < today for moment in latest.values())
    assert ProgressUpdate.objects.filter(created_at__date__lt=periods[0].ends_on).exists()
    assert Meeting.objects.filter(state="scheduled", date__gt=today).exists()


def test_a_seed_gives_the_same_activities_and_updates_whatever_the_day():
    import datetime

    def rows(today):
        with transaction.atomic():
            seed_demo(scale="XS", seed=3, password="pw", today=today)
            found = list(ProgressUpdate.objects.order_by("id").values_list("id", "activity__code", "office__code"))
            transaction.set_rollback(True)
        return found

    assert rows(datetime.date(2026, 11, 30)) == rows(datetime.date(2031, 5, 2))


def test_seed_demo_refuses_a_today_that_is_not_a_date():
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("seed_demo", "--today", "30/11/2026")


def test_a_demo_indicators_first_baseline_change_is_listed_against_the_value_it_replaced(client):
    from django.urls import reverse

    from actionplan.models import ChangeRequest, Indicator

    seed_demo(scale="XS", seed=1, password="pw")
    indicator = Indicator.objects.filter(activity__isnull=False).order_by("code").first()
    before = indicator.baseline_value
    # The demo plan is at version 1.0: the baseline changes through a change request, approved by the
    # officer of the other organisation (officer: UNODC, officer.lyon: INTERPOL).
    assert sign_in(client, "officer", "pw")
    url = reverse("change-propose", args=["indicator", indicator.code])
    form = client.get(url).context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None and not isinstance(value, list)}
    data.update(baseline_value=str(before + 1), reason="Recount", action="submit")
    assert client.post(url, data).status_code == 302
    change = ChangeRequest.objects.get()
    client.logout()
    assert sign_in(client, "officer.lyon", "pw")
    client.post(reverse("change-approve", args=[change.pk]))

    page = client.get(reverse("indicator", args=[indicator.code])).content.decode()

    assert "Recount" in page and "No change since the indicator was defined" not in page


def test_a_load_writes_the_rows_it_counts_with_their_history_and_standings():
    from actionplan import standings
    from actionplan.models import (
        ActivityStanding,
        Evidence,
        Indicator,
        IndicatorFigure,
        PeriodTarget,
        UpdateComment,
    )
    from portal.models import Office

    counts = seed_demo(scale="XS", seed=1, password="pw")

    assert {
        "offices": Office.objects.exclude(kind=Office.Kind.HEADQUARTERS).count(),
        "activities": Activity.objects.count(),
        "indicators": Indicator.objects.count(),
        "period targets": PeriodTarget.objects.count(),
        "updates": ProgressUpdate.objects.count(),
        "measurements": Measurement.objects.count(),
        "messages": UpdateComment.objects.count(),
        "evidence": Evidence.objects.count(),
    } == {name: counts[name] for name in ("offices", "activities", "indicators", "period targets", "updates",
                                          "measurements", "messages", "evidence")}  # fmt: skip
    # Every indicator and period target with its first history row, as the plan's pages make them.
    assert Indicator.history.filter(history_type="+").count() == counts["indicators"]
    assert PeriodTarget.history.filter(history_type="+").count() == counts["period targets"]
    assert set(Indicator.history.values_list("id", flat=True)) == set(Indicator.objects.values_list("pk", flat=True))
    # Every activity implemented somewhere, each measurement's time its update's.
    assert not Activity.objects.filter(implementing_offices=None).exists()
    assert not Measurement.objects.exclude(updated_at=F("update__updated_at")).exists()
    assert ProgressUpdate.objects.exclude(warnings=[]).count() == counts["updates with figures to check"]

    def kept():
        return (
            sorted(ActivityStanding.objects.values_list("as_of_id", "activity_id", "update_id", "rag")),
            sorted(IndicatorFigure.objects.values_list("period_id", "indicator_id", "value")),
        )

    loaded = kept()
    standings.rebuild()
    assert loaded == kept() and loaded[0] and loaded[1]


def test_the_orm_inserts_after_a_load_as_before():
    """The tables loaded in bulk take new rows through the ORM: their primary keys go on after the load's."""
    from actionplan.models import Indicator, PeriodTarget, UpdateComment
    from portal.models import Office

    seed_demo(scale="XS", seed=1, password="pw")
    update = ProgressUpdate.objects.order_by("id").first()
    office = Office.objects.exclude(activities=update.activity).exclude(kind=Office.Kind.HEADQUARTERS).first()

    activity = Activity.objects.create(
        objective=update.activity.objective, code="NEW-1", title="New", lead_organization=office.organization
    )
    activity.implementing_offices.add(office)
    indicator = Indicator.objects.create(
        activity=activity, code="NEW-1-I1", name="Officers trained", baseline_value=0, target_value=10
    )
    PeriodTarget.objects.create(indicator=indicator, period=update.period, value=5)
    Measurement.objects.create(update=update, indicator=indicator, value=3)
    UpdateComment.objects.create(update=update, author=update.author, text="Noted.", version=1)

    assert indicator.history.count() == 1 and PeriodTarget.history.filter(indicator_id=indicator.pk).count() == 1
    assert Measurement.objects.order_by("-pk").first().indicator == indicator


def test_a_scale_with_more_offices_than_bureaus_adds_sub_offices_in_provinces(monkeypatch):
    from portal import demo
    from portal.models import Country, Office

    monkeypatch.setitem(
        demo.SCALES,
        "WIDE",
        demo.Scale(offices=Country.objects.count() + 40, activities=6, periods=5, max_offices_per_activity=2,
                   reported_share=0.9),
    )  # fmt: skip
    counts = seed_demo(scale="WIDE", seed=1, password="pw")

    offices = Office.objects.exclude(kind=Office.Kind.HEADQUARTERS)
    assert counts["offices"] == offices.count() == Country.objects.count() + 38
    sub_offices = offices.filter(code__startswith="UNODC-SO-")
    assert sub_offices.count() > 0 and len({office.country_id for office in sub_offices}) > 1
    sub_office = sub_offices.first()
    assert sub_office.city and sub_office.city in sub_office.name
    assert sub_office.memberships.filter(user__username=f"reporter.{sub_office.code.lower()}").exists()


def test_approved_minutes_carry_the_signatures_of_both_parties():
    from steering import signoff
    from steering.models import Meeting

    seed_demo(scale="XS", seed=1, password="pw")
    approved = Meeting.objects.filter(minutes_approved_at__isnull=False)
    assert approved.exists()
    for meeting in approved:
        signatures = list(signoff.signatures_of(meeting))
        assert [s.party for s in signatures] == ["UNODC", "INTERPOL"], meeting
        assert meeting.minutes_approved_at == signatures[-1].signed_at
        assert signoff.current_round(meeting).state == "approved"


@pytest.fixture
def shared_catalog_analyzed_elsewhere(postgres, db):
    """A transaction of another database that has analyzed a catalog every database shares, and is still open
    (another load into another database, as another test worker's); the test's statements wait a second for a
    lock at most."""
    from django.db import connection

    settings_dict = connection.settings_dict
    elsewhere = server_connection(settings_dict)
    with elsewhere.cursor() as cursor:
        cursor.execute("ANALYZE pg_catalog.pg_database")
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '1s'")
    yield
    with connection.cursor() as cursor:
        cursor.execute("RESET lock_timeout")
    elsewhere.close()


def test_a_load_waits_for_no_load_into_another_database(shared_catalog_analyzed_elsewhere):
    # Its statistics are refreshed inside its transaction: for its own tables only, or it would hold the shared
    # catalogs until it commits (and wait for any other load holding them, as here).
    counts = seed_demo(scale="XS", seed=1, password="pw")
    assert counts["activities"] > 0


@pytest.mark.django_db(transaction=True)
def test_a_load_outside_a_transaction_leaves_its_tables_vacuumed(shared_catalog_analyzed_elsewhere):
    # As manage.py seed_demo loads: the visibility map set, for the index-only scans of the queues and counts;
    # its own tables only, which no load into another database holds.
    from django.db import connection

    with connection.cursor() as cursor:
        # Vacuumed by this load, not by an earlier test's in the same database.
        cursor.execute("SELECT clock_timestamp()")
        started = cursor.fetchone()[0]
        seed_demo(scale="XS", seed=1, password="pw")
        cursor.execute("SELECT last_vacuum FROM pg_stat_user_tables WHERE relname = 'actionplan_progressupdate'")
        assert cursor.fetchone()[0] >= started
