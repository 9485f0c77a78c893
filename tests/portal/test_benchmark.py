"""`make bench` runs end to end: its own database, a real server on 127.0.0.1 with its floors, results on disk.

The figures of the smoke test mean nothing (scale XS, 2 requests a measure, a machine busy with
other tests): it proves that every measure runs and is recorded, never how fast.
"""

import importlib
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg2
import pytest
from django.db import connection
from django.urls import clear_url_caches

from portal.bench import floors, markdown
from tests.template_database import server_connection

ROOT = Path(__file__).resolve().parents[2]
FLOOR_PATHS = [f"/benchmark-floors/{pattern.pattern}" for pattern in floors.urlpatterns]


@pytest.fixture
def bench_database_url(postgres, redis_url, transactional_db):
    settings_dict = connection.settings_dict
    # Named after the configured database (test_jap_t1 → jap_t1_bench_…): runs on one server stay apart.
    name = f"{settings_dict['NAME'].removeprefix('test_')}_bench_{uuid.uuid4().hex[:8]}"
    server = f"{settings_dict['USER']}@{settings_dict['HOST']}:{settings_dict['PORT'] or 5432}"
    admin = server_connection(settings_dict)
    admin.autocommit = True
    # A copy of a migrated database spares the benchmark's own migrate its quarter of a minute (it still runs, and
    # finds nothing to do): the template the test databases are copied from (tests/template_database.py), else
    # the test database, migrated and empty between tests. PostgreSQL copies a database no one is connected to:
    # this test's connection is closed first; should another be open, the benchmark migrates.
    migrated = settings_dict["TEST"].get("TEMPLATE") or settings_dict["NAME"]
    connection.close()
    with admin.cursor() as cursor:
        try:
            cursor.execute(f'CREATE DATABASE "{name}" TEMPLATE "{migrated}"')
        except psycopg2.errors.ObjectInUse:
            pass
    yield f"postgres://{server}/{name}"
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def test_benchmark_at_scale_xs_measures_pages_api_floors_and_reports_and_writes_its_results(
    bench_database_url, redis_url, tmp_path
):
    output, record = tmp_path / "results.json", tmp_path / "BENCHMARKS.md"
    command = ["benchmark", "--scale", "XS", "--rounds", "2", "--concurrent-rounds", "1", "--skip-focus-area-report"]
    command.append("--allow-misses")
    finished = subprocess.run(
        [sys.executable, "manage.py", *command, "--output", str(output), "--markdown", str(record)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "DEBUG": "true", "DATABASE_URL": bench_database_url, "REDIS_URL": redis_url},
    )  # fmt: skip

    assert finished.returncode == 0, finished.stdout + finished.stderr
    # The server's request lines go to its log beside the results, not among the figures printed.
    assert '"request_finished"' in (tmp_path / "server-XS.log").read_text()
    assert "request_finished" not in finished.stdout + finished.stderr
    results = json.loads(output.read_text())
    pages, api = {row["name"] for row in results["pages"]}, {row["name"] for row in results["api"]}
    assert {
        "dashboard, cached (whole plan and each focus area)",
        "dashboard, first view after an approval (whole plan)",
        "dashboard, first view after a submission (whole plan)",
        "dashboard, first view after a change to the plan (whole plan)",
        "register, default",
        "register, search q=border",
        "register, RAG off track, by progress",
        "register, page 50",
        "register, sort=-progress",
        "activity page",
        "home, programme officer",
        "home, field reporter",
    } <= pages
    assert {f"register, {name}=" for name in ("focus_area", "office", "country", "tag", "as_of")} <= {
        name.partition("=")[0] + "=" for name in pages
    }
    assert {"API activities, first page", "API updates, first page", "API create update (POST, idempotency key)"} <= api
    assert any(name.startswith("API bulk create") for name in api)
    # Each page and API read is measured by 1 user and by 4 at once, beside its floor at as many users.
    for row in results["pages"] + results["api"]:
        assert row["requests"] >= 1 and row["p95_ms"] > 0 and row["requests_per_second"] > 0
    for name in pages | {"API activities, first page", "API updates, first page"}:
        rows = [row for row in results["pages"] + results["api"] if row["name"] == name]
        assert sorted(row["users"] for row in rows) == [1, 4], name
        assert all(row["floor"] and row["ratio"] > 0 for row in rows), name
    targeted = [row for row in results["pages"] + results["api"] if "target" in row]
    assert targeted and all(isinstance(row["met"], bool) for row in targeted)
    floor_names = {row["name"] for row in results["floors"]}
    assert {
        "static file (whitenoise)",
        "Django view",
        "login-required view",
        "DRF view, token + throttle",
        "DRF POST, token + throttle",
        "DRF values(): activities, first page",
        "DRF values(): updates, first page",
        "SQL of the dashboard (whole plan)",
        "SQL of the report snapshot (whole plan)",
    } <= floor_names
    assert all(row["statements"] > 0 for row in results["floors"] if row["kind"] == "sql")
    whole_plan = next(row for row in results["reports"] if row["name"] == "report, whole plan")
    assert whole_plan["peak_mb"] > 0 and whole_plan["floor_seconds"] > 0 and isinstance(whole_plan["met"], bool)
    assert results["machine"]["cores"] >= 1 and results["versions"]["postgresql"]
    assert len(results["load_average"]["before"]) == 3

    written = record.read_text()
    for heading in ("## Scale XS", "### Pages", "### API", "### Reports", "### Floors", "## What limits each figure"):
        assert heading in written
    assert "<!-- benchmark XS begin -->" in written and "<!-- benchmark XS end -->" in written


