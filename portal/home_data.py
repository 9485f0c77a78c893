"""What the home page shows each role, read in a fixed number of queries."""

from operator import attrgetter

from django.contrib.auth import get_user_model
from django.db.models import Case, Exists, OuterRef, Prefetch, Subquery, When
from django.utils import timezone

from actionplan import review_queue
from actionplan.models import RAG, ActionPlan, Activity, ProgressUpdate, ReportingPeriod
from actionplan.paging import ReadInTwoSteps
from steering.models import ActionItem, Meeting

HOME_ROWS = 10
# The (activity, office) pairs the reporter's home lists for a period, the first of them: all of them are on
# the page of what is due (``due_pairs``), which the home links to when there are more.
HOME_PAIRS = 20
# What the reporter's lists show of an activity, of an update (its activity and period), of an (activity, office)
# pair and of a person (``people.person``): their other columns, an update's texts above all, are not read.
ACTIVITY_SHOWN = ("activity__code", "activity__title", "activity__language")
SHOWN = (*ACTIVITY_SHOWN, "period__code")
# A pair's activity's sensitivity too: the page of what is due logs each restricted one it lists.
PAIR_SHOWN = (*ACTIVITY_SHOWN, "activity__sensitivity", "office__code", "office__name")
PERSON = ("first_name", "last_name", "username")

ActivityOffice = Activity.implementing_offices.through


def _missing_in(period):
    """Keep the (activity, office) pairs with no update for the period."""
    return ~Exists(_in_period(period))


def _in_period(period):
    """The update of the outer (activity, office) pair for the period, if any.

    Unordered: there is one at most (``update_one_per_activity_period_office``), found by that index alone,
    where the updates' default order would join the activity, the office and the period to sort it.
    """
    return ProgressUpdate.objects.filter(
        activity=OuterRef("activity"), office=OuterRef("office"), period=period
    ).order_by()


def for_officer(user, plan) -> dict:
    """The officer's queue as the queue page opens (what it can act on now, its own first), what is off
    track or missing, and what changed lately."""
    # Missing updates are those of the latest period already due, not of the quarter still running.
    period = ReportingPeriod.objects.filter(plan=plan, due_on__lt=timezone.localdate()).order_by("-due_on").first()
    filters = review_queue.QueueFilters.from_query({}, user)
    queue_count, queue_head = ReadInTwoSteps(review_queue.queue(user, filters)).counted_slice(0, HOME_ROWS)
    standing = Activity.objects.with_latest_update().order_by("code")
    # Off track, or missing an update: two lists, each read in code order until ten are found. As one
    # condition (one or the other), the planner hashes every missing pair of the plan before the first row.
    off_track = list(standing.filter(latest_rag=RAG.OFF_TRACK)[:HOME_ROWS])
    missing = []
    if period is not None:
        pair_missing = ActivityOffice.objects.filter(activity=OuterRef("pk")).filter(_missing_in(period))
        missing = list(standing.filter(Exists(pair_missing))[:HOME_ROWS])
    # An activity among the first ten of the two lists together is among the first ten of its own: whether
    # it misses an update is whether it is in ``missing``.
    missing_ids = {activity.pk for activity in missing}
    both = {activity.pk: activity for activity in [*off_track, *missing]}
    attention = sorted(both.values(), key=attrgetter("code"))[:HOME_ROWS]
    for activity in attention:
        activity.missing_update = activity.pk in missing_ids
    return {
        "overdue_period": period,
        "queue_count": queue_count,
        "queue": queue_head,
        "queue_query": filters.as_query(),
        "queue_mine": filters.mine,
        "stuck_count": review_queue.stuck_in_locked_periods(review_queue.waiting(user)).count(),
        "attention": attention,
        "recent": ProgressUpdate.objects.exclude(state=ProgressUpdate.State.DRAFT)
        .select_related("activity", "period", "office")
        .order_by("-updated_at")[:HOME_ROWS],
    }


# The pairs due, what the reporter has to do first: no update written yet, one returned, a draft; then those
# submitted, then approved.
State = ProgressUpdate.State
WORK_ORDER = (State.RETURNED, State.DRAFT, State.SUBMITTED, State.APPROVED)
TO_DO_FIRST = Case(
    When(update_state__isnull=True, then=0),
    *(When(update_state=state, then=rank) for rank, state in enumerate(WORK_ORDER, start=1)),
    default=len(WORK_ORDER) + 1,
)


