"""Demo data: deterministic, realistic, loaded once."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from actionplan.models import Activity, Measurement, ProgressUpdate
from portal.demo import DemoDataExists, seed_demo
from portal.reference import load_reference_data

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def reference(db):
    load_reference_data()


def fingerprint(seed):
    """Load the demo data, describe it, and roll it back."""
    with transaction.atomic():
        counts = seed_demo(scale="S", seed=seed, password="pw")
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
    seed_demo(scale="S", seed=1, password="s3cret-demo")
    for username in ("admin", "officer", "committee", "secretary", "reporter.unodc-roseap"):
        assert client.login(username=username, password="s3cret-demo"), username


def test_every_field_office_has_a_reporter():
    from portal.models import Office

    seed_demo(scale="S", seed=1, password="pw")
    for office in Office.objects.exclude(kind=Office.Kind.HEADQUARTERS):
        assert office.memberships.filter(user__username=f"reporter.{office.code.lower()}").exists()


def test_second_load_is_refused_and_adds_nothing():
    seed_demo(scale="S", seed=1, password="pw")
    count = Activity.objects.count()
    with pytest.raises(DemoDataExists):
        seed_demo(scale="S", seed=1, password="pw")
    assert Activity.objects.count() == count


def test_if_empty_makes_a_second_load_a_quiet_success(capsys):
    call_command("seed_demo", "--if-empty")
    count = Activity.objects.count()
    call_command("seed_demo", "--if-empty")
    assert Activity.objects.count() == count
    assert "already loaded" in capsys.readouterr().out


@pytest.mark.parametrize(
    "arguments, named",
    [(["--scale", "XL"], "--scale"), (["--seed", "abc"], "--seed"), (["--password", ""], "--password")],
)
def test_bad_argument_is_refused_naming_it(arguments, named):
    with pytest.raises(CommandError, match=named):
        call_command("seed_demo", *arguments)
    assert not Activity.objects.exists()


def test_bad_argument_exits_non_zero_with_one_line():
    result = subprocess.run(
        [sys.executable, "manage.py", "seed_demo", "--scale", "XL"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "DEBUG": "true"},
    )
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == ["CommandError: --scale: unknown scale 'XL'; choose one of S, M, L"]
