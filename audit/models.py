"""The access log: who viewed restricted records, downloaded files, exported lists or handled API tokens, and
who signed in through single sign-on or was refused."""

import simple_history
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from actionplan.models import PeriodTarget
from portal.history import HistoricalRecords


class AccessEvent(models.Model):
    """Record one access to something the organisations' rules ask to be accounted for.

    Rows are only ever added: on PostgreSQL a trigger refuses UPDATE and DELETE, except in a
    transaction that has set ``audit.purge`` (``purge_access_log``, which keeps the last
    ``ACCESS_LOG_DAYS`` days).
    """

    class Kind(models.TextChoices):
        RESTRICTED_VIEW = "restricted_view", _("View of a restricted record")
        EVIDENCE_DOWNLOAD = "evidence_download", _("Download of evidence")
        REPORT_DOWNLOAD = "report_download", _("Download of a report file")
        EXPORT = "export", _("Export")
        TOKEN_CREATED = "token_created", _("API token created")
        TOKEN_REVOKED = "token_revoked", _("API token revoked")
        SSO_SIGN_IN = "sso_sign_in", _("Sign-in through single sign-on")
        SSO_REFUSED = "sso_refused", _("Single sign-on refused")

    # No cascade and no database constraint: deleting a user must neither UPDATE nor DELETE the log
    # (the trigger refuses both), and the username kept beside it still says who it was.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="access_events",
        verbose_name=_("user"),
        db_constraint=False,
    )
    username = models.CharField(_("username"), max_length=150, blank=True)
    kind = models.CharField(_("what"), max_length=32, choices=Kind.choices)
    object_type = models.CharField(_("object type"), max_length=64, blank=True)
    object_id = models.CharField(_("object"), max_length=64, blank=True, help_text=_("Its code or id."))
    label = models.CharField(_("label"), max_length=200, blank=True)
    address = models.CharField(_("address"), max_length=64, blank=True)
    at = models.DateTimeField(_("when"), default=timezone.now, editable=False, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("access event")
        verbose_name_plural = _("access log")
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_event_object")]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.username or '-'} {self.get_kind_display()} {self.object_id}"


# Period targets are kept with their history here, beside the access log: a target that moved must say
# who moved it, when and why (the indicator's own fields are in its history, in actionplan).
simple_history.register(PeriodTarget, app="audit", records_class=HistoricalRecords)
