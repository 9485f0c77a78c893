"""Change what an endorsed version of the plan governs: propose, approve or reject, rebase, apply.

An officer proposes a change of one object's governed fields (``versions.GOVERNED``) with a reason,
against the current version. Who approves is set per kind by ``settings.PLAN_CHANGE_APPROVAL``:

- ``other_officer``: one programme officer of the other organisation than the proposer's approves
  (``record_approval``) or rejects it (``reject_change``);
- ``co_chairs``: the co-chair of each party signs it, through the two-party sign-off of the minutes
  and the reports (``steering.signoff``; the kind is registered in ``steering.plan_changes``).
  Proposing it opens a round and tells the co-chairs; the second signature applies it; a decline
  with a reason rejects it and sends it back to its proposer, who is told why and may propose it
  again, changed (a change request's values are never edited: what was signed stays as signed).

Once approved, the change is applied to the live plan and a new version recorded, in one
transaction (for the co-chairs, the one of the second signature). A change made against a version
since which another applied change touched the same object is refused until its proposer rebases
it on the current version; rebasing a change the co-chairs sign withdraws its round (its
signatures were for another difference) and opens the next one.
"""

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from portal.errors import InvalidInput, NotAllowed, StaleVersion, WrongState
from portal.models import Country, Organization
from portal.organisations import organisation_of
from portal.roles import is_officer

from . import versions
from .models import ActionPlan, ChangeApproval, ChangeRequest, PlanVersion, ReportingPeriod
from .plan_editing import set_period_targets


def approval_rule(kind: str) -> str:
    """Who approves a change of this kind: "other_officer" or "co_chairs" (``settings.PLAN_CHANGE_APPROVAL``)."""
    return settings.PLAN_CHANGE_APPROVAL.get(kind, ChangeRequest.Approval.OTHER_OFFICER)


@transaction.atomic
def propose_change(*, by, item, values: dict, reason: str) -> ChangeRequest:
    """Propose new values (``{field: value}`` as a form cleans them) for governed fields of ``item``.

    Only the fields whose value differs from the current version's are kept; a proposal that
    changes nothing, or has no reason, is refused.
    """
    if not is_officer(by):
        raise NotAllowed(_("Only a programme officer proposes a change to the plan."))
    organisation = organisation_of(by)
    if organisation is None:
        raise NotAllowed(
            _(
                "Your account names no organisation, and approval goes to the other one: ask an administrator "
                "to set yours on your profile."
            )
        )
    kind = versions.kind_of(item)
    version = versions.governing_version(item)
    if version is None:
        raise WrongState(_("No endorsed version holds %(code)s yet: edit it directly.") % {"code": item.code})
    _refuse_unless_party(version.plan_id, organisation)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Give the reason for the change."), field="reason")
    previous, proposed = _differences(item, kind, version, values)
    change = ChangeRequest.objects.create(
        plan_id=version.plan_id,
        kind=kind,
        object_id=item.pk,
        object_code=item.code,
        base_version=version,
        previous=previous,
        proposed=proposed,
        reason=reason,
        approval=approval_rule(kind),
        proposed_by=by,
        proposed_for=organisation,
    )
    if change.approval == ChangeRequest.Approval.CO_CHAIRS:
        _co_chairs().submit(by=by, change=change)
    return change


def _co_chairs():
    """The co-chairs' sign-off of changes (``steering.plan_changes``). Steering builds on this app, so it is
    read when a change needs it rather than imported at the top."""
    from steering import plan_changes

    return plan_changes


def preview(*, item, version, values: dict) -> list[versions.FieldChange]:
    """The difference a proposal of ``values`` would make to ``version``, the version governing ``item`` (as the
    page read it: a preview is shown, never kept), nothing saved; refused, as the proposal would be, when it
    changes nothing."""
    kind = versions.kind_of(item)
    previous, proposed = _differences(item, kind, version, values)
    return versions.field_changes(kind, previous, proposed, fields=list(proposed))


def _differences(item, kind: str, version, values: dict) -> tuple[dict, dict]:
    """The version's values and the proposed ones (canonical) of the fields that differ; none is refused."""
    canonical = {name: versions.canonical(kind, name, value) for name, value in values.items()}
    previous, proposed = _differing(kind, versions.entry(version, kind, item.pk), canonical)
    if not proposed:
        raise InvalidInput(
            _("This proposal changes nothing: every value is the one version %(version)s holds.")
            % {"version": version.number}
        )
    return previous, proposed


def _differing(kind: str, base: dict, proposed: dict) -> tuple[dict, dict]:
    """The base values and the proposed ones (both canonical) of the governed fields that differ."""
    kept_before, kept = {}, {}
    for name in versions.GOVERNED[kind]:
        if name not in proposed:
            continue
        old, new = base.get(name), proposed[name]
        if name == versions.PERIOD_TARGETS:
            same = (old or {}) == (new or {})
        else:
            same = versions.shown(old) == versions.shown(new)
        if not same:
            kept_before[name], kept[name] = old, new
    return kept_before, kept


