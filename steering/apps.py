from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SteeringConfig(AppConfig):
    name = "steering"
    verbose_name = _("Steering committee")

    def ready(self):
        # services registers the minutes' sign-off, plan_changes that of changes to the plan.
        from . import plan_changes, services, tombstones  # noqa: F401
        from .dashboard_cache import watch_data_behind_the_figures
        from .reports import endorsement  # noqa: F401 - registers the reports' sign-off

        tombstones.watch_deletions()

        watch_data_behind_the_figures()
