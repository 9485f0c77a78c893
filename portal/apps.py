from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("Portal: organisations and offices")

    def ready(self):
        import logging

        from . import accounts, guards, logs, models, sessions, tombstones  # noqa: F401 (sessions registers its login receiver)

        accounts.connect()
        logs.connect()
        tombstones.watch(
            models.Office, lambda office, memo: tombstones.Key(models.Tombstone.Kind.OFFICE, office.code, everyone=True)
        )
        # The access logs write each address as it came: whatever LOGGING an operator sets, a credential
        # in a query string (refused by guards.RequestGuardMiddleware) is never written by them.
        for name in ("django.server", "gunicorn.access"):
            logging.getLogger(name).addFilter(guards.RedactCredentials())
