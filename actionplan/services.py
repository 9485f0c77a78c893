"""Write progress updates: create, edit, submit, approve, return, attach evidence.

Every rule of the update workflow lives here, once; the API and the pages call these
functions and show the errors they raise (``portal.errors``).

Workflow: draft → submitted → approved, or submitted → returned → submitted …
Only the reporting office (or a programme officer on its behalf) edits a draft or a
returned update; only a programme officer approves or returns one; nothing changes
once approved, or once the period is locked.
"""

import uuid
from dataclasses import dataclass, field, fields

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from portal import languages
from portal.errors import (
    AlreadyExists,
    DomainError,
    InvalidInput,
    NeedsConfirmation,
    NotAllowed,
    PeriodLocked,
    StaleVersion,
    WrongState,
)
from portal.models import Membership, Office
from portal.roles import belongs_to_an_office, is_officer
from webhooks import services as webhooks
from webhooks.models import Event

from . import measurements as measurement_rules
from . import notifications
from .measurements import MeasurementInput
from .models import Activity, Measurement, ProgressUpdate, ReportingPeriod, UpdateComment

EDITABLE_STATES = (ProgressUpdate.State.DRAFT, ProgressUpdate.State.RETURNED)
EDITABLE_FIELDS = ("rag", "percent_complete", "narrative", "challenges", "next_steps")
# The fields written in a language; writing one records the writer's (ProgressUpdate.language).
WRITTEN_FIELDS = ("narrative", "challenges", "next_steps")


def check_period_open(period: ReportingPeriod):
    if not period.is_open():
        raise PeriodLocked(
            _("Reporting period %(period)s is locked: it takes no new or changed updates.") % {"period": period.code},
            field="period",
        )


def check_editable(update: ProgressUpdate):
    if update.state not in EDITABLE_STATES:
        raise WrongState(
            _("This update is %(state)s; only a draft or a returned update can be changed.")
            % {"state": update.get_state_display().lower()},
            state=update.state,
        )


def check_may_write_updates(user) -> None:
    """Refuse, before anything it sent is read, a user who writes no update at all: neither a programme
    officer nor a member of an office (which office and activity an update names is checked with its body)."""
    if not (is_officer(user) or belongs_to_an_office(user)):
        raise NotAllowed(_("Only the members of a field office and the programme officers write updates."))


def check_may_submit(user, update: ProgressUpdate) -> None:
    if not may_edit(user, update):
        raise NotAllowed(_("Only office %(office)s may submit this update.") % {"office": update.office.code})


def check_may_withdraw(user, update: ProgressUpdate) -> None:
    # The office's own: an officer reviews, or returns.
    if not update.office.memberships.filter(user=user).exists():
        raise NotAllowed(_("Only office %(office)s may withdraw this update.") % {"office": update.office.code})


def check_may_comment(user, update: ProgressUpdate) -> None:
    if not may_edit(user, update):
        raise NotAllowed(
            _("Only office %(office)s and the officers write on this update.") % {"office": update.office.code}
        )


def may_report_on(user, activity: Activity) -> bool:
    """Tell whether the user may write updates on the activity (its offices' members and officers may)."""
    return is_officer(user) or activity.implementing_offices.filter(memberships__user=user).exists()


def may_edit(user, update: ProgressUpdate) -> bool:
    """Tell whether the user may write this update (its office's members and officers may)."""
    return is_officer(user) or update.office.memberships.filter(user=user).exists()


@dataclass(frozen=True)
class NewUpdate:
    """An office's update on an activity for a period, to be created: the rows it names and its values."""

    activity: Activity
    period: ReportingPeriod
    office: Office
    rag: str
    percent_complete: int
    narrative: str = ""
    challenges: str = ""
    next_steps: str = ""
    measurements: list[MeasurementInput] = field(default_factory=list)
    submit: bool = False

    @property
    def slot(self) -> tuple[int, int, int]:
        """The (activity, period, office) ids: one update each."""
        return self.activity.pk, self.period.pk, self.office.pk

    def values(self) -> dict:
        """The update as ``create_update``'s arguments."""
        return {each.name: getattr(self, each.name) for each in fields(self)}

    def row(self, *, by, source: str, warnings: list[dict]) -> ProgressUpdate:
        """The update's row as created (a draft), not yet saved."""
        return ProgressUpdate(
            activity=self.activity,
            period=self.period,
            office=self.office,
            author=by,
            rag=self.rag,
            percent_complete=self.percent_complete,
            narrative=self.narrative,
            challenges=self.challenges,
            next_steps=self.next_steps,
            language=languages.writing(),
            source=source,
            warnings=warnings,
        )


