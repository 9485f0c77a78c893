"""Sign-off by both parties: what binds UNODC and INTERPOL is approved only when a co-chair of each has signed.

A subject (the minutes of a meeting, a progress report, later a change to the plan) is
submitted for signature: that opens a round (``SignOff``). Each party's co-chair signs for
the party their seat is for; when every party has signed, the round is approved and the
subject's kind is told (``Kind.approved``). A co-chair may instead decline with a reason:
the round closes as declined, its signatures void, and the subject goes back to whoever
submitted it (``Kind.declined``); submitting it again opens the next round. Signatures are
only ever added; earlier rounds stay as the subject's history.

Another kind of subject plugs in with ``register(Kind(...))``: its key, model, the committee
whose co-chairs sign (or its own ``signers``), and what happens to the subject on each event.
Register it in a module imported at start-up (``SteeringConfig.ready`` imports those of the
minutes, the reports and the changes to the plan, ``steering.plan_changes``)::

    CHANGE = signoff.register(signoff.Kind(
        key="change_request", model=ChangeRequest, label=lambda change: ..., url=lambda change: ...,
        committee=lambda change: change.plan.committee,  # or signers=lambda change: {Party.UNODC: [...], ...}
        check=lambda change, by, decision: ...,  # raise a DomainError to refuse this answer now
        approved=lambda change, round: apply_change(change),
    ))
    signoff.submit(by=officer, subject=change)      # in the caller's transaction, after its own checks
    signoff.sign(by=co_chair, subject=change, round=shown)  # signoff.decline(..., reason=...)
    signoff.withdraw(subject=change)                # the open round no longer asks for the right thing

A submitter withdraws the open round when what it asks to sign has changed under it (a change
request rebased on a newer version): its signatures void, as on a decline, and the subject is
submitted again.

Its page shows ``{% include "steering/includes/signoff.html" %}`` with ``signoff`` (``panel(change,
user)``), ``decline_form`` (``forms.DeclineForm``), ``heading`` and ``not_submitted``; the sign and
decline buttons post to the views of ``signoff_views``, which serve every kind.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import Max, Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.dates import show_date
from portal.errors import AlreadyExists, DomainError, InvalidInput, NotAllowed, WrongState
from portal.notifications import notify
from portal.organisations import organisation_of
from portal.roles import sees_whole_plan
from portal.templatetags.people import display_name

from .models import CommitteeMember, Party, Signature, SignOff

PARTIES = list(Party)
SEATS = {
    CommitteeMember.Role.CO_CHAIR_UNODC: Party.UNODC,
    CommitteeMember.Role.CO_CHAIR_INTERPOL: Party.INTERPOL,
}
# Long enough for a reasoned decline, short enough to read in a notification.
REASON_MAX = 4000


def co_chairs(committee) -> dict[str, list]:
    """The co-chairs of the committee by the party their seat is for (one query)."""
    found = {party: [] for party in PARTIES}
    if committee is None:
        return found
    seats = CommitteeMember.objects.filter(committee=committee, role__in=list(SEATS)).select_related("user")
    for seat in seats.order_by("user__last_name", "user__first_name", "user__username"):
        if seat.user.is_active:
            found[SEATS[seat.role]].append(seat.user)
    return found


def _nothing(subject, signoff) -> None:
    return None


def _anyone(subject, by, decision) -> None:
    return None


@dataclass(frozen=True)
class Kind:
    """What one kind of subject needs of the sign-off.

    ``committee(subject)`` names the committee whose co-chairs sign (``signers`` may replace that
    rule: ``signers(subject) -> {party: [users]}``); ``label(subject)`` names the subject in a
    sentence ("the minutes of the meeting of 1 September 2020"); ``url(subject)`` is its page.
    ``submitted``, ``approved``, ``declined`` are called with the subject locked, in the
    transaction that records the event; ``approved`` gets the round, whose ``closed_at`` is the
    last signature's time. ``check(subject, by, decision)`` is called before an answer is recorded,
    with the subject locked: it raises a ``DomainError`` to refuse it (e.g. a change made against
    an outdated version).
    """

    key: str
    model: type
    label: Callable
    url: Callable
    committee: Callable | None = None
    signers: Callable | None = None
    # The rows a subject is read (and locked) from: e.g. without a heavy column.
    queryset: Callable | None = None
    # Who may read the subject, and so its signatures (and reach the sign and decline views).
    visible: Callable = field(default=lambda user, subject: sees_whole_plan(user))
    check: Callable = field(default=_anyone)
    submitted: Callable = field(default=_nothing)
    approved: Callable = field(default=_nothing)
    declined: Callable = field(default=_nothing)

    def signers_of(self, subject) -> dict[str, list]:
        return self.signers(subject) if self.signers else co_chairs(self.committee(subject))


KINDS: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    """Make a kind of subject signable."""
    KINDS[kind.key] = kind
    return kind


def _kind_of(subject, kind: str | None) -> Kind:
    if kind is not None:
        return KINDS[kind]
    [found] = [registered for registered in KINDS.values() if isinstance(subject, registered.model)]
    return found


def _rounds(subject):
    return SignOff.objects.of(subject)


def _lock(registered: Kind, subject):
    """Lock the subject's row: every sign-off event on one subject happens one after the other."""
    rows = registered.queryset() if registered.queryset else type(subject)._default_manager.all()
    return rows.select_for_update(of=("self",)).get(pk=subject.pk)


