"""Record the committee's meetings: reviews, decisions, action items, minutes.

The secretary and programme officers record and submit the minutes for signature; a
co-chair of each party signs them (``steering.signoff``), after which the meeting's record
is read-only; owners of an action item comment on it.
"""

from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.dates import show_date
from portal.errors import AlreadyExists, InvalidInput, NotAllowed, WrongState
from portal.models import Role
from portal.notifications import notify
from portal.roles import group_names, is_officer
from webhooks import services as webhooks
from webhooks.models import Event

from . import dashboard, dashboard_cache, signoff
from .models import ActionItem, ActionItemNote, Decision, Meeting, Review


def may_record(user) -> bool:
    """Tell whether the user records meetings (the committee's secretary and programme officers do)."""
    return is_officer(user) or Role.COMMITTEE_SECRETARY in group_names(user)


def _check_records(user):
    if not may_record(user):
        raise NotAllowed(_("Only the committee's secretary or a programme officer records meetings."))


def _check_open_record(meeting: Meeting):
    if meeting.minutes_approved_at is not None:
        raise WrongState(
            _("The minutes of this meeting were approved on %(date)s: its record is read-only.")
            % {"date": meeting.minutes_approved_at.date().isoformat()}
        )
    if meeting.minutes_submitted_at is not None:
        raise WrongState(
            _(
                "The minutes of this meeting were submitted for the co-chairs' signatures on %(date)s: its record "
                "changes again only if a co-chair declines them."
            )
            % {"date": meeting.minutes_submitted_at.date().isoformat()}
        )


def area_figures(*, meeting: Meeting, focus_area, user) -> dict:
    """The dashboard figures of one focus area as they stand, for the review form and its frozen copy."""
    filters = dashboard.Filters.from_query({}, meeting.committee.plan)
    filters.focus_area = focus_area
    figures = dashboard_cache.figures(filters, user)
    area = figures["focus_areas"][0]
    return {**area, "period": filters.period.code if filters.period else None, "as_of": timezone.now().isoformat()}


FIGURES_SALT = "steering.review-figures"
# How long the figures shown beside a review form may be frozen as shown.
SHOWN_FIGURES_MAX_AGE = 12 * 60 * 60


def shown_figures_token(*, meeting: Meeting, focus_area, figures: dict) -> str:
    """Sign the figures shown beside the review form, so that exactly those are frozen into the review."""
    return signing.dumps({"meeting": meeting.pk, "area": focus_area.pk, "figures": figures}, salt=FIGURES_SALT)


def _figures_to_freeze(*, meeting: Meeting, focus_area, user, shown: str) -> dict:
    """The figures the recorder saw for this area, if the page vouches for them; else as they stand now."""
    try:
        seen = signing.loads(shown, salt=FIGURES_SALT, max_age=SHOWN_FIGURES_MAX_AGE) if shown else None
    except signing.BadSignature:
        seen = None
    if seen and seen.get("meeting") == meeting.pk and seen.get("area") == focus_area.pk:
        return seen["figures"]
    return area_figures(meeting=meeting, focus_area=focus_area, user=user)


@transaction.atomic
def record_review(
    *, by, meeting: Meeting, focus_area, rating: str, assessment: str, recommendations: str, shown_figures: str = ""
) -> Review:
    """Record the committee's review of a focus area, freezing beside it the figures shown to the recorder
    for that area (as they stand now, when none were shown)."""
    _check_records(by)
    _check_open_record(meeting)
    if focus_area.plan_id != meeting.committee.plan_id:
        raise InvalidInput(_("This focus area belongs to another plan."), field="focus_area")
    try:
        with transaction.atomic():
            return Review.objects.create(
                meeting=meeting,
                focus_area=focus_area,
                rating=rating,
                assessment=assessment,
                recommendations=recommendations,
                figures=_figures_to_freeze(meeting=meeting, focus_area=focus_area, user=by, shown=shown_figures),
                recorded_by=by,
            )
    except IntegrityError:
        raise AlreadyExists(
            _("%(area)s was already reviewed at this meeting; change that review instead.")
            % {"area": _(focus_area.name)},
            field="focus_area",
        ) from None


