"""The officers' review queue: what waits for review, filtered from the URL, in the order it is worked.

What an officer can act on now (submitted updates of open periods, or opened for review
alone) is the queue; submitted updates left in locked periods are listed apart, for an
officer to open for review or close out. Filters and order are the same for the page, the
officer's home card and the "next update" after a review.
"""

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db.models import Count, F, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.models import Office, Organization

from .models import FocusArea, ProgressUpdate, ReportingPeriod

# The current period's updates first, and within a period the longest waiting first.
QUEUE_ORDER = ("-period__starts_on", "submitted_at", "pk")


def waiting(user):
    """Every submitted update the user may see that still waits for a review (none closed out)."""
    return ProgressUpdate.objects.visible_to(user).filter(
        state=ProgressUpdate.State.SUBMITTED, closed_out_at__isnull=True
    )


def actionable(queryset):
    """Keep those an officer can review now: in an open period, or opened for review alone."""
    return queryset.filter(Q(period__state=ReportingPeriod.State.OPEN) | Q(reopened_for_review_at__isnull=False))


def stuck_in_locked_periods(queryset):
    """Keep those no one can review until an officer opens them for review or closes them out."""
    return queryset.filter(period__state=ReportingPeriod.State.LOCKED, reopened_for_review_at__isnull=True)


def mine(user) -> Q:
    """Updates on activities the officer is responsible for, or of the focus areas it leads.

    The areas it leads are a subquery, not a join: a join through the leads would repeat an update
    once per lead and call for a DISTINCT over whole rows.
    """
    led = FocusArea.objects.filter(lead_officers=user).values("pk")
    return Q(activity__responsible_officer=user) | Q(activity__objective__focus_area__in=led)


@dataclass(frozen=True)
class CodeFilter:
    """A filter of the queue by a row named by its code in the URL: a period, a focus area, an office or an
    organisation."""

    name: str  # the URL's parameter and the filters' attribute
    model: type
    label: str
    path: str  # from an update to the row
    shown_by: str = "name"  # the row's field its choice is shown by


CODE_FILTERS = (
    CodeFilter("period", ReportingPeriod, gettext_lazy("period"), "period", shown_by="code"),
    CodeFilter("focus_area", FocusArea, gettext_lazy("focus area"), "activity__objective__focus_area"),
    CodeFilter("office", Office, gettext_lazy("office"), "office"),
    CodeFilter("organization", Organization, gettext_lazy("organisation"), "office__organization"),
)


@dataclass
class QueueFilters:
    """The queue's filters, read from the URL; unknown codes are dropped with a notice."""

    period: ReportingPeriod | None = None
    focus_area: FocusArea | None = None
    office: Office | None = None
    organization: Organization | None = None
    mine: bool = False
    flagged: bool = False
    notices: list[str] = field(default_factory=list)

    @classmethod
    def from_query(cls, query, user) -> "QueueFilters":
        """Read the filters; "mine" is on by default when the officer has updates of its own waiting."""
        filters = cls(flagged=query.get("flagged") == "1")
        for each in CODE_FILTERS:
            # No code holds a NUL (PostgreSQL refuses one in a query): such a filter is unknown.
            code = query.get(each.name, "").replace("\x00", "\ufffd")
            if code:
                found = each.model.objects.filter(code=code).first()
                if found is None:
                    filters.notices.append(
                        _("Unknown %(what)s %(code)s: that filter is ignored.") % {"what": each.label, "code": code}
                    )
                setattr(filters, each.name, found)
        if query.get("mine") in ("0", "1"):
            filters.mine = query["mine"] == "1"
        else:
            filters.mine = actionable(waiting(user)).filter(mine(user)).exists()
        return filters

    def apply(self, queryset, user):
        for each in CODE_FILTERS:
            if (chosen := getattr(self, each.name)) is not None:
                queryset = queryset.filter(**{each.path: chosen})
        if self.mine:
            queryset = queryset.filter(mine(user))
        if self.flagged:
            queryset = queryset.exclude(warnings=[])
        return queryset

    def chosen_codes(self) -> dict[str, str]:
        """The code of each filter chosen, by the filter's name."""
        return {each.name: chosen.code for each in CODE_FILTERS if (chosen := getattr(self, each.name)) is not None}

    def as_query(self, **changes) -> str:
        """The filters as a URL query, with ``changes`` applied (None drops a filter)."""
        chosen = self.chosen_codes()
        values = {
            **{each.name: chosen.get(each.name) for each in CODE_FILTERS},
            "mine": "1" if self.mine else "0",
            "flagged": "1" if self.flagged else None,
        }
        values.update(changes)
        return urlencode({key: value for key, value in values.items() if value is not None})


def queue(user, filters: QueueFilters):
    """The filtered queue, in the order it is worked, with what its rows show."""
    return (
        filters.apply(actionable(waiting(user)), user)
        .select_related("activity", "period", "office__organization", "author")
        .order_by(*QUEUE_ORDER)
    )


def next_after(user, filters: QueueFilters, done: ProgressUpdate) -> ProgressUpdate | None:
    """The update to open after reviewing ``done``: the one after it in the same filtered queue (one the
    officer skipped stays behind), else the first still waiting."""
    waiting_now = queue(user, filters).exclude(pk=done.pk)
    after = waiting_now.filter(
        Q(period__starts_on__lt=done.period.starts_on)
        | Q(period__starts_on=done.period.starts_on, submitted_at__gt=done.submitted_at)
        | Q(period__starts_on=done.period.starts_on, submitted_at=done.submitted_at, pk__gt=done.pk)
    )
    return after.first() or waiting_now.first()


def facets(user, filters: QueueFilters) -> dict[str, list[dict]]:
    """For each filter, its choices (code and name) with how many updates each would show, the other
    filters applied.

    One query counts the queue (its "mine" and "flagged" filters applied) by every combination of the four
    filters' choices, a few thousand at most (the periods of the queue × focus areas × offices); each filter's
    counts are the sums of the combinations that the other filters keep. A query a filter counted the whole
    queue four times: at scale L, 10,000 updates waiting, 14 ms each. The choices are in the order of their
    codes' characters (ASCII letters, digits and hyphens), as Python sorts them.
    """
    unfaceted = QueueFilters(mine=filters.mine, flagged=filters.flagged)
    keys = {}
    for each in CODE_FILTERS:
        keys[f"{each.name}_code"] = F(f"{each.path}__code")
        keys[f"{each.name}_name"] = F(f"{each.path}__{each.shown_by}")
    combinations = list(
        unfaceted.apply(actionable(waiting(user)), user).values(**keys).annotate(n=Count("pk")).order_by()
    )
    chosen = filters.chosen_codes()
    counted = {}
    for name in (each.name for each in CODE_FILTERS):
        others = [(other, code) for other, code in chosen.items() if other != name]
        choices = {}
        for row in combinations:
            if all(row[f"{other}_code"] == code for other, code in others):
                choice = row[f"{name}_code"]
                choices.setdefault(choice, {"code": choice, "name": row[f"{name}_name"], "n": 0})["n"] += row["n"]
        counted[name] = [choices[code] for code in sorted(choices)]
    return counted
