"""Each test database copied from a migrated template instead of migrated anew.

Migrating an empty database takes some 6 s of both cores at the start of every run (each pytest-xdist
worker migrates its own). PostgreSQL copies a database in a fraction of that: the first run
migrates a template database named after what decides its content (every migration of the project and
the pinned libraries, whose migrations run too), and every later run, and every worker, starts
from a copy of it. Django then runs ``migrate`` on the copy as usual, which finds nothing to apply.

The template is migrated under an advisory lock, so that two workers starting together build it
once, and under a temporary name renamed when complete, so that a run stopped half-way leaves no
half-migrated template behind. Templates of earlier migrations are dropped.
"""

import contextlib
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import psycopg2
from psycopg2 import sql

ROOT = Path(__file__).resolve().parents[1]
# pg_advisory_lock's key: any number the project uses for nothing else.
LOCK = 7_301_842_018


def _content_key() -> str:
    digest = hashlib.sha256()
    for path in sorted([*ROOT.glob("*/migrations/*.py"), ROOT / "requirements.txt"]):
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def server_connection(settings_dict: dict, name: str = "postgres"):
    """A connection to the database ``name`` of the server ``settings_dict`` names (by default its ``postgres``
    database, from which other databases are created, copied and dropped)."""
    return psycopg2.connect(
        host=settings_dict["HOST"] or "127.0.0.1",
        port=settings_dict["PORT"] or 5432,
        user=settings_dict["USER"],
        password=settings_dict["PASSWORD"] or None,
        dbname=name,
    )


def _url(settings_dict: dict, name: str) -> str:
    password = f":{settings_dict['PASSWORD']}" if settings_dict["PASSWORD"] else ""
    host = f"{settings_dict['HOST'] or '127.0.0.1'}:{settings_dict['PORT'] or 5432}"
    return f"postgres://{settings_dict['USER']}{password}@{host}/{name}"


def migrated_template(settings_dict: dict) -> str | None:
    """Return the name of the template database for these migrations, migrating it first if need be.

    None when PostgreSQL cannot be reached: the test database is then created as Django creates it,
    and fails or is skipped as before.
    """
    # CI names its database anew for each run and keeps the template under a name of its own across runs.
    prefix = os.environ.get("TEST_TEMPLATE_PREFIX") or f"{settings_dict['NAME']}_template_"
    name = f"{prefix}{_content_key()}"
    try:
        server = server_connection(settings_dict)
    except psycopg2.OperationalError:
        return None
    server.autocommit = True
    with contextlib.closing(server), server.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [LOCK])
        try:
            cursor.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", [prefix.replace("_", r"\_") + "%"])
            existing = {row[0] for row in cursor.fetchall()}
            for stale in existing - {name}:
                cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(stale)))
            if name not in existing:
                _migrate(cursor, settings_dict, name)
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [LOCK])
    return name


def _migrate(cursor, settings_dict: dict, name: str) -> None:
    building = f"{name}_building"
    cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(building)))
    cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(building)))
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT, check=True, env={**os.environ, "DEBUG": "true", "DATABASE_URL": _url(settings_dict, building)},
    )  # fmt: skip
    cursor.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(sql.Identifier(building), sql.Identifier(name)))
