"""Run the README's field-office integration guide as written, with bash and curl, against a live server."""

import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.conftest import require_service

README = Path(__file__).resolve().parent.parent / "README.md"
SECTION = "## Field-office integration guide"
STEP = "::guide-step::"


def guide_blocks() -> list[str]:
    text = README.read_text(encoding="utf-8")
    assert SECTION in text, f"README.md has no {SECTION!r} section"
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^```sh\n(.*?)^```$", section, flags=re.DOTALL | re.MULTILINE)


def issue_token_as_written(setup: str) -> str:
    """Run the guide's ``issue_token`` line in this process: a subprocess would not see the test database."""
    match = re.search(r"^TOKEN=\$\((python manage\.py issue_token .*)\)$", setup, flags=re.MULTILINE)
    assert match, f"the first block must set TOKEN with manage.py issue_token:\n{setup}"
    out = io.StringIO()
    call_command(*shlex.split(match.group(1))[2:], stdout=out)
    return out.getvalue().strip()


def run_steps(steps: list[str], *, portal: str, token: str, cwd: Path) -> list[str]:
    """Run the blocks in sequence in one bash script; return what each printed."""
    script = "set -eu -o pipefail\n" + "".join(f"echo '{STEP}'\n{step}" for step in steps)
    # python3 is the virtualenv's here; a field office has its own.
    path = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "/usr/bin:/bin")])
    env = {"PATH": path, "HOME": str(cwd), "LANG": "C.UTF-8", "PORTAL": portal, "TOKEN": token}
    done = subprocess.run(["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"the guide failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return [output.strip() for output in done.stdout.split(STEP + "\n")[1:]]


def test_the_integration_guide_runs_as_written(live_server, transactional_db, tmp_path):
    if shutil.which("curl") is None:
        require_service("curl is not installed (apt-get install curl): the guide's examples use it")
    from django.contrib.auth import get_user_model

    from actionplan import figures
    from actionplan.models import Activity, Indicator, ProgressUpdate, ReportingPeriod
    from portal.demo import seed_demo
    from portal.reference import load_reference_data

    # The demo data of `make run` (seed 2018), which the guide's codes come from.
    load_reference_data()
    seed_demo(scale="S", seed=2018, password="pw")
    reporter = get_user_model().objects.get(username="reporter.unodc-roseap")

    setup, *steps = guide_blocks()
    assert re.search(r"^PORTAL=\S+$", setup, flags=re.MULTILINE), setup
    token = issue_token_as_written(setup)
    assert len(steps) == 10, steps
    listed, created, retried, changed, stale, submitted, figured, attached, full_read, synced = run_steps(
        steps, portal=live_server.url, token=token, cwd=tmp_path
    )

    # 2. The list is the reporter's own activities.
    page = json.loads(listed)
    visible = set(Activity.objects.visible_to(reporter).values_list("code", flat=True))
    assert page["count"] == len(visible)
    assert len(page["results"]) == 2
    assert {activity["code"] for activity in page["results"]} <= visible

    # 3 and 4. One update, despite the retry, which answered the same update again.
    assert created == "201"
    assert retried == "201 replayed=true"
    first = json.loads((tmp_path / "created.json").read_text())
    again = json.loads((tmp_path / "retried.json").read_text())
    assert again["id"] == first["id"]
    current = ReportingPeriod.objects.filter(state="open").order_by("-starts_on").first()
    update = ProgressUpdate.objects.get(activity__code="FCJ-3.3", period=current, office__code="UNODC-ROSEAP")
    assert str(update.pk) == first["id"]
    rows = sorted(update.measurements.values_list("indicator__code", "sex", "value"))
    assert rows == [("FCJ-3.3-I3", "", 30), ("FCJ-3.3-I3", "female", 12), ("FCJ-3.3-I3", "male", 18)]

    # 5. The conditional change went through and moved the version on.
    assert changed == '200 etag="2"'

    # 6. The stale one was refused and changed nothing.
    body, status = stale.rsplit("\n", 1)
    assert status == "412"
    refusal = json.loads(body)
    assert refusal["code"] == "stale_version"
    assert refusal["current_version"] == 2

    # 7. Submitted for review (step 9 withdraws it again, to attach a file).
    assert submitted == "200"
    answered = json.loads((tmp_path / "submitted.json").read_text())
    assert (answered["state"], answered["percent_complete"], answered["version"]) == ("submitted", 60, 3)

    # 8. The indicator's figure at the current period, as the one rule computes it.
    answer = json.loads(figured)
    assert (answer["indicator"], answer["figure"]["period"]) == ("FCJ-3.3-I3", current.code)
    indicator = Indicator.objects.get(code="FCJ-3.3-I3")
    expected = figures.figures(Indicator.objects.filter(pk=indicator.pk), [current])[(indicator.pk, current.pk, "")]
    assert answer["figure"]["value"] == f"{expected.value:.2f}"

    # 9. A full read, then an incremental one after the file went: the copy is what a full read gives now.
    mine = ProgressUpdate.objects.visible_to(reporter)
    assert attached == ""
    assert full_read == f"full read: {mine.count()} updates"
    assert re.fullmatch(r"changed: [1-9][0-9]*, deleted: evidence", synced), synced
    copy = json.loads((tmp_path / "copy.json").read_text())["updates"]
    assert set(copy) == {str(pk) for pk in mine.values_list("pk", flat=True)}
    assert copy[first["id"]]["evidence"] == [] and copy[first["id"]]["state"] == "draft"
    update.refresh_from_db()
    assert copy[first["id"]]["updated_at"] == update.updated_at.isoformat().replace("+00:00", "Z")


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 410, 412, 413, 415, 422, 428, 429])
def test_the_guide_explains_every_error_status(status):
    section = README.read_text(encoding="utf-8").split(SECTION, 1)[1].split("\n## ", 1)[0]
    assert re.search(rf"^\| {status} \| \S", section, flags=re.MULTILINE), f"no row for {status}"
