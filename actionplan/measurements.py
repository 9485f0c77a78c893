"""The rules a measurement obeys before it is stored, and the checks that ask a reporter to confirm.

Refusals (``check``) name the indicator and the rule, and nothing is stored; the browser
and the API show the same messages. Plausibility warnings (``plausibility_warnings``)
refuse nothing: a reporter confirms them, they are kept on the update, and the reviewing
officer sees them flagged.
"""

from collections import defaultdict
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _

from portal import numbers
from portal.errors import InvalidInput, WrongState
from portal.models import Country

from . import dimensions
from .models import Activity, Indicator, Measurement, PeriodTarget, ProgressUpdate, ReportingPeriod


@dataclass(frozen=True)
class MeasurementInput:
    """A value reported for an indicator, with its breakdown {dimension: {category: value}}."""

    indicator: Indicator
    value: Decimal
    note: str = ""
    breakdown: dict = field(default_factory=dict)


def _refuse(indicator: Indicator, rule: str, message: str, **values):
    """Refuse a measurement, naming its indicator and the rule (the API's ``indicator`` and ``rule``)."""
    # Numbers shown as the language writes them, and only here: checking a value that passes formats nothing.
    values = {name: numbers.show(value) if isinstance(value, Decimal) else value for name, value in values.items()}
    raise InvalidInput(message % {"indicator": indicator.code, **values}, field="measurements",
                       indicator=indicator.code, rule=rule)  # fmt: skip


def _check_value(indicator: Indicator, value: Decimal, part: str = ""):
    """Refuse a value beyond the indicator's measure; ``part`` names a breakdown's category, e.g. " (sex: male)"."""
    low, high = indicator.value_limits()
    names = {"part": part, "value": value}
    if indicator.measure == Indicator.Measure.YES_NO and value not in (0, 1):
        _refuse(indicator, "yes_no", _("Indicator %(indicator)s%(part)s takes yes or no, not a number."), **names)
    if value < low:
        message = _("Indicator %(indicator)s%(part)s counts, so it cannot be negative (%(value)s).")
        _refuse(indicator, "not_negative", message, **names)
    if high is not None and value > high:
        message = _("Indicator %(indicator)s%(part)s is a percentage from 0 to 100; %(value)s is over its limit.")
        _refuse(indicator, "percentage_limit", message, **names)


def _check_breakdown(indicator: Indicator, total: Decimal, breakdown: dict, countries: dict):
    named = {dimension.key: dimension for dimension in dimensions.of(indicator)}
    for key, values in breakdown.items():
        dimension = named.get(key)
        if dimension is None:
            label = dimensions.DIMENSIONS[key].label if key in dimensions.DIMENSIONS else key
            message = _("Indicator %(indicator)s is not broken down by %(dimension)s.")
            _refuse(indicator, "unknown_dimension", message, dimension=label)
        names = {"dimension": dimension.label}
        known = countries if key == "country" else dict(dimension.categories())
        for category, value in values.items():
            if category not in known:
                message = _("%(category)s is not a category of %(dimension)s for indicator %(indicator)s here.")
                _refuse(indicator, "unknown_category", message, **names, category=category)
            _check_value(indicator, value, f" ({dimension.label}: {category})")
        # Shares and yes/no answers of parts do not add up to the whole; counts do.
        if indicator.measure != Indicator.Measure.NUMBER or not values:
            continue
        added = sum(values.values(), Decimal(0))
        names.update(added=added, total=total, gap=abs(total - added))
        if dimension.exhaustive and added < total:
            message = _("The breakdown of %(indicator)s by %(dimension)s adds up to %(added)s, "
                        "%(gap)s short of the total %(total)s.")  # fmt: skip
            _refuse(indicator, "breakdown_adds_up", message, **names)
        if added > total:
            message = _("The breakdown of %(indicator)s by %(dimension)s adds up to %(added)s, "
                        "%(gap)s over the total %(total)s.")  # fmt: skip
            _refuse(indicator, "breakdown_adds_up", message, **names)


def named_countries(updates: Iterable[tuple[Activity, list[MeasurementInput]]]) -> dict[int, dict[str, Country]]:
    """The countries the measurements' breakdowns name among each activity's own beneficiary countries (those
    the form offers, and those a breakdown may name), by activity id and code: one query for all the updates,
    none when no breakdown names a country."""
    updates = list(updates)
    # A code PostgreSQL cannot take (a NUL) names no country: the check refuses it as an unknown category.
    codes = {
        code for _activity, ms in updates for m in ms for code in m.breakdown.get("country", {}) if "\0" not in code
    }
    found = defaultdict(dict)
    if codes:
        beneficiaries = Activity.beneficiary_countries.through.objects.filter(
            activity__in={activity.pk for activity, _ms in updates}, country__iso3__in=codes
        )
        for row in beneficiaries.select_related("country"):
            found[row.activity_id][row.country.iso3] = row.country
    return found