@transaction.atomic
def edit_review(*, by, review: Review, rating: str, assessment: str, recommendations: str) -> Review:
    """Change a review until the minutes are approved; its frozen figures stay as they were."""
    _check_records(by)
    _check_open_record(Meeting.objects.select_for_update().get(pk=review.meeting_id))
    review.rating, review.assessment, review.recommendations = rating, assessment, recommendations
    review.save(update_fields=["rating", "assessment", "recommendations", "updated_at"])
    return review


@transaction.atomic
def delete_review(*, by, review: Review) -> None:
    """Take a review off the record until the minutes are approved."""
    _check_records(by)
    _check_open_record(review.meeting)
    review.delete()


@transaction.atomic
def edit_decision(*, by, decision: Decision, text: str, focus_area=None) -> Decision:
    """Change a decision's text or area until the minutes are approved."""
    _check_records(by)
    _check_open_record(Meeting.objects.select_for_update().get(pk=decision.meeting_id))
    decision.text, decision.focus_area = text, focus_area
    decision.save(update_fields=["text", "focus_area", "updated_at"])
    return decision


@transaction.atomic
def delete_decision(*, by, decision: Decision) -> None:
    """Take a decision off the record until the minutes are approved; those after it move up a number."""
    _check_records(by)
    meeting = Meeting.objects.select_for_update().get(pk=decision.meeting_id)
    _check_open_record(meeting)
    # Read again under the meeting's lock: a delete beside this one may have renumbered it.
    decision = meeting.decisions.filter(pk=decision.pk).first()
    if decision is None:
        return
    number = decision.number
    decision.delete()
    for later in meeting.decisions.filter(number__gt=number).order_by("number"):
        later.number -= 1
        later.save(update_fields=["number", "updated_at"])


@transaction.atomic
def add_decision(*, by, meeting: Meeting, text: str, focus_area=None) -> Decision:
    """Record a decision, numbered next within its meeting."""
    _check_records(by)
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    _check_open_record(meeting)
    number = (meeting.decisions.aggregate(last=Max("number"))["last"] or 0) + 1
    return Decision.objects.create(meeting=meeting, number=number, text=text, focus_area=focus_area)


@transaction.atomic
def add_action_item(
    *, by, meeting: Meeting, description: str, due_on, owner_user=None, owner_office=None, decision=None
):
    """Assign a follow-up to a person or an office; its owner is told by e-mail."""
    _check_records(by)
    _check_open_record(meeting)
    if (owner_user is None) == (owner_office is None):
        raise InvalidInput(_("Give the action item one owner: a person or an office."), field="owner_user")
    if due_on < meeting.date:
        raise InvalidInput(
            _("The due date cannot be before the meeting (%(date)s).") % {"date": meeting.date.isoformat()},
            field="due_on",
        )
    item = ActionItem.objects.create(
        meeting=meeting,
        decision=decision,
        description=description,
        due_on=due_on,
        owner_user=owner_user,
        owner_office=owner_office,
    )
    _notify_owner(item)  # in the transaction: recorded with the item, or not at all
    webhooks.emit(Event.ACTION_ITEM_CHANGED, item)
    return item


def _notify_owner(item: ActionItem):
    """Tell the item's owner (its office's members, for an office) what the committee asks, by when."""
    owners = [item.owner_user] if item.owner_user else list(item.owner_office.members.all())
    notify(
        recipients=owners,
        kind="action_item",
        subject=lambda: _("Action item for you, due %(date)s") % {"date": show_date(item.due_on)},
        body=lambda: (
            _("The steering committee meeting of %(date)s assigned you this action item:\n\n%(text)s")
            % {"date": show_date(item.meeting.date), "text": item.description}
        ),
        url=reverse("action-item-detail", args=[item.pk]),
    )


