"""Back the portal up (its database and every stored file, with a manifest) and restore it.

A backup is a directory::

    manifest.json     what the backup holds: each file's path, size and SHA-256, the database
                      dump's, the migrations applied (the latest of each app), when it was
                      taken and by which versions
    database.dump     the database: ``pg_dump --format=custom`` on PostgreSQL,
    database.json     or ``dumpdata`` (natural keys, every row) on SQLite
    files/<name>      every file of the default storage (local disk or object storage), under
                      its name in the storage

Consistency. The database is read in one snapshot: on PostgreSQL a repeatable-read
transaction exports its snapshot, pg_dump dumps exactly that snapshot (``--snapshot``), and
the same transaction lists the files the rows refer to (every ``FileField``). The files are
copied after that. A file written meanwhile is copied too, and belongs to no row of the dump
(harmless); a file deleted meanwhile (a draft's evidence removed) cannot be copied, and is
named in the manifest under ``missing_files`` and in a warning: the known window.

A restore refuses, before it changes anything, a backup that does not match its manifest
(naming the file), a database that is not empty, and a storage that holds another file
under one of the backup's names. It then writes the files, reads each back to check its
hash, and loads the database (pg_restore in one transaction: all or nothing).
"""

import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import tomllib
import uuid
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import django
from django.apps import apps
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import connection, models, transaction
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

from . import databases, storage

FORMAT = 1
MANIFEST = "manifest.json"
FILES = "files"
DUMPS = {"postgresql": "database.dump", "sqlite": "database.json"}
CHUNK = 1024 * 1024
# libpq reads these from the environment: the password never appears on a command line.
PG_ENVIRONMENT = {"HOST": "PGHOST", "PORT": "PGPORT", "USER": "PGUSER", "PASSWORD": "PGPASSWORD", "NAME": "PGDATABASE"}
PG_OPTIONS = ("sslmode", "sslrootcert", "sslcert", "sslkey", "sslcrl", "passfile", "service", "target_session_attrs")


class BackupError(Exception):
    """A backup or restore that cannot go on; the message is one line for the operator."""


class Refused(BackupError):
    """A restore refused before it changed anything: the backup does not match, or the target is not empty."""


@dataclass
class Summary:
    """What a backup or a restore did, for the command's last line."""

    directory: Path
    database: str
    files: int = 0
    size: int = 0
    skipped: int = 0
    missing: list[str] = field(default_factory=list)
    pending_migrations: list[str] = field(default_factory=list)


# Backup ---------------------------------------------------------------------------------------


def back_up(*, directory: Path) -> Summary:
    """Write a backup of the database and of every stored file into ``directory``, a new or empty one.

    The backup is written beside it under a temporary name and renamed into place when
    complete: a directory named like the backup is always a whole one.
    """
    directory = Path(directory).absolute()
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise BackupError(f"{directory} already exists and is not an empty directory; name a new one")
    if connection.vendor not in DUMPS:
        raise BackupError(f"cannot back up a {connection.vendor} database (PostgreSQL or SQLite only)")
    directory.parent.mkdir(parents=True, exist_ok=True)
    work = directory.parent / f".{directory.name}.partial-{uuid.uuid4().hex[:8]}"
    started = timezone.now()
    try:
        work.mkdir()
        dump = work / DUMPS[connection.vendor]
        referenced, migrations = _dump_database(dump)
        files = list(_copy_stored_files(work / FILES))
        copied = {entry["path"] for entry in files}
        missing = sorted(referenced - copied)
        manifest = {
            "format": FORMAT,
            "started_at": started.isoformat(),
            "finished_at": timezone.now().isoformat(),
            "versions": _versions(),
            "database": {
                "vendor": connection.vendor,
                "name": connection.settings_dict["NAME"] if connection.vendor == "postgresql" else "",
                "file": dump.name,
                "size": dump.stat().st_size,
                "sha256": _sha256_of_path(dump),
            },
            "migrations": migrations,
            "storage": settings.STORAGES["default"]["BACKEND"],
            "files": files,
            "missing_files": missing,
        }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        if directory.exists():
            directory.rmdir()
        work.rename(directory)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return Summary(
        directory=directory,
        database=databases.label(),
        files=len(files),
        size=sum(entry["size"] for entry in files),
        missing=missing,
    )