def test_a_run_rewrites_only_its_own_scale_in_benchmarks_md(tmp_path, monkeypatch):
    record = tmp_path / "BENCHMARKS.md"
    monkeypatch.setattr(markdown, "section", lambda results: f"## Scale {results['scale']}\n\n{results['figure']}\n")
    scales = ["S", "M", "L"]

    markdown.write(record, {"scale": "L", "figure": "first L"}, scales)
    record.write_text(record.read_text().replace("_To be written by hand", "Mostly SQL.\n\n_To be written by hand"))
    markdown.write(record, {"scale": "S", "figure": "first S"}, scales)
    markdown.write(record, {"scale": "L", "figure": "second L"}, scales)
    markdown.write(record, {"scale": "L", "figure": "third L"}, scales)

    text = record.read_text()
    assert "first L" not in text and "second L" not in text and text.count("third L") == 1
    assert text.index("first S") < text.index("third L") < text.index("## What limits each figure")
    assert "Mostly SQL." in text
    # Rewriting a section leaves the file's layout alone: no blank lines pile up.
    assert "\n\n\n" not in text


def test_benchmarks_md_shows_the_scales_side_by_side_smallest_first(tmp_path, monkeypatch):
    from portal.demo import SCALES

    record = tmp_path / "BENCHMARKS.md"
    monkeypatch.setattr(markdown, "section", lambda results: f"## Scale {results['scale']}\n")
    for scale in ("L", "XL", "S", "M", "XL"):
        markdown.write(record, {"scale": scale}, list(SCALES))

    text = record.read_text()
    headings = [line for line in text.splitlines() if line.startswith("## Scale")]
    assert headings == ["## Scale S", "## Scale M", "## Scale L", "## Scale XL"]
    assert text.index("## Scale XL") < text.index("## What limits each figure")


@pytest.fixture
def floors_mounted(settings):
    """The portal's addresses as the benchmark's server has them: with its floors."""
    from portal import urls

    settings.BENCHMARK_FLOORS = True
    importlib.reload(urls)
    clear_url_caches()
    yield
    settings.BENCHMARK_FLOORS = False
    importlib.reload(urls)
    clear_url_caches()


@pytest.mark.parametrize("path", FLOOR_PATHS)
def test_the_benchmark_floors_are_not_served_without_benchmark_floors(client, db, settings, path):
    assert settings.BENCHMARK_FLOORS is False
    assert client.get(path).status_code == 404
    assert client.post(path, {}, content_type="application/json").status_code == 404


def test_the_benchmark_floors_are_served_when_the_benchmark_turns_them_on(client, db, floors_mounted):
    assert client.get("/benchmark-floors/plain/").json() == {"ok": True}
    # Behind the same sign-in and API authentication as the pages and the API they are compared with.
    assert client.get("/benchmark-floors/signed-in/").status_code == 302
    assert client.get("/benchmark-floors/api/").status_code == 401


def test_a_benchmark_session_signs_in_through_the_form_without_loading_the_page_it_leads_to(
    live_server, amina, fresh_counters
):
    from django.core.signals import request_started

    from portal.bench import harness
    from tests.conftest import AMINA_PASSWORD

    served = []

    def record(sender, environ, **kwargs):
        served.append((environ["REQUEST_METHOD"], environ["PATH_INFO"]))

    request_started.connect(record)
    try:
        client = harness.signed_in(live_server.url, "amina", AMINA_PASSWORD)
        # A dozen sessions are signed in before anything is timed: a home page rendered for each is no part of it.
        assert served == [("GET", "/accounts/login/"), ("POST", "/accounts/login/")]
        status, body, _ = client.get("/")
        assert status == 200 and b'name="password"' not in body
        with pytest.raises(RuntimeError, match="amina could not sign in"):
            harness.signed_in(live_server.url, "amina", "not-her-password")
    finally:
        request_started.disconnect(record)
