from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SteeringConfig(AppConfig):
    name = "steering"
    verbose_name = _("Steering committee")

    def ready(self):
        from . import tombstones
        from .dashboard_cache import watch_data_behind_the_figures

        tombstones.watch_deletions()

        watch_data_behind_the_figures()