def _party_name(party: str) -> str:
    return Party(party).label


# --- reads -------------------------------------------------------------------------------------


def signatures_of(subject):
    """Every signature and decline on the subject, of every round, oldest first, with their signers."""
    return (
        Signature.objects.filter(signoff__in=_rounds(subject))
        .select_related("signer", "signoff")
        .order_by("signoff__number", "signed_at", "pk")
    )


def current_round(subject) -> SignOff | None:
    """The subject's latest round (open, approved or declined), or None before it was first submitted."""
    return _rounds(subject).order_by("-number").first()


def awaited(subject, *, kind: str | None = None) -> dict[str, list]:
    """The parties whose signature the open round still awaits, each with the people who may give it;
    empty when no round is open."""
    open_round = _rounds(subject).open().first()
    if open_round is None:
        return {}
    signers = _kind_of(subject, kind).signers_of(subject)
    return {party: signers[party] for party in open_round.parties_awaited(open_round.signatures.only("party"))}


def party_of(user, subject, *, kind: str | None = None, signers: dict | None = None) -> str | None:
    """The party the user signs this subject for, or None when the user signs it for none."""
    signers = signers if signers is not None else _kind_of(subject, kind).signers_of(subject)
    return next((party for party in PARTIES if any(person.pk == user.pk for person in signers[party])), None)


@dataclass
class Panel:
    """What a page shows of a subject's sign-off: its rounds (newest first), the current one, who signed
    it, who is awaited, and whether the reader may sign or decline it now (for ``my_party``)."""

    rounds: list
    current: SignOff | None
    signed: list
    awaited: dict
    my_party: str | None
    may_answer: bool

    @property
    def history(self) -> list:
        return self.rounds[1:]

    @property
    def parties(self) -> list[dict]:
        """Each party with its answer in the current round (or None) and, while awaited, who may give it."""
        answers = {signature.party: signature for signature in self.signed}
        return [{"party": party, "answer": answers.get(party), "awaited": self.awaited.get(party)} for party in PARTIES]

    @property
    def decline(self):
        return next((signature for signature in self.signed if signature.is_decline()), None)

    @property
    def awaited_names(self) -> str:
        return ", ".join(_party_name(party) for party in self.awaited)


def panel(subject, user, *, kind: str | None = None) -> Panel:
    """Read what the page shows of the subject's sign-off for this reader, in a fixed number of queries (three)."""
    rounds = list(
        _rounds(subject)
        .select_related("submitted_by")
        .prefetch_related(
            Prefetch("signatures", queryset=Signature.objects.select_related("signer").order_by("signed_at", "pk"))
        )
        .order_by("-number")
    )
    current = rounds[0] if rounds else None
    registered = _kind_of(subject, kind)
    signers = registered.signers_of(subject)
    signed = list(current.signatures.all()) if current else []
    waiting = {party: signers[party] for party in current.parties_awaited(signed)} if current else {}
    my_party = party_of(user, subject, signers=signers)
    return Panel(
        rounds=rounds,
        current=current,
        signed=signed,
        awaited=waiting,
        my_party=my_party,
        may_answer=my_party is not None and my_party in waiting and _may_decline(registered, subject, user),
    )


def _may_decline(registered: Kind, subject, user) -> bool:
    """Whether the kind lets the user answer at all (a decline is refused only for who they are)."""
    try:
        registered.check(subject, user, Signature.Decision.DECLINED)
    except DomainError:
        return False
    return True


# --- writes ------------------------------------------------------------------------------------