def may_comment(user, item: ActionItem) -> bool:
    """Tell whether the user may add a follow-up note: its owners, the secretary and officers may."""
    if may_record(user) or item.owner_user_id == user.pk:
        return True
    return item.owner_office_id is not None and item.owner_office.memberships.filter(user=user).exists()


@transaction.atomic
def add_note(*, by, item: ActionItem, text: str, state: str | None = None) -> ActionItemNote:
    """Add a follow-up note to an action item, and optionally move it to another state."""
    if not may_comment(by, item):
        raise NotAllowed(_("Only the item's owner, the secretary or a programme officer comments on it."))
    if not text.strip():
        raise InvalidInput(_("Write the note."), field="text")
    dropped = ActionItem.State.DROPPED
    if state and state != item.state and dropped in (state, item.state) and not may_record(by):
        raise NotAllowed(
            _("Only the committee's secretary or a programme officer drops an action item, or takes one up again."),
            field="state",
        )
    if state and state != item.state:
        item.state = state
        item.closed_at = timezone.now() if item.is_closed() else None
        item.save(update_fields=["state", "closed_at", "updated_at"])
    note = ActionItemNote.objects.create(item=item, author=by, text=text)
    webhooks.emit(Event.ACTION_ITEM_CHANGED, item)  # a note or a new state: partners follow both
    return note


def _minutes_label(meeting: Meeting) -> str:
    return _("the minutes of the meeting of %(date)s") % {"date": show_date(meeting.date)}


def _minutes_submitted(meeting: Meeting, round) -> None:
    meeting.minutes_submitted_at = round.submitted_at
    meeting.state = Meeting.State.HELD
    meeting.save(update_fields=["minutes_submitted_at", "state", "updated_at"])


def _minutes_approved(meeting: Meeting, round) -> None:
    meeting.minutes_approved_at = round.closed_at
    meeting.minutes_approved_by = round.signatures.order_by("-signed_at", "-pk").first().signer
    meeting.save(update_fields=["minutes_approved_at", "minutes_approved_by", "updated_at"])


def _minutes_declined(meeting: Meeting, round) -> None:
    meeting.minutes_submitted_at = None
    meeting.save(update_fields=["minutes_submitted_at", "updated_at"])


MINUTES = signoff.register(
    signoff.Kind(
        key="minutes",
        model=Meeting,
        label=_minutes_label,
        url=lambda meeting: reverse("meeting-detail", args=[meeting.pk]),
        committee=lambda meeting: meeting.committee,
        submitted=_minutes_submitted,
        approved=_minutes_approved,
        declined=_minutes_declined,
    )
)


@transaction.atomic
def save_minutes(*, by, meeting: Meeting, minutes: str) -> Meeting:
    """Write the meeting's minutes (secretary and officers) until they are submitted for signature."""
    _check_records(by)
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    _check_open_record(meeting)
    meeting.minutes = minutes
    meeting.save(update_fields=["minutes", "updated_at"])
    return meeting


@transaction.atomic
def submit_minutes(*, by, meeting: Meeting, minutes: str | None = None) -> Meeting:
    """Submit the minutes (and so the meeting's record) for the signatures of a co-chair of each party; the
    record is read-only from then, and the co-chairs are told. ``minutes``, when given, are saved first."""
    _check_records(by)
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    _check_open_record(meeting)
    if minutes is not None:
        meeting.minutes = minutes
        meeting.save(update_fields=["minutes", "updated_at"])
    if not meeting.minutes.strip():
        raise InvalidInput(_("Write the minutes before submitting them for signature."), field="minutes")
    if meeting.date > timezone.localdate():
        raise WrongState(
            _("The meeting is on %(date)s: its minutes are submitted once it is held.")
            % {"date": show_date(meeting.date)}
        )
    signoff.submit(by=by, subject=meeting, kind=MINUTES.key)
    meeting.refresh_from_db()
    return meeting


def schedule_meeting(*, by, form) -> Meeting:
    """Save a new or changed meeting from its validated form (secretary and officers)."""
    _check_records(by)
    if form.instance.pk:
        _check_open_record(form.instance)
    return form.save()