def latest_open_period(plan) -> ReportingPeriod | None:
    """The period reporters report on now: the plan's latest open one (``plan`` a plan, or a query of one)."""
    return ReportingPeriod.objects.filter(plan=plan, state=ReportingPeriod.State.OPEN).order_by("-starts_on").first()


def period_due(code: str | None) -> ReportingPeriod | None:
    """The open period ``code`` names, or without a code the current plan's latest open one (``latest_open_period``);
    None when there is no such period."""
    if code:
        return ReportingPeriod.objects.filter(code=code, state=ReportingPeriod.State.OPEN).first()
    return latest_open_period(ActionPlan.objects.current())


def _pairs(user, period):
    """The (activity, office) pairs of the user's offices in the period's plan, each with the id of its update
    for the period if one is written."""
    return (
        ActivityOffice.objects.filter(
            office__memberships__user=user, activity__objective__focus_area__plan=period.plan_id
        )
        .select_related("activity", "office")
        .only(*PAIR_SHOWN)
        .annotate(update_id=Subquery(_in_period(period).values("pk")[:1]))
    )


def due_pairs(user, period):
    """The pairs of the user's offices for the period (``_pairs``), with their update's state: what is left to do
    first (``TO_DO_FIRST``), then by activity and office code."""
    return (
        _pairs(user, period)
        .annotate(update_state=Subquery(_in_period(period).values("state")[:1]))
        .order_by(TO_DO_FIRST, "activity__code", "office__code")
    )


def _first_pairs(pairs) -> tuple[list, bool]:
    """The first ``HOME_PAIRS`` of the pairs, and whether there are more: one row more read, no count."""
    rows = list(pairs[: HOME_PAIRS + 1])
    return rows[:HOME_PAIRS], len(rows) > HOME_PAIRS


def for_reporter(user, period) -> dict:
    # What a reporter may read of the updates is its own offices' (``visible_to``): its own, with no second
    # join of its memberships, which would double the planning of each list below.
    mine = ProgressUpdate.objects.visible_to(user)
    due, more_due = _first_pairs(due_pairs(user, period)) if period is not None else ([], False)
    return {
        "due": due,
        "more_due": more_due,
        "overdue": _overdue_for(user, period),
        # What it can act on: returned updates of open periods, each with the officer's comment. Their reviewers
        # are read apart: one more table in this join doubled its planning (a tenth relation under a LIMIT).
        "returned": mine.filter(state=ProgressUpdate.State.RETURNED, period__state=ReportingPeriod.State.OPEN)
        .select_related("activity", "period", "office")
        .only(*SHOWN, "review_comment", "office__name", "reviewed_by")
        .prefetch_related(Prefetch("reviewed_by", get_user_model().objects.only(*PERSON)))
        .order_by("-reviewed_at")[:HOME_ROWS],
        "drafts": mine.filter(state=ProgressUpdate.State.DRAFT)
        .select_related("activity", "period")
        .only(*SHOWN, "updated_at")[:HOME_ROWS],
        # The committee's follow-ups its offices (or the reporter) own, still to be done.
        "office_items": ActionItem.objects.visible_to(user)
        .exclude(state__in=(ActionItem.State.DONE, ActionItem.State.DROPPED))
        .select_related("owner_office")
        .order_by("due_on", "pk")[:HOME_ROWS],
        "today": timezone.localdate(),
    }


def _overdue_for(user, current) -> list[dict]:
    """Per open period already past its due date (before ``current``): the user's offices' updates not
    yet submitted, each with its draft if there is one. One query per such period."""
    found = []
    late_periods = ReportingPeriod.objects.filter(state=ReportingPeriod.State.OPEN, due_on__lt=timezone.localdate())
    if current is not None:
        late_periods = late_periods.filter(plan=current.plan_id).exclude(pk=current.pk)
    for period in late_periods.order_by("due_on"):
        reported = _in_period(period).filter(state__in=(ProgressUpdate.State.SUBMITTED, ProgressUpdate.State.APPROVED))
        pairs, more = _first_pairs(
            _pairs(user, period).exclude(Exists(reported)).order_by("activity__code", "office__code")
        )
        found.append({"period": period, "pairs": pairs, "more": more})
    return [entry for entry in found if entry["pairs"]]


def for_committee(plan) -> dict:
    meetings = Meeting.objects.filter(committee__plan=plan)
    return {
        "next_meeting": meetings.filter(state=Meeting.State.SCHEDULED).order_by("date").first(),
        "last_meeting": meetings.filter(state=Meeting.State.HELD).order_by("-date").first(),
    }
