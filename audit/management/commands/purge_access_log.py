from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from audit.services import purge_access_log


class Command(BaseCommand):
    help = "Delete access-log events older than ACCESS_LOG_DAYS days (or --days); print how many."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None, help="days to keep (default: ACCESS_LOG_DAYS)")

    def handle(self, *args, days, **options):
        days = settings.ACCESS_LOG_DAYS if days is None else days
        if days < 1:
            raise CommandError("--days: keep at least 1 day")
        deleted = purge_access_log(days=days)
        self.stdout.write(f"{deleted} access events older than {days} days deleted")