def check(activity: Activity, measurements: list[MeasurementInput], countries=None) -> dict[str, Country]:
    """Refuse measurements that break a rule; return the countries their breakdowns name, by code.

    ``countries``: those ``named_countries`` read for this activity, when read already for many updates.
    """
    if countries is None:
        countries = named_countries([(activity, measurements)])[activity.pk]
    seen = set()
    for measurement in measurements:
        indicator = measurement.indicator
        if indicator.activity_id != activity.pk and indicator.objective_id != activity.objective_id:
            message = _("Indicator %(indicator)s does not measure activity %(activity)s.")
            _refuse(indicator, "other_activity", message, activity=activity.code)
        if indicator.pk in seen:
            _refuse(indicator, "measured_twice", _("Indicator %(indicator)s is measured twice."))
        seen.add(indicator.pk)
        _check_value(indicator, measurement.value)
        _check_breakdown(indicator, measurement.value, measurement.breakdown, countries)
    return countries


# Measurements of a draft or returned update count in no figure: while they are written, those who
# cache figures (the steering dashboard) may leave their copies alone.
_writing_unapproved = ContextVar("writing_unapproved_measurements", default=False)


def writing_unapproved_measurements() -> bool:
    """Tell whether the measurement rows written now belong to an update no figure counts yet."""
    return _writing_unapproved.get()


def replace(update: ProgressUpdate, measurements: list[MeasurementInput], countries: dict[str, Country]):
    """Store the update's measurements: a total row per indicator and a row per category of its breakdown.

    Never an approved update's: its figures count, and never change.
    """
    if update.state == ProgressUpdate.State.APPROVED:
        raise WrongState(_("This update is approved: its figures never change."), state=update.state)
    marker = _writing_unapproved.set(True)
    try:
        _replace(update, measurements, countries)
    finally:
        _writing_unapproved.reset(marker)


def _replace(update: ProgressUpdate, measurements: list[MeasurementInput], countries: dict[str, Country]):
    update.measurements.all().delete()
    Measurement.objects.bulk_create(rows(update, measurements, countries))


def rows(update: ProgressUpdate, measurements: list[MeasurementInput], countries: dict[str, Country]) -> list:
    """The rows that store the update's measurements: a total per indicator and a row per category of its
    breakdown (unsaved: ``replace`` writes them, and the bulk create writes many updates' at once)."""
    rows = []
    for m in measurements:
        rows.append(Measurement(update=update, indicator=m.indicator, value=m.value, note=m.note))
        for key, values in m.breakdown.items():
            dimension = dimensions.DIMENSIONS[key]
            rows.extend(
                Measurement(
                    update=update,
                    indicator=m.indicator,
                    value=value,
                    **dimensions.row_fields(dimension, category, countries),
                )
                for category, value in values.items()
            )
    return rows


def _warning(indicator: Indicator | None, rule: str, message: str, **values) -> dict:
    code = indicator.code if indicator else None
    return {"indicator": code, "rule": rule, "message": message % {"indicator": code, **values}}


