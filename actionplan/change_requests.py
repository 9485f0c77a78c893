"""Change what an endorsed version of the plan governs: propose, approve or reject, rebase, apply.

An officer proposes a change of one object's governed fields (``versions.GOVERNED``) with a reason,
against the current version. Who approves is set per kind by ``settings.PLAN_CHANGE_APPROVAL``:

- ``other_officer``: one programme officer of the other organisation than the proposer's;
- ``co_chairs``: the co-chair of each organisation (``CommitteeMember`` roles CO_CHAIR_UNODC and
  CO_CHAIR_INTERPOL of the plan's committee), both.

``approval_needed`` and ``record_approval`` are the seam to the two-party sign-off of issue 16 item 1
(``steering.signoff``, built beside this): the co-chairs path can be moved onto it there alone.

Once approved, the change is applied to the live plan and a new version recorded, in one
transaction. A change made against a version since which another applied change touched the same
object is refused until its proposer rebases it on the current version.
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
from .models import ChangeApproval, ChangeRequest, PlanVersion, ReportingPeriod
from .plan_editing import set_period_targets

CO_CHAIR_SEATS = ("co_chair_unodc", "co_chair_interpol")


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
    base = versions.entry(version, kind, item.pk)
    canonical = {name: versions.canonical(kind, name, value) for name, value in values.items()}
    previous, proposed = _differing(kind, base, canonical)
    if not proposed:
        raise InvalidInput(
            _("This proposal changes nothing: every value is the one version %(version)s holds.")
            % {"version": version.number}
        )
    return ChangeRequest.objects.create(
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


def preview(*, item, values: dict) -> list[versions.FieldChange]:
    """The difference a proposal of ``values`` would make to the version governing ``item``, nothing saved."""
    kind = versions.kind_of(item)
    version = versions.governing_version(item)
    if version is None:
        return []
    canonical = {name: versions.canonical(kind, name, value) for name, value in values.items()}
    previous, proposed = _differing(kind, versions.entry(version, kind, item.pk), canonical)
    return versions.field_changes(kind, previous, proposed, fields=list(proposed))


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


def approval_needed(change: ChangeRequest) -> dict:
    """Who approves the change and who is still awaited: ``{"rule", "awaited"}``, ``awaited`` naming the
    organisation (other_officer) or the co-chair seats (co_chairs) still to approve; empty once approved."""
    given = {approval.seat for approval in change.approvals.all()}
    if change.approval == ChangeRequest.Approval.CO_CHAIRS:
        awaited = [seat for seat in CO_CHAIR_SEATS if seat not in given]
    else:
        awaited = [] if given else ["other_organisation"]
    return {"rule": change.approval, "awaited": awaited if change.is_open() else []}


def _seat_of(change: ChangeRequest, user) -> str | None:
    """The co-chair seat the user holds on the committee of the change's plan, if any."""
    # Read here until the shared sign-off (steering.signoff) takes this path: steering builds on actionplan.
    from steering.models import CommitteeMember

    return (
        CommitteeMember.objects.filter(committee__plan_id=change.plan_id, user=user, role__in=CO_CHAIR_SEATS)
        .values_list("role", flat=True)
        .first()
    )


def _decider(change: ChangeRequest, by) -> tuple[Organization | None, str]:
    """The organisation and co-chair seat ``by`` decides the change in, or NotAllowed saying why not."""
    if by.pk == change.proposed_by_id:
        raise NotAllowed(_("You proposed this change: someone else approves or rejects it."))
    if change.approval == ChangeRequest.Approval.CO_CHAIRS:
        seat = _seat_of(change, by)
        if seat is None:
            raise NotAllowed(_("A change of this kind is decided by the two co-chairs of the committee."))
        return None, seat
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
    return organisation, ""


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
def record_approval(*, change: ChangeRequest, by) -> bool:
    """Record ``by``'s approval of the change; once every approval it needs is in, apply it as a new version.

    Return whether it was applied. Refused: one's own change, an officer of the proposer's
    organisation, someone who is not a co-chair where co-chairs decide, a seat that approved
    already, and a change made against an outdated version.
    """
    change = _locked(change)
    organisation, seat = _decider(change, by)
    _refuse_if_outdated(change)
    if seat and change.approvals.filter(seat=seat).exists():
        raise WrongState(_("The co-chair of this organisation has approved this change already."))
    if change.approvals.filter(user=by).exists():
        raise WrongState(_("You have approved this change already."))
    ChangeApproval.objects.create(change=change, user=by, organization=organisation, seat=seat)
    if approval_needed(change)["awaited"]:
        return False
    _apply(change, by=by)
    return True


@transaction.atomic
def reject_change(*, change: ChangeRequest, by, reason: str) -> ChangeRequest:
    """Reject the change with a reason; only someone who could approve it may."""
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


@transaction.atomic
def rebase_change(*, change: ChangeRequest, by) -> ChangeRequest:
    """Make the change against the current version: its values before are that version's, its approvals so far
    are dropped (they approved another difference). Only its proposer rebases it."""
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
    change.approvals.all().delete()
    change.base_version = current
    change.previous, change.proposed = previous, proposed
    change.object_code = base["code"]
    change.save(update_fields=["base_version", "previous", "proposed", "object_code", "updated_at"])
    return change


def _apply(change: ChangeRequest, *, by) -> None:
    """Write the change's values to the live object and record the plan's next version, linked to it."""
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