@dataclass(frozen=True)
class Grounds:
    """What the rules of new updates read beyond the updates themselves, read once for many of them.

    ``implemented``: for each (activity, office) pair where the office implements the activity, whether the
    writer belongs to the office; ``countries``: per activity, the beneficiary countries the breakdowns name;
    ``approved``: the approved figures plausibility compares with. Two to five queries however many updates.
    """

    implemented: dict[tuple[int, int], bool]
    countries: dict[int, dict]
    approved: measurement_rules.Approved

    @classmethod
    def read(cls, *, by, updates: list[NewUpdate]) -> "Grounds":
        pairs = {(update.activity.pk, update.office.pk) for update in updates}
        # Read for the activities and the offices, kept for their pairs (an activity has a few offices).
        implementing = (
            Activity.implementing_offices.through.objects.filter(
                activity__in={activity for activity, _office in pairs},
                office__in={office for _activity, office in pairs},
            )
            .annotate(member=Exists(Membership.objects.filter(user=by, office=OuterRef("office"))))
            .values_list("activity_id", "office_id", "member")
        )
        return cls(
            implemented={
                (activity, office): member for activity, office, member in implementing if (activity, office) in pairs
            },
            countries=measurement_rules.named_countries((update.activity, update.measurements) for update in updates),
            approved=measurement_rules.Approved.read(
                (update.activity, update.period, update.office, update.measurements) for update in updates
            ),
        )


def check_new_update(*, by, update: NewUpdate, grounds: Grounds) -> dict:
    """Refuse a new update that breaks a rule of its creation, the rules in the order they have always been
    checked in (the plan, the office, the period, the measurements); return the countries its breakdowns name.

    Whether the office already has an update there is checked apart (``create_update``, and for many
    updates at once ``actionplan.bulk``).
    """
    activity, period, office = update.activity, update.period, update.office
    if period.plan_id != activity.objective.focus_area.plan_id:
        raise InvalidInput(
            _("Period %(period)s belongs to another action plan.") % {"period": period.code}, field="period"
        )
    member = grounds.implemented.get((activity.pk, office.pk))
    if member is None:
        raise InvalidInput(
            _("Office %(office)s does not implement activity %(activity)s.")
            % {"office": office.code, "activity": activity.code},
            field="office",
        )
    if not (member or is_officer(by)):
        raise NotAllowed(_("You do not belong to office %(office)s.") % {"office": office.code}, field="office")
    check_period_open(period)
    return measurement_rules.check(activity, update.measurements, grounds.countries.get(activity.pk, {}))


def already_exists(update: NewUpdate, existing_id) -> AlreadyExists:
    """The refusal of an update whose office already has one on the activity for the period."""
    return AlreadyExists(
        _("Office %(office)s already has an update on %(activity)s for %(period)s; change that one.")
        % {"office": update.office.code, "activity": update.activity.code, "period": update.period.code},
        existing_id=str(existing_id),
    )


def create_update(
    *,
    by,
    activity: Activity,
    period: ReportingPeriod,
    office: Office,
    rag: str,
    percent_complete: int,
    narrative: str = "",
    challenges: str = "",
    next_steps: str = "",
    measurements: list[MeasurementInput] = (),
    submit: bool = False,
    source: str = ProgressUpdate.Source.WEB,
    ask_to_confirm: bool = False,
) -> ProgressUpdate:
    """Create an office's update on an activity for a period, as a draft or submitted.

    Plausibility warnings are kept on the update; with ``ask_to_confirm`` they refuse it
    instead (``NeedsConfirmation``), so that the reporter can confirm them first.
    """
    new = NewUpdate(
        activity=activity, period=period, office=office, rag=rag, percent_complete=percent_complete,
        narrative=narrative, challenges=challenges, next_steps=next_steps, measurements=list(measurements),
        submit=submit,
    )  # fmt: skip
    try:
        # One transaction (or savepoint), the unique index the judge: an update already there is read only when
        # refused, once the insert is rolled back.
        with transaction.atomic():
            return _insert_update(by=by, new=new, source=source, ask_to_confirm=ask_to_confirm)
    except IntegrityError:
        existing = ProgressUpdate.objects.filter(activity=activity, period=period, office=office).first()
        if existing is None:
            raise
        raise already_exists(new, existing.pk) from None


