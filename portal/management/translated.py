from django.core.management.base import BaseCommand
from django.utils import translation

from portal import languages


class TranslatedCommand(BaseCommand):
    """A command that speaks the operator's language (``LANG=fr_FR.UTF-8`` → French), else English."""

    def execute(self, *args, **options):
        with translation.override(languages.of_environment()):
            return super().execute(*args, **options)