def submit(*, by, subject, kind: str | None = None) -> SignOff:
    """Open a round of signatures on the subject and tell the co-chairs awaited.

    The caller checks that ``by`` may submit and that the subject is ready, and holds the
    transaction (and the subject's lock); refused when a round is open already or a party has
    no one to sign for it.
    """
    registered = _kind_of(subject, kind)
    subject = _lock(registered, subject)
    rounds = _rounds(subject)
    if rounds.open().exists():
        raise WrongState(_("Already awaiting signatures: %(subject)s.") % {"subject": registered.label(subject)})
    signers = registered.signers_of(subject)
    missing = [_party_name(party) for party in PARTIES if not signers[party]]
    if missing:
        raise WrongState(
            _("No co-chair sits for %(parties)s on the committee: seat one before submitting.")
            % {"parties": ", ".join(missing)}
        )
    number = (rounds.aggregate(last=Max("number"))["last"] or 0) + 1
    signoff = SignOff.objects.create(
        kind=registered.key,
        content_type=ContentType.objects.get_for_model(subject),
        object_id=str(subject.pk),
        number=number,
        submitted_by=by,
        submitted_at=timezone.now(),
    )
    registered.submitted(subject, signoff)
    _notify_awaited(registered, subject, [person for party in PARTIES for person in signers[party]], by)
    return signoff


def _open_round(registered: Kind, subject, expected: int | None) -> SignOff:
    """The subject's open round, locked; refused when none is open or it is not the round the page showed."""
    signoff = _rounds(subject).select_for_update().order_by("-number").first()
    label = registered.label(subject)
    if signoff is None or signoff.state == SignOff.State.WITHDRAWN:
        raise WrongState(_("Not submitted for signature: %(subject)s.") % {"subject": label})
    if expected is not None and signoff.number != expected:
        raise WrongState(
            _("Sent back and submitted again since this page was shown: %(subject)s. Read it again, then answer.")
            % {"subject": label}
        )
    if signoff.state == SignOff.State.APPROVED:
        raise WrongState(
            _("Already signed by both parties on %(date)s: %(subject)s.")
            % {"subject": label, "date": show_date(timezone.localtime(signoff.closed_at).date())}
        )
    if signoff.state == SignOff.State.DECLINED:
        decline = signoff.signatures.filter(decision=Signature.Decision.DECLINED).select_related("signer").first()
        raise WrongState(
            _(
                "Declined for %(party)s by %(who)s on %(date)s and sent back to be changed, since this page was "
                "shown: %(subject)s."
            )
            % {
                "subject": label,
                "who": display_name(decline.signer) if decline else "",
                "party": decline.party if decline else "",
                "date": show_date(timezone.localtime(signoff.closed_at).date()),
            }
        )
    return signoff


def _check_signer(registered: Kind, subject, by, party: str | None) -> str:
    """The party ``by`` answers for: the one of its seat, checked against the party asked for and the
    organisation the user works for."""
    signers = registered.signers_of(subject)
    mine = party_of(by, subject, signers=signers)
    if mine is None:
        raise NotAllowed(_("Only a co-chair of each party signs %(subject)s.") % {"subject": registered.label(subject)})
    if party and party != mine:
        raise NotAllowed(
            _("You sit as the co-chair for %(mine)s: you cannot sign for %(other)s.")
            % {"mine": _party_name(mine), "other": party},
            field="party",
        )
    works_for = organisation_of(by)
    if works_for is not None and works_for.code != mine:
        raise NotAllowed(
            _(
                "You work for %(organisation)s, but your seat on the committee is %(party)s's: "
                "an administrator must correct one of them before you sign."
            )
            % {"organisation": works_for.code, "party": _party_name(mine)}
        )
    return mine


def _record(signoff: SignOff, **values) -> Signature:
    try:
        with transaction.atomic():
            return Signature.objects.create(signoff=signoff, **values)
    except IntegrityError:
        raise AlreadyExists(_("%(party)s has already answered in this round.") % {"party": values["party"]}) from None


