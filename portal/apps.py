from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("Portal: organisations and offices")

    def ready(self):
        from . import accounts, sessions  # noqa: F401 (sessions registers its login receiver)

        accounts.connect()