def _dump_database(path: Path) -> tuple[set[str], dict[str, str]]:
    """Dump the database to ``path``; return the stored files its rows name and its migrations, of the same moment."""
    if connection.in_atomic_block:
        raise BackupError("cannot back up inside a transaction: the dump must be of one snapshot of its own")
    if connection.vendor == "sqlite":
        # One read transaction: SQLite lets no write in between (or, with WAL, shows none).
        with transaction.atomic():
            call_command(
                "dumpdata", natural_foreign=True, natural_primary=True, use_base_manager=True,
                output=str(path), verbosity=0,
            )  # fmt: skip
            return _referenced_files(), _applied_migrations()
    pg_dump = _tool("pg_dump")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        (snapshot,) = cursor.fetchone()
        # pg_dump imports the snapshot while this transaction holds it open, and reads what it reads.
        process = subprocess.Popen(  # noqa: S603 (fixed arguments; the password is in the environment)
            [pg_dump, "--format=custom", "--no-password", f"--snapshot={snapshot}", f"--file={path}"],
            env=_pg_environment(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            referenced, migrations = _referenced_files(), _applied_migrations()
        finally:
            _, errors = process.communicate()
    if process.returncode:
        raise BackupError(f"pg_dump failed: {_first_error(errors, process.returncode)}")
    return referenced, migrations


def _referenced_files() -> set[str]:
    """Every name of a stored file that a row of the portal holds (each model's ``FileField``)."""
    names = set()
    for model in apps.get_models():
        for file_field in model._meta.concrete_fields:
            if isinstance(file_field, models.FileField):
                rows = model._base_manager.exclude(**{file_field.attname: ""}).exclude(**{file_field.attname: None})
                names.update(rows.values_list(file_field.attname, flat=True))
    return names


def _applied_migrations() -> dict[str, str]:
    """The latest migration applied of each app, in the order they were applied."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT app, name FROM django_migrations ORDER BY id")
        return dict(cursor.fetchall())


def stored_files():
    """Yield the name of every file of the default storage."""
    for folder, names in storage.walk():
        for name in names:
            yield f"{folder}/{name}" if folder else name


def _copy_stored_files(destination: Path):
    for name in stored_files():
        target = _inside(destination, name)
        target.parent.mkdir(parents=True, exist_ok=True)
        digest, size = hashlib.sha256(), 0
        try:
            with default_storage.open(name, "rb") as source, target.open("wb") as copy:
                while chunk := source.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    copy.write(chunk)
        except FileNotFoundError:
            target.unlink(missing_ok=True)
            continue  # deleted since it was listed: reported if a row of the dump names it
        yield {"path": name, "size": size, "sha256": digest.hexdigest()}


def _versions() -> dict[str, str]:
    versions = {"python": platform.python_version(), "django": django.get_version()}
    pyproject = Path(settings.BASE_DIR) / "pyproject.toml"
    if pyproject.exists():
        versions["portal"] = tomllib.loads(pyproject.read_text())["project"]["version"]
    if connection.vendor == "postgresql":
        server = connection.pg_version
        versions["postgresql"] = f"{server // 10000}.{server % 10000}"
        versions["pg_dump"] = subprocess.run(  # noqa: S603
            [_tool("pg_dump"), "--version"], capture_output=True, text=True, check=False
        ).stdout.strip()
    else:
        versions["sqlite"] = connection.Database.sqlite_version
    return versions


# Restore --------------------------------------------------------------------------------------


def read_manifest(directory: Path) -> dict:
    """Read and check the shape of a backup's manifest; refuse a directory that holds no readable one."""
    directory = Path(directory)
    if not directory.is_dir():
        raise BackupError(f"{directory}: no such directory")
    try:
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(f"{directory / MANIFEST}: missing; this is not a backup of the portal") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BackupError(f"{directory / MANIFEST}: unreadable ({error})") from None
    problem = _manifest_problem(manifest)
    if problem:
        raise BackupError(f"{directory / MANIFEST}: unreadable ({problem})")
    return manifest


def _manifest_problem(manifest) -> str:
    def entry_problem(entry, fields) -> str:
        if not isinstance(entry, dict) or not all(key in entry for key in fields):
            return f"an entry lacks one of {', '.join(fields)}"
        if not isinstance(entry["size"], int) or not re.fullmatch(r"[0-9a-f]{64}", str(entry["sha256"])):
            return f"{entry.get('path') or entry.get('file')}: size or sha256 is not valid"
        return ""

    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        return f"not a backup manifest of format {FORMAT}"
    if not isinstance(manifest.get("migrations"), dict) or not isinstance(manifest.get("files"), list):
        return "migrations or files missing"
    database = manifest.get("database")
    if problem := entry_problem(database, ("vendor", "file", "size", "sha256")):
        return f"database: {problem}"
    if database["file"] != DUMPS.get(database["vendor"]):
        return f"database: unknown vendor or file {database['vendor']!r}, {database['file']!r}"
    for entry in manifest["files"]:
        if problem := entry_problem(entry, ("path", "size", "sha256")):
            return problem
        if not _safe_name(entry["path"]):
            return f"{entry['path']!r} is not a relative file name"
    return ""


def check_backup(directory: Path, manifest: dict):
    """Refuse a backup whose dump or one of whose files is missing, or of another size or SHA-256, naming it."""
    database = manifest["database"]
    _check_copy(Path(directory) / database["file"], database["file"], database)
    for entry in manifest["files"]:
        name = f"{FILES}/{entry['path']}"
        _check_copy(_inside(Path(directory) / FILES, entry["path"]), name, entry)


def _check_copy(path: Path, name: str, entry: dict):
    if not path.is_file():
        raise Refused(f"backup does not match its manifest: {name} is missing")
    size = path.stat().st_size
    if size != entry["size"]:
        raise Refused(f"backup does not match its manifest: {name} is {size} bytes, the manifest says {entry['size']}")
    if _sha256_of_path(path) != entry["sha256"]:
        raise Refused(f"backup does not match its manifest: {name} has another SHA-256 than the manifest's")


def restore(*, directory: Path) -> Summary:
    """Restore a backup into an empty database and the default storage; check every file written.

    Nothing is changed until the backup matches its manifest, the database is empty and the
    storage holds no other file under the backup's names. Files already in the storage with
    the very content of the backup's are left as they are, so that a restore stopped after
    the files (the database refused the dump) can be run again.
    """
    directory = Path(directory).absolute()
    manifest = read_manifest(directory)
    check_backup(directory, manifest)
    vendor = manifest["database"]["vendor"]
    if vendor != connection.vendor:
        raise Refused(f"this is a backup of a {vendor} database; it cannot be restored into {connection.vendor}")
    present = _files_present(manifest["files"])
    _check_database_empty()
    if connection.vendor == "sqlite":
        _check_sqlite_migrations(manifest["migrations"])

    summary = Summary(directory=directory, database=databases.label())
    for entry in manifest["files"]:
        if entry["path"] in present:
            summary.skipped += 1
            continue
        _write_stored_file(_inside(directory / FILES, entry["path"]), entry)
        summary.files += 1
        summary.size += entry["size"]
    _load_database(directory / manifest["database"]["file"])

    restored = _applied_migrations()
    if restored != manifest["migrations"]:
        raise BackupError("the database restored does not hold the migrations the manifest lists")
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    summary.pending_migrations = sorted(
        f"{app}.{name}" for app, name in loader.graph.leaf_nodes() if (app, name) not in loader.applied_migrations
    )
    summary.missing = manifest.get("missing_files") or []
    return summary


def _check_database_empty():
    tables = connection.introspection.table_names()
    if tables:
        raise Refused(
            f"{databases.label()} is not empty ({len(tables)} tables, {tables[0]} among them); "
            "restore into a new, empty database (createdb, without migrate)"
        )


def _check_sqlite_migrations(migrations: dict[str, str]):
    """Refuse an SQLite backup of other migrations than the code's: dumpdata's rows fit only their own tables."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    leaves = dict(loader.graph.leaf_nodes())
    if leaves != migrations:
        differing = sorted(set(leaves.items()) ^ set(migrations.items()))
        app, name = differing[0]
        raise Refused(
            f"this SQLite backup was taken at other migrations than this code's ({app}.{name} among others); "
            "restore it with the portal's version it was taken with"
        )


def _files_present(entries: list[dict]) -> set[str]:
    """The backup's files already in the storage with the same content; refuse one held with another content."""
    present = set()
    for entry in entries:
        if not default_storage.exists(entry["path"]):
            continue
        with default_storage.open(entry["path"], "rb") as stored:
            if _sha256_of(stored) != entry["sha256"]:
                raise Refused(
                    f"the storage already holds {entry['path']} with another content; restore into an empty storage"
                )
        present.add(entry["path"])
    return present


def _write_stored_file(source: Path, entry: dict):
    with source.open("rb") as handle:
        saved = default_storage.save(entry["path"], File(handle, name=entry["path"]))
    if saved != entry["path"]:
        raise BackupError(f"the storage saved {entry['path']} as {saved}; restore into an empty storage")
    with default_storage.open(saved, "rb") as stored:
        if _sha256_of(stored) != entry["sha256"]:
            raise BackupError(f"{entry['path']}: the storage gave back another content than was written")


def _load_database(dump: Path):
    if connection.vendor == "sqlite":
        # The tables as the backup's migrations (the code's, checked) make them; loaddata loads in one transaction.
        call_command("migrate", verbosity=0, interactive=False)
        call_command("loaddata", str(dump), verbosity=0)
        return
    pg_restore = _tool("pg_restore")
    # One transaction: a dump the database refuses leaves it as empty as it was (and a restore can be run again).
    result = subprocess.run(  # noqa: S603 (fixed arguments; the password is in the environment)
        [pg_restore, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", "--no-password",
         f"--dbname={connection.settings_dict['NAME']}", str(dump)],
        env=_pg_environment(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    if result.returncode:
        raise BackupError(f"pg_restore failed: {_first_error(result.stderr, result.returncode)}")
    connection.close()  # the restored schema: nothing cached from the empty database


# Shared ---------------------------------------------------------------------------------------


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} not found on PATH; install the PostgreSQL client of the server's major version")
    return path


def _pg_environment() -> dict[str, str]:
    database = connection.settings_dict
    environment = dict(os.environ)  # PGSSLMODE and the like apply to pg_dump as they do to Django's connection
    for key, variable in PG_ENVIRONMENT.items():
        if database.get(key):
            environment[variable] = str(database[key])
    for option in PG_OPTIONS:
        if database.get("OPTIONS", {}).get(option):
            environment[f"PG{option.upper()}"] = str(database["OPTIONS"][option])
    environment["PGAPPNAME"] = "portal-backup"
    return environment


def _first_error(stderr: str, returncode: int) -> str:
    lines = [line.strip() for line in (stderr or "").splitlines() if line.strip()]
    for line in lines:
        if "error" in line.lower() or "fatal" in line.lower():
            return " ".join(line.split())
    return " ".join(lines[0].split()) if lines else f"exit status {returncode}"


def _safe_name(name) -> bool:
    path = PurePosixPath(str(name))
    return bool(name) and not path.is_absolute() and ".." not in path.parts and "\\" not in str(name)


def _inside(root: Path, name: str) -> Path:
    if not _safe_name(name):
        raise BackupError(f"{name!r} is not a relative file name")
    return root.joinpath(*PurePosixPath(name).parts)


def _sha256_of(handle) -> str:
    digest = hashlib.sha256()
    while chunk := handle.read(CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def _sha256_of_path(path: Path) -> str:
    with path.open("rb") as handle:
        return _sha256_of(handle)