def _insert_update(*, by, new: NewUpdate, source: str, ask_to_confirm: bool) -> ProgressUpdate:
    """Check the new update against the rules of its creation, insert it with its measurements, submit it if
    asked; in the caller's transaction."""
    grounds = Grounds.read(by=by, updates=[new])
    countries = check_new_update(by=by, update=new, grounds=grounds)
    warnings = _plausibility(
        activity=new.activity,
        period=new.period,
        office=new.office,
        percent_complete=new.percent_complete,
        measurements=new.measurements,
        approved=grounds.approved,
        ask_to_confirm=ask_to_confirm,
    )
    update = new.row(by=by, source=source, warnings=warnings)
    update.save(force_insert=True)
    if new.measurements:
        # A new update has no measurement to replace: its rows are only added.
        Measurement.objects.bulk_create(measurement_rules.rows(update, new.measurements, countries))
    if new.submit:
        _mark_submitted(update)
    return update


def _plausibility(*, ask_to_confirm: bool, confirmed=(), **update) -> list[dict]:
    """The update's plausibility warnings; those not ``confirmed`` before refuse it when asked to confirm."""
    warnings = measurement_rules.plausibility_warnings(**update)
    if ask_to_confirm and any(warning not in confirmed for warning in warnings):
        raise NeedsConfirmation(
            _("Some figures look unusual: confirm them, or correct them."), field="confirm_warnings", warnings=warnings
        )
    return warnings


def _stored_inputs(update: ProgressUpdate) -> list[MeasurementInput]:
    """The update's stored totals, as inputs to the plausibility checks."""
    return [
        MeasurementInput(indicator=row.indicator, value=row.value)
        for row in update.measurements.totals().select_related("indicator")
    ]


@transaction.atomic
def edit_update(
    *,
    by,
    update: ProgressUpdate,
    expected_version: int,
    changes: dict,
    measurements: list[MeasurementInput] | None,
    ask_to_confirm: bool = False,
) -> ProgressUpdate:
    """Change a draft or returned update, provided nobody changed it since ``expected_version``."""
    if not may_edit(by, update):
        raise NotAllowed(_("Only office %(office)s may change this update.") % {"office": update.office.code})
    check_period_open(update.period)
    check_editable(update)
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise InvalidInput(_("These fields cannot be changed: %(fields)s.") % {"fields": ", ".join(sorted(unknown))})
    countries = {}
    if measurements is not None:
        measurements = list(measurements)
        countries = measurement_rules.check(update.activity, measurements)
    warnings = _plausibility(
        activity=update.activity,
        period=update.period,
        office=update.office,
        percent_complete=changes.get("percent_complete", update.percent_complete),
        measurements=_stored_inputs(update) if measurements is None else measurements,
        ask_to_confirm=ask_to_confirm,
        confirmed=update.warnings,
    )
    # Locked until commit: a concurrent edit waits here, then finds the version moved on.
    current = ProgressUpdate.objects.select_for_update().get(pk=update.pk)
    if current.version != expected_version:
        raise StaleVersion(
            _("This update changed since you read it (version %(current)d, you had %(expected)d); reload it.")
            % {"current": current.version, "expected": expected_version},
            current_version=current.version,
        )
    check_editable(current)
    for name, value in changes.items():
        setattr(current, name, value)
    written = [name for name in WRITTEN_FIELDS if name in changes]
    if written:
        current.language = languages.writing()
    current.warnings = warnings
    current.version += 1
    current.save(update_fields=[*changes, *(["language"] if written else []), "warnings", "version", "updated_at"])
    if measurements is not None:
        measurement_rules.replace(current, measurements, countries)
    return current


def _mark_submitted(update: ProgressUpdate, *, again: bool = False):
    """Submit the update and tell its officers, in the same transaction: a crash after the commit loses no notice."""
    notifications.submitted(update, again=again)
    stamp_submitted(update)
    update.save(update_fields=["state", "submitted_at", "version", "updated_at"])
    webhooks.emit(Event.UPDATE_SUBMITTED, update)  # in the transaction: sent if the submission commits


def stamp_submitted(update: ProgressUpdate):
    """Set on the update what its submission changes (state, time, version), without saving it."""
    update.state = ProgressUpdate.State.SUBMITTED
    update.submitted_at = timezone.now()
    update.version += 1