def differences(change: ChangeRequest) -> list[versions.FieldChange]:
    """The change's difference, field by field: the base version's value → the proposed one."""
    # In the order of the governed fields: the database keeps a JSON object's keys in an order of its own.
    fields = [name for name in versions.GOVERNED[change.kind] if name in change.proposed]
    return versions.field_changes(change.kind, change.previous, change.proposed, fields=fields)


def current_of(change: ChangeRequest) -> PlanVersion:
    return PlanVersion.objects.latest_of(change.plan_id).defer("snapshot").first()


def is_outdated(change: ChangeRequest, current: PlanVersion | None = None) -> bool:
    """Tell whether a version recorded since the change's base version changed the same object."""
    current = current or current_of(change)
    if current.pk == change.base_version_id:
        return False
    return versions.entry(current, change.kind, change.object_id) != versions.entry(
        change.base_version, change.kind, change.object_id
    )


def _refuse_if_outdated(change: ChangeRequest) -> PlanVersion:
    current = current_of(change)
    if is_outdated(change, current):
        raise StaleVersion(
            _(
                "This change was made against version %(base)s, and version %(current)s has changed %(code)s "
                "since: rebase it on version %(current)s, check the new difference, and ask for approval again."
            )
            % {"base": change.base_version.number, "current": current.number, "code": change.object_code},
            current_version=current.number,
        )
    return current


def _decider(change: ChangeRequest, by) -> Organization:
    """The organisation ``by`` approves or rejects the change for, or NotAllowed saying why not."""
    if change.approval == ChangeRequest.Approval.CO_CHAIRS:
        raise NotAllowed(_("Both co-chairs sign a change of this kind: each signs or declines it on its page."))
    if by.pk == change.proposed_by_id:
        raise NotAllowed(_("You proposed this change: someone else approves or rejects it."))
    if not is_officer(by):
        raise NotAllowed(_("A programme officer of the other organisation decides this change."))
    organisation = organisation_of(by)
    if organisation is None:
        raise NotAllowed(_("Your account names no organisation: ask an administrator to set yours on your profile."))
    if organisation.pk == change.proposed_for_id:
        raise NotAllowed(
            _("This change was proposed for %(organisation)s: an officer of the other organisation approves it.")
            % {"organisation": organisation.code}
        )
    _refuse_unless_party(change.plan_id, organisation)
    return organisation


def _refuse_unless_party(plan_id: int, organisation) -> None:
    """Refuse an organisation that is not a party to the plan's agreement (when the agreement names its parties):
    the other organisation is the other party, not a partner or a donor."""
    parties = Organization.objects.filter(agreements__plans=plan_id)
    if parties.exists() and not parties.filter(pk=organisation.pk).exists():
        raise NotAllowed(
            _("%(organisation)s is not a party to the agreement: an officer of a party decides changes to the plan.")
            % {"organisation": organisation.code}
        )


def _locked(change: ChangeRequest) -> ChangeRequest:
    locked = ChangeRequest.objects.select_for_update().select_related("base_version").get(pk=change.pk)
    if not locked.is_open():
        raise WrongState(
            _("This change request is already %(state)s.") % {"state": locked.get_state_display().lower()},
            state=locked.state,
        )
    return locked


@transaction.atomic
def record_approval(*, change: ChangeRequest, by) -> PlanVersion:
    """Approve the change for the other organisation than its proposer's and apply it: return the new version.

    Refused: a change the co-chairs sign, one's own change, an officer of the proposer's
    organisation or of no party, and a change made against an outdated version.
    """
    change = _locked(change)
    organisation = _decider(change, by)
    ChangeApproval.objects.create(change=change, user=by, organization=organisation)
    return _apply(change, by=by)


@transaction.atomic
def reject_change(*, change: ChangeRequest, by, reason: str) -> ChangeRequest:
    """Reject the change with a reason; only someone who could approve it may (the co-chairs decline theirs)."""
    change = _locked(change)
    _decider(change, by)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Give the reason for rejecting the change."), field="reason")
    change.state = ChangeRequest.State.REJECTED
    change.rejection_reason = reason
    change.decided_by = by
    change.decided_at = timezone.now()
    change.save(update_fields=["state", "rejection_reason", "decided_by", "decided_at", "updated_at"])
    return change


# --- the co-chairs' path: called by the sign-off (steering.plan_changes) with the change locked ----------------


def check_signer(change: ChangeRequest, by, decision: str) -> None:
    """Refuse the co-chairs' answer to a change they proposed themselves, and a signature (``decision``
    "signed") of a change made against an outdated version: it could not be applied."""
    if by.pk == change.proposed_by_id:
        raise NotAllowed(_("You proposed this change: the co-chairs sign it, not its proposer."))
    if decision == "signed":
        _refuse_if_outdated(change)


def apply_signed(change: ChangeRequest, round) -> None:
    """Apply a change both co-chairs signed, as a new version, in the transaction of the second signature."""
    last = round.signatures.select_related("signer").order_by("-signed_at", "-pk").first()
    _apply(change, by=last.signer)


