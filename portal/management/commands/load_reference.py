from django.core.management.base import BaseCommand

from portal.reference import load_reference_data


class Command(BaseCommand):
    help = "Load the reference data (countries, parties, agreement, 2018 plan); safe to run again."

    def handle(self, *args, **options):
        result = load_reference_data()
        self.stdout.write(f"Reference data: {result}.")
