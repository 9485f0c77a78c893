"""Backup and restore (#17 item 5): the drill on the demo with a compiled report, and each refusal.

The backup reads the database in a snapshot of its own (pg_dump in another process), so these
tests commit their rows: transactional tests, emptied after each.
"""

import hashlib
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import connection
from psycopg2 import sql

from actionplan.models import FocusArea, ReportingPeriod
from portal.demo import seed_demo
from portal.reference import load_reference_data
from steering.models import ProgressReport
from steering.reports import services as report_services
from steering.reports.snapshot import content_hash
from tests import factories
from tests.template_database import server_connection

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)
EVIDENCE = "evidence/2020/07/workshop-attendance.csv"


def _server(name: str):
    return server_connection(connection.settings_dict, name)


def _database_url(name: str) -> str:
    database = connection.settings_dict
    password = f":{database['PASSWORD']}" if database["PASSWORD"] else ""
    return (
        f"postgres://{database['USER']}{password}@{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/{name}"
    )


def _row_counts(name: str) -> dict[str, int]:
    """The number of rows of every table of the database's public schema."""
    with _server(name) as server, server.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
        tables = [table for (table,) in cursor.fetchall()]
        counts = {}
        for table in tables:
            cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
            counts[table] = cursor.fetchone()[0]
    server.close()
    return counts


def _file_hashes(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in root.rglob("*")
        if path.is_file()
    }


