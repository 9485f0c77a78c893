"""Sign or decline what awaits the signatures of both parties, whatever its kind (``steering.signoff``)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal.errors import DomainError, NotAllowed

from . import signoff
from .forms import DeclineForm
from .models import SignOff


def _round_and_subject(request, pk):
    """The round asked for and its subject, if the user may read the subject; else 404."""
    round = get_object_or_404(SignOff.objects.select_related("content_type"), pk=pk)
    kind = signoff.KINDS.get(round.kind)
    subject = round.subject if kind else None
    if subject is None or not kind.visible(request.user, subject):
        raise Http404(_("Nothing to sign here."))
    return round, kind, subject


def _answer(request, pk, act, success: str):
    round, kind, subject = _round_and_subject(request, pk)
    try:
        act(kind, subject, round)
    except NotAllowed as error:
        raise PermissionDenied(error.message) from error
    except DomainError as error:
        # To the top of the page, where the message shows, and the page as it now stands.
        messages.error(request, error.message)
        return redirect(kind.url(subject))
    messages.success(request, success)
    return redirect(kind.url(subject) + "#signoff")


@login_required
@require_POST
def sign(request, pk):
    """Sign the round shown on the subject's page, for the party of the user's seat."""
    return _answer(
        request,
        pk,
        lambda kind, subject, round: signoff.sign(
            by=request.user, subject=subject, round=round.number, party=request.POST.get("party") or None,
            kind=kind.key,
        ),
        _("Signed. Once each party has signed, it is approved."),
    )  # fmt: skip


@login_required
@require_POST
def decline(request, pk):
    """Decline the round shown on the subject's page, with a reason."""
    form = DeclineForm(request.POST)

    def act(kind, subject, round):
        reason = form.cleaned_data["reason"] if form.is_valid() else request.POST.get("decline-reason", "")
        signoff.decline(
            by=request.user, subject=subject, reason=reason, round=round.number,
            party=request.POST.get("party") or None, kind=kind.key,
        )  # fmt: skip

    return _answer(request, pk, act, _("Declined: it went back, with your reason, to whoever submitted it."))
