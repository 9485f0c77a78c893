from django.utils.translation import gettext as _

from portal.management.translated import TranslatedCommand
from portal.reference import load_reference_data


class Command(TranslatedCommand):
    help = "Load the reference data (countries, parties, agreement, 2018 plan); safe to run again."

    def handle(self, *args, **options):
        result = load_reference_data()
        self.stdout.write(
            _("Reference data: %(created)d created, %(updated)d updated.")
            % {"created": result.created, "updated": result.updated}
        )
