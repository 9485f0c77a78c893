"""The committee's endorsement of a progress report: a compiled report, signed by a co-chair of each party.

The secretary or a programme officer submits a succeeded (frozen) report for endorsement; it
is endorsed when both parties have signed (``steering.signoff``). A decline sends it back to
whoever submitted it, who may submit it again (or ask for a new report).
"""

from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from portal.errors import NotAllowed, WrongState

from .. import signoff
from ..models import ProgressReport
from ..services import may_record


def _label(report: ProgressReport) -> str:
    return _("the progress report %(period)s (%(scope)s)") % {"period": report.period.code, "scope": report.scope_label}


def _submitted(report: ProgressReport, round) -> None:
    report.endorsement_submitted_at = round.submitted_at
    report.save(update_fields=["endorsement_submitted_at", "updated_at"])


def _approved(report: ProgressReport, round) -> None:
    report.endorsed_at = round.closed_at
    report.save(update_fields=["endorsed_at", "updated_at"])


def _declined(report: ProgressReport, round) -> None:
    report.endorsement_submitted_at = None
    report.save(update_fields=["endorsement_submitted_at", "updated_at"])


def _committee(report: ProgressReport):
    return getattr(report.plan, "committee", None)


REPORT = signoff.register(
    signoff.Kind(
        key="report",
        model=ProgressReport,
        label=_label,
        url=lambda report: reverse("report-detail", args=[report.pk]),
        committee=_committee,
        queryset=lambda: ProgressReport.objects.defer("snapshot").select_related(
            "plan__committee", "period", "focus_area"
        ),
        submitted=_submitted,
        approved=_approved,
        declined=_declined,
    )
)


def may_submit(user) -> bool:
    """Tell whether the user submits reports for endorsement (the secretary and programme officers do)."""
    return may_record(user)


@transaction.atomic
def submit_for_endorsement(*, by, report: ProgressReport) -> ProgressReport:
    """Submit a compiled report for the endorsement of both parties; its co-chairs are told."""
    if not may_submit(by):
        raise NotAllowed(_("Only the committee's secretary or a programme officer submits a report for endorsement."))
    report = REPORT.queryset().select_for_update(of=("self",)).get(pk=report.pk)
    if report.state != ProgressReport.State.SUCCEEDED:
        raise WrongState(_("Only a compiled report is submitted for endorsement; this one is %(state)s.")
                         % {"state": report.get_state_display()})  # fmt: skip
    if report.endorsed_at is not None:
        raise WrongState(_("This report was already endorsed."))
    if _committee(report) is None:
        raise WrongState(_("This report's action plan has no steering committee to endorse it."))
    signoff.submit(by=by, subject=report, kind=REPORT.key)
    report.refresh_from_db()
    return report