@transaction.atomic
def sign(*, by, subject, party: str | None = None, round: int | None = None, kind: str | None = None) -> Signature:
    """Sign the subject for the party of ``by``'s seat; the signature of the last party awaited approves it.

    ``round`` is the round the page showed: a round declined or replaced since is refused, so no
    one signs what they did not read.
    """
    registered = _kind_of(subject, kind)
    subject = _lock(registered, subject)
    mine = _check_signer(registered, subject, by, party)
    signoff = _open_round(registered, subject, round)
    earlier = signoff.signatures.filter(party=mine).select_related("signer").first()
    if earlier is not None:
        raise AlreadyExists(
            _("%(who)s already signed %(subject)s for %(party)s on %(date)s.")
            % {
                "who": display_name(earlier.signer),
                "subject": registered.label(subject),
                "party": _party_name(mine),
                "date": show_date(timezone.localtime(earlier.signed_at).date()),
            }
        )
    registered.check(subject, by, Signature.Decision.SIGNED)
    signature = _record(signoff, party=mine, decision=Signature.Decision.SIGNED, signer=by, signed_at=timezone.now())
    if not signoff.parties_awaited(signoff.signatures.only("party")):
        signoff.state, signoff.closed_at = SignOff.State.APPROVED, signature.signed_at
        signoff.save(update_fields=["state", "closed_at", "updated_at"])
        registered.approved(subject, signoff)
        _notify_outcome(registered, subject, signoff, approved=True)
    return signature


@transaction.atomic
def decline(*, by, subject, reason: str, party: str | None = None, round: int | None = None, kind: str | None = None):
    """Decline the subject for the party of ``by``'s seat, with a reason: the round closes, its signatures
    void, and the subject goes back to whoever submitted it, who is told why."""
    registered = _kind_of(subject, kind)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Say why you decline: the reason goes to whoever submitted it."), field="reason")
    if len(reason) > REASON_MAX:
        raise InvalidInput(_("Keep the reason under %(count)d characters.") % {"count": REASON_MAX}, field="reason")
    subject = _lock(registered, subject)
    mine = _check_signer(registered, subject, by, party)
    signoff = _open_round(registered, subject, round)
    if signoff.signatures.filter(party=mine).exists():
        raise AlreadyExists(
            _("%(party)s already signed %(subject)s in this round.")
            % {"party": _party_name(mine), "subject": registered.label(subject)}
        )
    registered.check(subject, by, Signature.Decision.DECLINED)
    signature = _record(
        signoff, party=mine, decision=Signature.Decision.DECLINED, signer=by, reason=reason, signed_at=timezone.now()
    )
    signoff.state, signoff.closed_at = SignOff.State.DECLINED, signature.signed_at
    signoff.save(update_fields=["state", "closed_at", "updated_at"])
    registered.declined(subject, signoff)
    _notify_outcome(registered, subject, signoff, approved=False, decline=signature)
    return signature


@transaction.atomic
def withdraw(*, subject, kind: str | None = None) -> SignOff | None:
    """Close the subject's open round as withdrawn, its signatures void; None when no round is open.

    For a subject whose text changed under its open round (the caller checks who may, and holds
    the transaction): the co-chairs did not sign what is now asked, so it is submitted again.
    """
    registered = _kind_of(subject, kind)
    subject = _lock(registered, subject)
    signoff = _rounds(subject).open().select_for_update().first()
    if signoff is None:
        return None
    signoff.state, signoff.closed_at = SignOff.State.WITHDRAWN, timezone.now()
    signoff.save(update_fields=["state", "closed_at", "updated_at"])
    return signoff


# --- notifications -----------------------------------------------------------------------------


def _notify_awaited(registered: Kind, subject, people: list, by) -> None:
    notify(
        recipients=people,
        kind="signature_awaited",
        subject=lambda: _("Your signature is awaited: %(subject)s") % {"subject": registered.label(subject)},
        body=lambda: (
            _(
                "%(who)s submitted %(subject)s for the signatures of both parties. Read the text, then sign or "
                "decline with a reason."
            )
            % {"who": display_name(by), "subject": registered.label(subject)}
        ),
        url=registered.url(subject),
    )


def _notify_outcome(registered: Kind, subject, signoff: SignOff, *, approved: bool, decline=None) -> None:
    """Tell whoever submitted the subject (and, of a decline, the co-chairs whose signature it voids)."""
    recipients = [signoff.submitted_by]
    if decline is not None:
        recipients += [s.signer for s in signoff.signatures.select_related("signer") if s.pk != decline.pk]

    def body():
        if approved:
            return _("Both parties have signed %(subject)s.") % {"subject": registered.label(subject)}
        return _("%(who)s declined %(subject)s for %(party)s:\n\n%(reason)s") % {
            "who": display_name(decline.signer),
            "subject": registered.label(subject),
            "party": _party_name(decline.party),
            "reason": decline.reason,
        }

    notify(
        recipients=recipients,
        kind="signoff_outcome",
        subject=lambda: (
            (_("Signed by both parties: %(subject)s") if approved else _("Declined, back to you: %(subject)s"))
            % {"subject": registered.label(subject)}
        ),
        body=body,
        url=registered.url(subject),
    )
