from django.utils.translation import gettext as _

from actionplan import standings
from portal.management.translated import TranslatedCommand


class Command(TranslatedCommand):
    help = (
        "Recompute from scratch each activity's latest approved update and each indicator's figure per period, "
        "as kept for the pages (after a bulk load or a change made in SQL)."
    )

    def handle(self, *args, **options):
        counts = standings.rebuild()
        self.stdout.write(_("Rebuilt %(standings)d activity standings and %(figures)d indicator figures.") % counts)
