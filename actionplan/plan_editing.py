"""Change the plan itself: activities, objectives, indicators, reporting periods (programme officers)."""

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from portal import languages
from portal.errors import NotAllowed, StaleVersion
from portal.roles import is_officer

from . import versions
from .evidence import unpublish_activity_evidence
from .models import Activity, Indicator, PeriodTarget
from .plan_forms import FIGURE_FIELDS


@transaction.atomic
def save_plan_item(*, by, form, expected_version: int | None):
    """Save a plan item from its validated form, unless someone changed it since ``expected_version``.

    The row is locked while its version is compared, so of two officers saving the
    same version, the second is told to reload instead of silently overwriting.
    """
    if not is_officer(by):
        raise NotAllowed(_("Only a programme officer changes the plan."))
    item = form.instance
    if item.pk is not None:
        versions.refuse_direct_edit(item=item, changed=governed_changes(form))
        current = type(item).objects.select_for_update().values_list("version", flat=True).get(pk=item.pk)
        if current != expected_version:
            raise StaleVersion(
                _(
                    "Someone else saved this %(item)s while you were editing it (now version %(current)d, "
                    "yours was %(expected)s). Your changes are below: reload the page to see theirs, "
                    "then apply yours again."
                )
                % {"item": item._meta.verbose_name, "current": current, "expected": expected_version},
                current_version=current,
            )
        item.version = current + 1
    # Kept by django-simple-history with the row's history (required for a baseline or target change).
    reason = form.cleaned_data.get("change_reason", "").strip() or None
    item._change_reason = reason
    if hasattr(item, "language") and (item.pk is None or {"title", "description"} & set(form.changed_data)):
        item.language = languages.writing()
    saved = form.save()
    if isinstance(saved, Activity):
        unpublish_activity_evidence(activity=saved, by=by)
    if hasattr(form, "period_targets"):
        set_period_targets(indicator=saved, targets=form.period_targets(), reason=reason)
    return saved


def governed_changes(form) -> list[str]:
    """The governed fields (``versions.GOVERNED``) whose value the bound, valid form changes."""
    if not isinstance(form.instance, tuple(versions.MODELS.values())):
        return []  # a reporting period: no version governs it
    kind = versions.kind_of(form.instance)
    changed = [name for name in versions.GOVERNED[kind] if name in form.changed_data]
    if hasattr(form, "period_targets"):
        stored = {period: value for period in form.periods if (value := form.stored_targets.get(period.pk)) is not None}
        if form.period_targets() != stored:
            changed.append(versions.PERIOD_TARGETS)
    return changed


def set_period_targets(*, indicator, targets: dict, reason: str | None = None):
    """Make the indicator's period targets exactly ``targets`` ({period: value}), each change with ``reason``.

    Rows are saved and deleted one by one, not in bulk, so that each change is in the history.
    """
    for target in indicator.period_targets.exclude(period__in=list(targets)):
        target._change_reason = reason
        target.delete()
    stored = {target.period_id: target for target in indicator.period_targets.all()}
    for period, value in targets.items():
        target = stored.get(period.pk) or PeriodTarget(indicator=indicator, period=period)
        if target.pk is not None and target.value == value:
            continue
        target.value = value
        target._change_reason = reason
        target.save()


@dataclass
class FigureChange:
    """One change of an indicator's baseline or of a target, as its page lists it."""

    when: datetime.datetime
    who: object
    what: str
    before: object
    after: object
    reason: str


def figure_changes(indicator, *, limit: int = 50) -> list[FigureChange]:
    """The changes of the indicator's baseline, end target and period targets, newest first.

    Two reads: the indicator's history and its period targets' history, each row compared with the
    one before it. The indicator's creation is no change; a period target set is one (from nothing).
    """
    labels = {name: Indicator._meta.get_field(name).verbose_name for name in FIGURE_FIELDS}
    labels["target_value"] = _("End target")
    changes = []
    previous = None
    for row in indicator.history.select_related("history_user").order_by("history_date", "history_id"):
        if previous is not None:
            for name in FIGURE_FIELDS:
                before, after = getattr(previous, name), getattr(row, name)
                if before != after:
                    changes.append(
                        FigureChange(row.history_date, row.history_user, str(labels[name]), before, after,
                                     row.history_change_reason or "")
                    )  # fmt: skip
        previous = row
    last_value = {}
    targets = PeriodTarget.history.filter(indicator_id=indicator.pk).select_related("history_user", "period")
    for row in targets.order_by("history_date", "history_id"):
        before = last_value.get(row.period_id)
        after = None if row.history_type == "-" else row.value
        last_value[row.period_id] = after
        changes.append(
            FigureChange(row.history_date, row.history_user, _("Target for %(period)s") % {"period": row.period.code},
                         before, after, row.history_change_reason or "")
        )  # fmt: skip
    changes.sort(key=lambda change: change.when, reverse=True)
    return changes[:limit]