def _restore_in_subprocess(backup: Path, *, database: str, media: Path) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "restore", str(backup)],
        cwd=ROOT,
        env={**os.environ, "DEBUG": "true", "DATABASE_URL": _database_url(database), "MEDIA_ROOT": str(media)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def empty_database(postgres):
    """A new database made as an operator makes it (createdb: no table), dropped after the test."""
    name = f"{connection.settings_dict['NAME']}_restore_{uuid.uuid4().hex[:8]}"
    server = _server("postgres")
    server.autocommit = True
    with server.cursor() as cursor:
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield name
    with server.cursor() as cursor:
        cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    server.close()


@pytest.fixture
def backup(postgres, media, tmp_path):
    """A backup of the test database (migrated, nearly empty) and of one evidence file."""
    default_storage.save(EVIDENCE, ContentFile(b"name,office\nAmina,UNODC-ROSEA\n"))
    directory = tmp_path / "backup"
    call_command("backup", str(directory))
    return directory


def test_restore_gives_back_every_row_every_file_and_a_report_whose_hash_verifies(
    media, tmp_path, empty_database, postgres
):
    load_reference_data()
    seed_demo(scale="XS", seed=1, password="pw")
    period = ReportingPeriod.objects.order_by("starts_on").first()
    # One focus area's report (of six): a PDF, a workbook and a snapshot as the whole plan's, in fewer pages.
    area = FocusArea.objects.filter(plan=period.plan).order_by("order").first()
    report = ProgressReport.objects.create(
        plan=period.plan, period=period, focus_area=area, requested_by=User.objects.first()
    )
    assert report_services.compile_report(report_id=report.pk) == "succeeded"
    report.refresh_from_db()
    call_command("backup", str(tmp_path / "backup"))

    restored_media = tmp_path / "restored-media"
    result = _restore_in_subprocess(tmp_path / "backup", database=empty_database, media=restored_media)

    assert result.returncode == 0, result.stderr
    counts = _row_counts(connection.settings_dict["NAME"])
    assert counts["steering_progressreport"] == 1 and counts["actionplan_evidence"] > 0
    assert _row_counts(empty_database) == counts
    files = _file_hashes(media)
    assert any(name.endswith(".pdf") for name in files) and any(name.startswith("evidence/") for name in files)
    assert _file_hashes(restored_media) == files
    with _server(empty_database) as server, server.cursor() as cursor:
        cursor.execute("SELECT snapshot::text, content_hash FROM steering_progressreport WHERE id = %s", [report.pk])
        snapshot, stored_hash = cursor.fetchone()
    server.close()
    assert stored_hash == report.content_hash
    assert content_hash(json.loads(snapshot)) == stored_hash


def test_restore_refuses_a_database_that_is_not_empty_and_writes_no_file(backup, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "other-media"

    with pytest.raises(CommandError, match=r"^Restore refused: database .* is not empty .*createdb, without migrate"):
        call_command("restore", str(backup))

    assert not (tmp_path / "other-media").exists()


def test_restore_refuses_a_storage_holding_another_file_under_a_backups_name(backup, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "other-media"
    default_storage.save(EVIDENCE, ContentFile(b"name,office\nsomeone else's\n"))

    with pytest.raises(CommandError, match=f"^Restore refused: the storage already holds {EVIDENCE} with another"):
        call_command("restore", str(backup))

    assert (tmp_path / "other-media" / EVIDENCE).read_bytes() == b"name,office\nsomeone else's\n"


def test_restore_refuses_a_file_changed_since_the_backup_naming_it(backup):
    copy = backup / "files" / EVIDENCE
    copy.write_bytes(copy.read_bytes().replace(b"Amina", b"Ahmed"))  # the same size, another content

    with pytest.raises(CommandError, match=f"^Restore refused: .*files/{EVIDENCE} has another SHA-256"):
        call_command("restore", str(backup))


def test_restore_refuses_a_file_of_another_size_naming_it(backup):
    with (backup / "files" / EVIDENCE).open("ab") as copy:
        copy.write(b"Ahmed,INTERPOL-LYON\n")

    with pytest.raises(CommandError, match=f"^Restore refused: .*files/{EVIDENCE} is 50 bytes, the manifest says 30"):
        call_command("restore", str(backup))


def test_restore_refuses_a_backup_missing_a_file_naming_it(backup):
    (backup / "files" / EVIDENCE).unlink()

    with pytest.raises(CommandError, match=f"^Restore refused: .*files/{EVIDENCE} is missing"):
        call_command("restore", str(backup))


def test_restore_refuses_a_changed_database_dump(backup):
    with (backup / "database.dump").open("r+b") as dump:
        dump.seek(100)
        byte = dump.read(1)
        dump.seek(100)
        dump.write(bytes([byte[0] ^ 1]))

    with pytest.raises(CommandError, match="^Restore refused: .*database.dump has another SHA-256"):
        call_command("restore", str(backup))


def test_restore_of_an_unreadable_manifest_says_so(backup):
    (backup / "manifest.json").write_text('{"format": 1, "files": [')

    with pytest.raises(CommandError, match=r"^Restore error: .*manifest.json: unreadable \("):
        call_command("restore", str(backup))


def test_restore_of_a_missing_directory_says_so(tmp_path):
    with pytest.raises(CommandError, match=f"^Restore error: {tmp_path / 'nowhere'}: no such directory$"):
        call_command("restore", str(tmp_path / "nowhere"))


def test_restore_answers_pg_restores_refusal_in_one_line_and_leaves_the_database_empty(
    backup, empty_database, tmp_path
):
    # A dump pg_restore cannot read, but that matches a manifest written for it.
    (backup / "database.dump").write_bytes(b"PGDMP but not really a dump")
    manifest = json.loads((backup / "manifest.json").read_text())
    manifest["database"].update(size=27, sha256=hashlib.sha256(b"PGDMP but not really a dump").hexdigest())
    (backup / "manifest.json").write_text(json.dumps(manifest))

    result = _restore_in_subprocess(backup, database=empty_database, media=tmp_path / "restored-media")

    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith("CommandError: Restore error: pg_restore failed: pg_restore: error:")
    assert _row_counts(empty_database) == {}


def test_backup_refuses_a_directory_that_is_not_empty(media, tmp_path, postgres):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("yesterday's")

    with pytest.raises(CommandError, match="^Backup error: .*taken already exists and is not an empty directory"):
        call_command("backup", str(tmp_path / "taken"))


def test_backup_names_a_file_the_database_refers_to_but_the_storage_lacks(media, tmp_path, postgres):
    evidence = factories.EvidenceFactory(file="evidence/2020/07/gone.pdf")

    call_command("backup", str(tmp_path / "backup"))

    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert manifest["missing_files"] == [evidence.file.name]
    assert manifest["files"] == []
    assert manifest["storage"] == "django.core.files.storage.FileSystemStorage"