@transaction.atomic
def submit_update(*, by, update: ProgressUpdate, note: str = "") -> ProgressUpdate:
    """Send a draft or returned update to the programme officers for review, with a note for them.

    A returned update's resubmission is kept in its conversation, with the note if any.
    """
    update = ProgressUpdate.objects.select_for_update(of=("self",)).select_related("period", "office").get(pk=update.pk)
    check_may_submit(by, update)
    check_period_open(update.period)
    check_editable(update)
    was_returned = update.state == ProgressUpdate.State.RETURNED
    _mark_submitted(update, again=was_returned)
    if was_returned or note.strip():
        kind = UpdateComment.Kind.RESUBMISSION if was_returned else UpdateComment.Kind.SUBMISSION
        record_comment(update, by, kind, note)
    return update


@transaction.atomic
def withdraw_update(*, by, update: ProgressUpdate) -> ProgressUpdate:
    """Take a submitted update back to draft, as long as no officer has reviewed it."""
    update = ProgressUpdate.objects.select_for_update(of=("self",)).select_related("period", "office").get(pk=update.pk)
    check_may_withdraw(by, update)
    check_period_open(update.period)
    if update.state != ProgressUpdate.State.SUBMITTED or update.closed_out_at is not None:
        raise WrongState(
            _("This update is %(state)s; only a submitted update not yet reviewed can be withdrawn.")
            % {"state": update.get_state_display().lower()},
            state=update.state,
        )
    update.state = ProgressUpdate.State.DRAFT
    update.version += 1
    update.save(update_fields=["state", "version", "updated_at"])
    record_comment(update, by, UpdateComment.Kind.WITHDRAWAL, "")
    return update


@transaction.atomic
def add_comment(*, by, update: ProgressUpdate, text: str) -> UpdateComment:
    """Add a message to the conversation on an update, while it can still change."""
    update = ProgressUpdate.objects.select_for_update(of=("self",)).select_related("office").get(pk=update.pk)
    check_may_comment(by, update)
    if not text.strip():
        raise InvalidInput(_("Write the message."), field="text")
    if update.state == ProgressUpdate.State.APPROVED or update.closed_out_at is not None:
        raise WrongState(
            _("This update is %(state)s: its conversation is closed.")
            % {"state": _("closed out") if update.closed_out_at else update.get_state_display().lower()},
            state=update.state,
        )
    comment = record_comment(update, by, UpdateComment.Kind.REPLY, text)
    notifications.commented(update, comment)  # in the transaction: recorded with the comment, or not at all
    return comment


def record_comment(update: ProgressUpdate, by, kind: str, text: str) -> UpdateComment:
    return UpdateComment.objects.create(update=update, author=by, kind=kind, text=text.strip(), version=update.version)


def _check_reviewable(update: ProgressUpdate):
    if not update.may_be_reviewed_in():
        raise PeriodLocked(
            _(
                "Reporting period %(period)s is locked: open this update for review, or close it out, "
                "from the review queue's list of updates in locked periods."
            )
            % {"period": update.period.code},
            field="period",
        )
    if update.state != ProgressUpdate.State.SUBMITTED or update.closed_out_at is not None:
        raise WrongState(
            _("This update is %(state)s; only a submitted update can be reviewed.")
            % {"state": _("closed out") if update.closed_out_at else update.get_state_display().lower()},
            state=update.state,
        )


def check_may_review(user) -> None:
    """Refuse a user who is not a programme officer, before anything it sent is read."""
    if not is_officer(user):
        raise NotAllowed(_("Only a programme officer reviews updates."))


def _locked_for_review(*, by, update: ProgressUpdate, expected_version: int | None = None) -> ProgressUpdate:
    """The update, locked until commit, once the reviewer and its version are checked."""
    check_may_review(by)
    current = (
        ProgressUpdate.objects.select_for_update(of=("self",))
        .select_related("period", "activity", "office", "author")
        .get(pk=update.pk)
    )
    if expected_version is not None and current.version != expected_version:
        raise StaleVersion(
            _("This update changed since your page was loaded (version %(current)d, you had %(expected)d).")
            % {"current": current.version, "expected": expected_version},
            current_version=current.version,
        )
    return current


