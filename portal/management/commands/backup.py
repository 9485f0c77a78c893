from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from portal.backup import BackupError, back_up


class Command(BaseCommand):
    help = (
        "Back up the database (pg_dump, or dumpdata on SQLite) and every stored file into a new directory, "
        "with a manifest of their SHA-256."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path, help="a directory that does not exist yet (or is empty)")

    def handle(self, *args, directory, **options):
        try:
            summary = back_up(directory=directory)
        except BackupError as error:
            raise CommandError(f"Backup error: {error}") from None
        if summary.missing:
            self.stderr.write(
                f"Warning: {len(summary.missing)} files named by the database were deleted before they could be "
                f"copied (manifest.json, missing_files): {', '.join(summary.missing[:5])}"
            )
        self.stdout.write(
            f"Backed up {summary.database} and {summary.files} files ({summary.size} bytes) into {summary.directory}."
        )
