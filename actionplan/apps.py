from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ActionplanConfig(AppConfig):
    name = "actionplan"
    verbose_name = _("Joint action plan")

    def ready(self):
        from . import register_choices, standings, tombstones

        tombstones.watch_deletions()

        standings.watch()
        register_choices.watch_rows_named_by_the_choices()