def _review(
    *, by, update: ProgressUpdate, state: str, comment: str, expected_version: int | None = None
) -> ProgressUpdate:
    update = _locked_for_review(by=by, update=update, expected_version=expected_version)
    _check_reviewable(update)
    update.state = state
    update.reviewed_by = by
    update.reviewed_at = timezone.now()
    # The latest reviewer's comment; the conversation keeps every one, and approval never erases one.
    if comment.strip():
        update.review_comment = comment.strip()
    update.version += 1
    update.save(update_fields=["state", "reviewed_by", "reviewed_at", "review_comment", "version", "updated_at"])
    kind = UpdateComment.Kind.APPROVAL if state == ProgressUpdate.State.APPROVED else UpdateComment.Kind.RETURN
    record_comment(update, by, kind, comment)
    notifications.reviewed(update)  # in the transaction: recorded with the review, or not at all
    webhooks.emit(Event.UPDATE_APPROVED if state == ProgressUpdate.State.APPROVED else Event.UPDATE_RETURNED, update)
    return update


@transaction.atomic
def approve_update(
    *, by, update: ProgressUpdate, comment: str = "", expected_version: int | None = None
) -> ProgressUpdate:
    """Approve a submitted update; it can no longer change. With ``expected_version``, only as it was then."""
    return _review(
        by=by, update=update, state=ProgressUpdate.State.APPROVED, comment=comment, expected_version=expected_version
    )


@dataclass(frozen=True)
class Outcome:
    """What came of one update of a bulk review."""

    key: str
    update: ProgressUpdate | None
    done: bool
    message: str


def approve_updates(*, by, updates, selection: list[tuple[str, int]]) -> list[Outcome]:
    """Approve each selected (id, version) update, among ``updates`` (those the officer may see), as it
    stood when selected; say for each what came of it. Each stands alone: one refused leaves the others."""
    found = {str(update.pk): update for update in updates.filter(pk__in=_uuids(pk for pk, _version in selection))}
    outcomes = []
    for pk, version in selection:
        update = found.get(pk)
        if update is None:
            outcomes.append(Outcome(pk, None, False, _("no such update")))
            continue
        try:
            approved = approve_update(by=by, update=update, expected_version=version)
        except DomainError as error:
            outcomes.append(Outcome(pk, update, False, error.message))
        else:
            outcomes.append(Outcome(pk, approved, True, _("approved")))
    return outcomes


def _uuids(values) -> list[uuid.UUID]:
    found = []
    for value in values:
        try:
            found.append(uuid.UUID(value))
        except ValueError:
            continue
    return found


@transaction.atomic
def reopen_for_review(*, by, update: ProgressUpdate, reason: str = "") -> ProgressUpdate:
    """Open a submitted update left in a locked period for review, that update alone; record who and when."""
    update = _locked_for_review(by=by, update=update)
    _check_stuck(update)
    update.reopened_for_review_by, update.reopened_for_review_at = by, timezone.now()
    update.version += 1
    update.save(update_fields=["reopened_for_review_by", "reopened_for_review_at", "version", "updated_at"])
    record_comment(update, by, UpdateComment.Kind.REOPENED, reason)
    return update


@transaction.atomic
def close_out(*, by, update: ProgressUpdate, reason: str) -> ProgressUpdate:
    """Take a submitted update left in a locked period out of the queue for good, saying why."""
    if not reason.strip():
        raise InvalidInput(_("Say why this update is closed out without a review."), field="reason")
    update = _locked_for_review(by=by, update=update)
    _check_stuck(update)
    update.closed_out_by, update.closed_out_at, update.closed_out_reason = by, timezone.now(), reason.strip()
    update.version += 1
    update.save(update_fields=["closed_out_by", "closed_out_at", "closed_out_reason", "version", "updated_at"])
    record_comment(update, by, UpdateComment.Kind.CLOSED_OUT, reason)
    return update


def _check_stuck(update: ProgressUpdate):
    if update.state != ProgressUpdate.State.SUBMITTED or update.closed_out_at or update.may_be_reviewed_in():
        raise WrongState(
            _("Only a submitted update left in a locked period is opened for review or closed out."),
            state=update.state,
        )


@transaction.atomic
def return_update(*, by, update: ProgressUpdate, comment: str, expected_version: int | None = None) -> ProgressUpdate:
    """Return a submitted update to its office with a comment saying what to fix.

    Not one of a locked period opened for review alone: its office could not change it there.
    """
    if not comment.strip():
        raise InvalidInput(_("Say what the office should fix."), field="comment")
    if not update.period.is_open():
        raise PeriodLocked(
            _(
                "Reporting period %(period)s is locked: its office could not change a returned update. "
                "Approve it, or close it out saying why."
            )
            % {"period": update.period.code},
            field="period",
        )
    return _review(
        by=by, update=update, state=ProgressUpdate.State.RETURNED, comment=comment, expected_version=expected_version
    )
