from django.conf import settings
from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from audit.services import purge_access_log
from portal.management.translated import TranslatedCommand


class Command(TranslatedCommand):
    help = "Delete access-log events older than ACCESS_LOG_DAYS days (or --days); print how many."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None, help="days to keep (default: ACCESS_LOG_DAYS)")

    def handle(self, *args, days, **options):
        days = settings.ACCESS_LOG_DAYS if days is None else days
        if days < 1:
            raise CommandError(_("--days: keep at least 1 day"))
        deleted = purge_access_log(days=days)
        self.stdout.write(
            ngettext(
                "%(deleted)d access event older than %(days)d days deleted",
                "%(deleted)d access events older than %(days)d days deleted",
                deleted,
            )
            % {"deleted": deleted, "days": days}
        )
