"""`make bench` runs end to end: its own database, a real server on 127.0.0.1, results on disk."""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg2
import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def bench_database_url(postgres, redis_url):
    settings_dict = connection.settings_dict
    name = f"jap_bench_test_{uuid.uuid4().hex[:8]}"
    server = f"{settings_dict['USER']}@{settings_dict['HOST']}:{settings_dict['PORT'] or 5432}"
    yield f"postgres://{server}/{name}"
    admin = psycopg2.connect(
        host=settings_dict["HOST"], port=settings_dict["PORT"] or 5432, user=settings_dict["USER"], dbname="postgres"
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def test_benchmark_at_scale_xs_times_pages_and_reports_and_writes_its_results(bench_database_url, redis_url, tmp_path):
    output = tmp_path / "results.json"
    finished = subprocess.run(
        [sys.executable, "manage.py", "benchmark", "--scale", "XS", "--rounds", "2", "--output", str(output)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "DEBUG": "true", "DATABASE_URL": bench_database_url, "REDIS_URL": redis_url},
    )  # fmt: skip

    assert finished.returncode == 0, finished.stdout + finished.stderr
    results = json.loads(output.read_text())
    names = {row["name"] for row in results["pages"]}
    assert {"dashboard, whole plan and each focus area", "activity register", "API updates, first page"} <= names
    assert all(row["requests"] >= 2 and row["p95_ms"] > 0 for row in results["pages"])
    whole_plan = next(row for row in results["reports"] if row["name"] == "report, whole plan")
    assert whole_plan["met"] and whole_plan["peak_mb"] > 0