@dataclass(frozen=True)
class Approved:
    """The approved figures plausibility compares an update's with, read at once for many updates.

    ``values``: each (activity, office, indicator)'s approved totals, and ``percents``: each (activity,
    office)'s approved percent complete, as (period start, value), latest first; ``targets``: each
    (period, indicator)'s period target. Three queries however many updates (none for the values and
    targets when nothing is measured): the single create reads them for its one update.
    """

    values: dict
    percents: dict
    targets: dict

    @classmethod
    def read(cls, updates: Iterable[tuple[Activity, ReportingPeriod, object, list[MeasurementInput]]]) -> "Approved":
        """Read what ``plausibility_warnings`` compares the (activity, period, office, measurements) updates with."""
        updates = list(updates)
        if not updates:
            return cls(values={}, percents={}, targets={})
        pairs = {(activity.pk, office.pk) for activity, _period, office, _ms in updates}
        activities, offices = {activity for activity, _office in pairs}, {office for _activity, office in pairs}
        latest = max(period.starts_on for _activity, period, _office, _ms in updates)
        measured = {m.indicator.pk for *_update, ms in updates for m in ms}
        percents = defaultdict(list)
        for activity_id, office_id, starts_on, percent in (
            ProgressUpdate.objects.filter(
                activity__in=activities,
                office__in=offices,
                state=ProgressUpdate.State.APPROVED,
                period__starts_on__lt=latest,
            )
            .order_by("-period__starts_on")
            .values_list("activity_id", "office_id", "period__starts_on", "percent_complete")
        ):
            if (activity_id, office_id) in pairs:
                percents[activity_id, office_id].append((starts_on, percent))
        if not measured:
            # Not even built: the values' query, of five joins, costs more to build than an update without
            # figures costs to write.
            return cls(values={}, percents=percents, targets={})
        values = defaultdict(list)
        # Read for the activities and the offices, kept for their pairs: a condition per pair costs more to
        # build than the few rows of other pairs cost to read (an activity has a few offices).
        for activity_id, office_id, indicator_id, starts_on, value in (
            Measurement.objects.totals()
            .filter(
                indicator__in=measured,
                update__activity__in=activities,
                update__office__in=offices,
                update__state=ProgressUpdate.State.APPROVED,
                update__period__starts_on__lt=latest,
            )
            .order_by("-update__period__starts_on")
            .values_list(
                "update__activity_id", "update__office_id", "indicator_id", "update__period__starts_on", "value"
            )
        ):
            if (activity_id, office_id) in pairs:
                values[activity_id, office_id, indicator_id].append((starts_on, value))
        targets = PeriodTarget.objects.filter(
            period__in={period.pk for _activity, period, _office, _ms in updates}, indicator__in=measured
        )
        return cls(
            values=values,
            percents=percents,
            targets={(period, indicator): value for period, indicator, value in
                     targets.values_list("period_id", "indicator_id", "value")},
        )  # fmt: skip

    def last_value(self, activity: Activity, office, indicator: Indicator, period: ReportingPeriod):
        """The office's latest approved total of the indicator on the activity before the period, or None."""
        return _latest_before(self.values.get((activity.pk, office.pk, indicator.pk), ()), period)

    def last_percent(self, activity: Activity, office, period: ReportingPeriod) -> int | None:
        """The office's latest approved percent complete on the activity before the period, or None."""
        return _latest_before(self.percents.get((activity.pk, office.pk), ()), period)


def _latest_before(figures, period: ReportingPeriod):
    return next((value for starts_on, value in figures if starts_on < period.starts_on), None)


def plausibility_warnings(
    *,
    activity: Activity,
    period: ReportingPeriod,
    office,
    percent_complete: int,
    measurements: list[MeasurementInput],
    approved: Approved | None = None,
) -> list[dict]:
    """List what looks implausible in an update, against the office's last approved figures and the targets.

    ``approved``: the figures ``Approved.read`` read for this update among others; read here when not given.
    """
    if approved is None:
        approved = Approved.read([(activity, period, office, measurements)])
    last_percent = approved.last_percent(activity, office, period)
    warnings = []
    if last_percent is not None and percent_complete < last_percent:
        message = _("Percent complete is %(now)d %%, lower than the %(before)d %% last approved for this office.")
        warnings.append(_warning(None, "percent_complete_fell", message, now=percent_complete, before=last_percent))
    for m in measurements:
        indicator, value = m.indicator, m.value
        target = approved.targets.get((period.pk, indicator.pk), indicator.target_value)

        def warn(rule, message, indicator=indicator, value=value, **values):
            # The value shown as the language writes it, only for a warning given.
            warnings.append(_warning(indicator, rule, message, value=numbers.show(value), **values))

        if indicator.direction != Indicator.Direction.DECREASE and target > 0:
            share = indicator.plausible_share_of_target
            if value > target * share / 100:
                message = _("%(indicator)s: %(value)s is more than %(share)d %% of the target %(target)s.")
                warn("above_target", message, share=share, target=numbers.show(target))
        if indicator.measure == Indicator.Measure.PERCENTAGE and value > 100:
            warn("percentage_over_100", _("%(indicator)s: %(value)s %% is over 100 %%."))
        before = approved.last_value(activity, office, indicator, period)
        if before is None:
            continue
        if indicator.is_cumulative and value < before:
            message = _("%(indicator)s is a running total: %(value)s is lower than the %(before)s last approved "
                        "for this office.")  # fmt: skip
            warn("cumulative_fell", message, before=numbers.show(before))
        if before > 0 and value > before * indicator.plausible_growth:
            message = _("%(indicator)s: %(value)s is more than %(times)s times the %(before)s this office "
                        "reported before.")  # fmt: skip
            warn("jump", message, times=indicator.plausible_growth.normalize(), before=numbers.show(before))
    return warnings
