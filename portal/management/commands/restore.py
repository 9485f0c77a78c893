from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from portal.backup import BackupError, Refused, restore


class Command(BaseCommand):
    help = (
        "Restore a backup written by the backup command into an empty database (createdb, without migrate) "
        "and the storage, after checking it against its manifest."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path, help="the backup's directory (holding manifest.json)")

    def handle(self, *args, directory, **options):
        try:
            summary = restore(directory=directory)
        except Refused as error:
            raise CommandError(f"Restore refused: {error}") from None
        except BackupError as error:
            raise CommandError(f"Restore error: {error}") from None
        kept = f", {summary.skipped} already there" if summary.skipped else ""
        self.stdout.write(
            f"Restored {summary.database} and {summary.files} files ({summary.size} bytes{kept}) "
            f"from {summary.directory}; every file's SHA-256 checked."
        )
        if summary.missing:
            self.stderr.write(
                f"Warning: {len(summary.missing)} files named by the database were not in the backup "
                f"(deleted while it was taken): {', '.join(summary.missing[:5])}"
            )
        if summary.pending_migrations:
            self.stdout.write(
                f"The backup predates {len(summary.pending_migrations)} migrations of this code: "
                "run manage.py migrate next."
            )