def reject_declined(change: ChangeRequest, round) -> None:
    """Reject a change a co-chair declined: back to its proposer (whom the sign-off tells) with the reason."""
    declined = round.signatures.select_related("signer").get(decision="declined")
    change.state = ChangeRequest.State.REJECTED
    change.rejection_reason = declined.reason
    change.decided_by = declined.signer
    change.decided_at = round.closed_at
    change.save(update_fields=["state", "rejection_reason", "decided_by", "decided_at", "updated_at"])


@transaction.atomic
def rebase_change(*, change: ChangeRequest, by) -> ChangeRequest:
    """Make the change against the current version: its values before are that version's; where the co-chairs
    sign it, its open round is withdrawn (they signed another difference) and the next one opened. Only its
    proposer rebases it."""
    change = _locked(change)
    if by.pk != change.proposed_by_id:
        raise NotAllowed(_("Only the officer who proposed this change rebases it."))
    current = current_of(change)
    if current.pk == change.base_version_id:
        raise WrongState(_("This change is made against the current version already."))
    base = versions.entry(current, change.kind, change.object_id)
    if base is None:
        raise WrongState(_("Version %(version)s no longer holds %(code)s.") % {
            "version": current.number, "code": change.object_code})  # fmt: skip
    previous, proposed = _differing(change.kind, base, change.proposed)
    if not proposed:
        raise InvalidInput(
            _("Version %(version)s holds these values already: this change has nothing left to change.")
            % {"version": current.number}
        )
    change.base_version = current
    change.previous, change.proposed = previous, proposed
    change.object_code = base["code"]
    change.save(update_fields=["base_version", "previous", "proposed", "object_code", "updated_at"])
    if change.approval == ChangeRequest.Approval.CO_CHAIRS:
        _co_chairs().resubmit(by=by, change=change)
    return change


def _apply(change: ChangeRequest, *, by) -> PlanVersion:
    """Write the change's values to the live object and record the plan's next version, linked to it.

    The plan's row is locked before the change's version is checked, so that two changes of one object
    applied at once are applied one after the other, the second refused until rebased.
    """
    ActionPlan.objects.select_for_update().filter(pk=change.plan_id).first()
    _refuse_if_outdated(change)
    model = versions.MODELS[change.kind]
    item = model.objects.select_for_update().get(pk=change.object_id)
    targets = None
    related_sets = {}
    for name, value in change.proposed.items():
        if name == versions.PERIOD_TARGETS:
            targets = _periods(change.plan_id, value)
            continue
        model_field = model._meta.get_field(name)
        resolved = _resolve(model_field, value)
        if model_field.many_to_many:
            related_sets[name] = resolved
        else:
            setattr(item, name, resolved)
    try:
        item.full_clean(validate_unique=False)
    except ValidationError as error:
        raise InvalidInput(" ".join(error.messages)) from error
    if hasattr(item, "version"):
        item.version += 1
    # The history keeps a reason of at most 100 characters; the whole one stays on the change request.
    item._change_reason = Truncator(
        _("Change request %(number)d: %(reason)s") % {"number": change.pk, "reason": change.reason}
    ).chars(100)
    item.save()
    for name, objects in related_sets.items():
        getattr(item, name).set(objects)
    if targets is not None:
        set_period_targets(indicator=item, targets=targets, reason=item._change_reason)
    version = versions.record_version(
        plan=change.plan,
        by=by,
        endorsement=_("Change request %(number)d") % {"number": change.pk},
        note=change.reason,
    )
    change.state = ChangeRequest.State.APPLIED
    change.applied_version = version
    change.decided_by = by
    change.decided_at = timezone.now()
    change.save(update_fields=["state", "applied_version", "decided_by", "decided_at", "updated_at"])
    return version


def _resolve(model_field, value):
    """A canonical value as the model takes it: related objects by code, decimals, dates."""
    if model_field.many_to_many:
        target = model_field.related_model
        key = "iso3" if target is Country else "code"
        found = list(target.objects.filter(**{f"{key}__in": value}))
        if len(found) != len(value):
            raise InvalidInput(_("%(field)s: one of %(codes)s no longer exists.") % {
                "field": model_field.verbose_name, "codes": ", ".join(value)})  # fmt: skip
        return found
    if model_field.is_relation:
        if value is None:
            return None
        found = model_field.related_model.objects.filter(code=value).first()
        if found is None:
            raise InvalidInput(_("%(field)s: %(code)s no longer exists.") % {
                "field": model_field.verbose_name, "code": value})  # fmt: skip
        return found
    internal = model_field.get_internal_type()
    if internal == "DecimalField":
        return None if value is None else Decimal(value)
    if internal == "DateField":
        return None if value is None else datetime.date.fromisoformat(value)
    return value


def _periods(plan_id: int, targets: dict) -> dict:
    periods = {period.code: period for period in ReportingPeriod.objects.filter(plan_id=plan_id)}
    missing = sorted(set(targets) - set(periods))
    if missing:
        raise InvalidInput(_("No reporting period %(codes)s in the plan any more.") % {"codes": ", ".join(missing)})
    return {periods[code]: Decimal(value) for code, value in targets.items() if value is not None}
