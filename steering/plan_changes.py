"""Changes to the plan that both co-chairs sign: the change requests of the kinds ``settings.PLAN_CHANGE_APPROVAL``
gives to "co_chairs" go through the two-party sign-off (``steering.signoff``).

Proposing such a change submits it: a round opens and the co-chairs are told. Each co-chair signs
for the party of their seat; the second signature applies the change as the plan's next version,
in the transaction that records it, after the change's base version is checked again with the
plan locked (an outdated change is refused: rebase it). A decline with a reason rejects the change:
it goes back to its proposer, who is told why and may propose it again. The rules are the change
request's own (``actionplan.change_requests``); this module plugs them into the sign-off.
"""

from django.urls import reverse
from django.utils.translation import gettext as _

from actionplan import change_requests
from actionplan.models import ChangeRequest

from . import signoff


def _label(change: ChangeRequest) -> str:
    return _("change request %(number)d (%(kind)s %(code)s)") % {
        "number": change.pk,
        "kind": change.get_kind_display(),
        "code": change.object_code,
    }


CHANGE = signoff.register(
    signoff.Kind(
        key="change_request",
        model=ChangeRequest,
        label=_label,
        url=lambda change: reverse("change-detail", args=[change.pk]),
        committee=lambda change: getattr(change.plan, "committee", None),
        queryset=lambda: ChangeRequest.objects.select_related("plan__committee", "base_version"),
        visible=lambda user, change: ChangeRequest.objects.visible_to(user).filter(pk=change.pk).exists(),
        check=change_requests.check_signer,
        approved=change_requests.apply_signed,
        declined=change_requests.reject_declined,
    )
)


def submit(*, by, change: ChangeRequest) -> None:
    """Open the change's round of signatures (in the proposal's transaction) and tell the co-chairs."""
    signoff.submit(by=by, subject=change, kind=CHANGE.key)


def resubmit(*, by, change: ChangeRequest) -> None:
    """Withdraw the change's open round, signed for another difference, and open the next (a rebase)."""
    signoff.withdraw(subject=change, kind=CHANGE.key)
    signoff.submit(by=by, subject=change, kind=CHANGE.key)
