"""Indicator figures: the one rule that turns approved measurements into the number every page shows.

An indicator's figure for a reporting period is computed from approved values only, in
SQL, by the indicator's own rule (``Indicator.office_rule``, ``Indicator.period_rule``):

1. Which values stand for the period. Each update stream (an office reporting on an
   activity) counts once:
   - per period: the values reported for that very period (none reported: no figure);
   - cumulative: each stream's latest value reported up to the period, since each value
     is a running total (a stream that skipped the period counts with its last value);
   - latest: the values of the latest period, up to this one, in which any was reported.
2. How they combine: their sum, mean, maximum, or the one reported last (the latest
   period's, then the last submitted, then the first office's).
3. What it is measured against: the period's own target when the indicator has one, else
   its end target. "% of target" is the share of the way from the baseline to the
   target; "reached" follows the direction (at or below the target for a decrease).

The total figures of all offices are kept, computed, in ``IndicatorFigure`` by
``actionplan.standings`` whenever approved values or rules change; pages read them there.

The figure is rounded to two decimals, and everything else is derived from the rounded
figure, so that what a page shows is what it was compared with. Every page, the
dashboard, the progress reports and the API take their figures from here, and the
dashboard and reports summarise them with ``summary_by_area``.
"""

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import F
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from portal import countries
from portal.models import Country

from . import dimensions
from .models import (
    Activity,
    FocusArea,
    Indicator,
    IndicatorFigure,
    Measurement,
    Objective,
    PeriodTarget,
    ProgressUpdate,
    ReportingPeriod,
    VersionIndicator,
    VersionPeriodTarget,
)

TOTAL = ""
# The ``dimension`` of every breakdown at once: each category is then "<dimension>:<category>" ("sex:female").
EVERY_DIMENSION = "*"


@dataclass(frozen=True)
class Figure:
    """An indicator's figure for a period (for one category of a breakdown, or the total)."""

    indicator_id: int
    period_id: int
    category: str
    value: Decimal | None
    # How many approved values were combined, from how many offices.
    values: int
    offices: int
    # Of those values, how many were reported for this very period (the rest carried forward).
    reported: int
    latest_reported_on: date | None
    target: Decimal | None
    target_kind: str  # "period" or "end"
    share: float | None
    reached: bool | None

    @property
    def is_gap(self) -> bool:
        """Tell whether nothing was reported for this very period (a chart leaves it out)."""
        return self.reported == 0


def _tables() -> dict:
    return {
        "measurement": Measurement._meta.db_table,
        "update": ProgressUpdate._meta.db_table,
        "period": ReportingPeriod._meta.db_table,
        "indicator": Indicator._meta.db_table,
        "figure": IndicatorFigure._meta.db_table,
        "target": PeriodTarget._meta.db_table,
        "country": Country._meta.db_table,
        "objective": Objective._meta.db_table,
        "activity": Activity._meta.db_table,
        "area": FocusArea._meta.db_table,
    }


def _indicator_sql(indicators) -> tuple[str, list]:
    """The SQL selecting the indicators' ids, with its parameters (none selected for an empty ``pk__in``)."""
    try:
        return indicators.order_by().values("pk").query.sql_with_params()
    except EmptyResultSet:
        return f"SELECT id FROM {Indicator._meta.db_table} WHERE 1 = 0", []  # noqa: S608  # nosec B608  # a table name


def _category(dimension: str | None) -> tuple[str, str]:
    """The SQL that keeps the rows of one dimension (or the totals), and names their category."""
    if dimension is None:
        return "m.country_id IS NULL AND m.sex = '' AND m.age_band = ''", "''"
    if dimension == "sex":
        return "m.sex <> ''", "m.sex"
    if dimension == "age":
        return "m.age_band <> ''", "m.age_band"
    if dimension == "country":
        return "m.country_id IS NOT NULL", "c.iso3"
    if dimension == EVERY_DIMENSION:
        # A row is the total or one category of one dimension (Measurement's check constraint).
        return (
            "NOT (m.country_id IS NULL AND m.sex = '' AND m.age_band = '')",
            "CASE WHEN m.sex <> '' THEN 'sex:' || m.sex WHEN m.age_band <> '' THEN 'age:' || m.age_band "
            "ELSE 'country:' || c.iso3 END",
        )
    raise ValueError(f"unknown dimension {dimension!r}")


def _chosen_sql(indicators, periods, offices=None, dimension: str | None = None) -> tuple[str, list]:
    """The SQL (common table expressions up to ``chosen``) of the approved values that stand for each
    indicator and period under the indicator's period rule, with its parameters.

    Which updates stand is decided on the totals alone; a breakdown (``dimension``) then takes
    those same updates' rows of that dimension, so that the parts always belong to the total
    shown beside them.
    """
    indicator_sql, indicator_params = _indicator_sql(indicators)
    period_ids = [period.pk for period in periods]
    # The latest point as a value, not a subquery: the planner then sees how many values it keeps.
    params = [*period_ids, *indicator_params, max(period.starts_on for period in periods)]
    office_filter = ""
    if offices is not None:
        office_ids = [office.pk for office in offices] or [None]
        office_filter = f"AND u.office_id IN ({', '.join(['%s'] * len(office_ids))})"
        params.extend(office_ids)
    t = _tables()
    totals, _total = _category(None)
    if dimension is None:
        rows = "SELECT ct.*, '' AS category FROM chosen_totals ct"
    else:
        keep, category = _category(dimension)
        rows = f"""
        SELECT ct.point_id, ct.point_start, ct.indicator_id, ct.update_id, ct.office_id, ct.activity_id,
               ct.reported_on, ct.reported_period, ct.submitted_at, ct.office_rule, ct.recency, m.value,
               {category} AS category
        FROM chosen_totals ct
        JOIN {t["measurement"]} m ON m.update_id = ct.update_id AND m.indicator_id = ct.indicator_id
        LEFT JOIN {t["country"]} c ON c.id = m.country_id
        WHERE {keep}
        """  # noqa: S608  # nosec B608  # only fixed fragments are formatted in
    # Window functions over the approved totals up to each period; SQLite and PostgreSQL alike.
    # Periods are told apart by their id, their start dates order them.
    sql = f"""
    WITH points AS (
        SELECT id AS point_id, starts_on AS point_start FROM {t["period"]}
        WHERE id IN ({", ".join(["%s"] * len(period_ids))})
    ),
    base AS (
        SELECT m.indicator_id, u.id AS update_id, u.office_id, u.activity_id, p.starts_on AS reported_on,
               p.id AS reported_period, m.value, u.submitted_at
        FROM {t["measurement"]} m
        JOIN {t["update"]} u ON u.id = m.update_id
        JOIN {t["period"]} p ON p.id = u.period_id
        WHERE u.state = 'approved' AND {totals}
          AND m.indicator_id IN ({indicator_sql})
          AND p.starts_on <= %s
          {office_filter}
    ),
    at_point AS (
        SELECT pt.point_id, pt.point_start, b.*,
               ROW_NUMBER() OVER (PARTITION BY pt.point_id, b.indicator_id, b.office_id, b.activity_id
                                  ORDER BY b.reported_on DESC, b.reported_period DESC) AS stream_rank,
               FIRST_VALUE(b.reported_period) OVER (PARTITION BY pt.point_id, b.indicator_id
                                                    ORDER BY b.reported_on DESC, b.reported_period DESC) AS round_period
        FROM points pt JOIN base b ON b.reported_on <= pt.point_start
    ),
    chosen_totals AS (
        SELECT a.*, i.office_rule,
               ROW_NUMBER() OVER (PARTITION BY a.point_id, a.indicator_id
                                  ORDER BY a.reported_on DESC, a.submitted_at DESC NULLS LAST, a.office_id,
                                           a.activity_id) AS recency
        FROM at_point a JOIN {t["indicator"]} i ON i.id = a.indicator_id
        WHERE (i.period_rule = 'cumulative' AND a.stream_rank = 1)
           OR (i.period_rule = 'per_period' AND a.reported_period = a.point_id)
           OR (i.period_rule = 'latest' AND a.reported_period = a.round_period)
    ),
    chosen AS ({rows})
    """  # noqa: S608  # nosec B608  # only table names and fixed fragments are formatted in; values are parameters
    return sql, params


# The target a figure is measured against, of a row joined to its indicator ``i`` and to its period's target
# ``tg``: the period's own when it has one, else the end target; and which of the two it is.
TARGET = "COALESCE(tg.value, i.target_value)"
TARGET_KIND = "CASE WHEN tg.value IS NULL THEN 'end' ELSE 'period' END"
# The share of the way from the baseline to the target, and whether the target is reached, of a row with
# ``value``, ``target``, ``baseline`` and ``direction`` (NULL when there is no value).
SHARE = """CASE WHEN direction = 'maintain' THEN CASE WHEN target <> 0 THEN value * 100.0 / target END
                WHEN target <> baseline THEN (value - baseline) * 100.0 / (target - baseline) END"""
REACHED = "CASE WHEN direction = 'decrease' THEN value <= target ELSE value >= target END"


def _computed_sql(indicators, periods, offices=None, dimension: str | None = None) -> tuple[str, list]:
    """The SQL (common table expressions up to ``combined``) of one figure per indicator, period and
    category, computed from the approved values by the indicator's rule, with its parameters."""
    chosen, params = _chosen_sql(indicators, periods, offices, dimension)
    sql = f"""{chosen},
    combined AS (
        SELECT point_id, indicator_id, category,
               ROUND(CASE office_rule WHEN 'sum' THEN SUM(value) WHEN 'mean' THEN AVG(value)
                     WHEN 'max' THEN MAX(value) ELSE MAX(CASE WHEN recency = 1 THEN value END) END, 2) AS value,
               COUNT(*) AS n_values, COUNT(DISTINCT office_id) AS n_offices,
               SUM(CASE WHEN reported_period = point_id THEN 1 ELSE 0 END) AS n_reported,
               MAX(reported_on) AS latest_reported_on
        FROM chosen GROUP BY point_id, indicator_id, category, office_rule
    )
    """  # noqa: S608  # nosec B608  # only fixed fragments are formatted in; values are parameters
    return sql, params


def _kept_sql(indicators, periods) -> tuple[str, list]:
    """The SQL (a ``combined`` common table expression) of the indicators' total figures as kept by
    ``actionplan.standings``, with its parameters: the same rows ``_computed_sql`` computes."""
    indicator_sql, indicator_params = _indicator_sql(indicators)
    period_ids = [period.pk for period in periods]
    t = _tables()
    sql = f"""WITH combined AS (
        SELECT f.period_id AS point_id, f.indicator_id, '' AS category, f.value, f.value_count AS n_values,
               f.office_count AS n_offices, f.reported_count AS n_reported, f.latest_reported_on
        FROM {t["figure"]} f
        WHERE f.period_id IN ({", ".join(["%s"] * len(period_ids))}) AND f.indicator_id IN ({indicator_sql})
    )
    """  # noqa: S608  # nosec B608  # a table name and placeholders are formatted in; values are parameters
    return sql, [*period_ids, *indicator_params]


def _assessed_sql(indicators, periods, offices=None, dimension: str | None = None, version=None) -> tuple[str, list]:
    """The SQL of one assessed figure per indicator, period and category, with its parameters.

    The totals of all offices are read as kept; a breakdown, or the values of some offices only,
    are computed from the approved values. With a plan ``version``, each figure is assessed against
    the baseline, direction and targets that version holds, and only its indicators are kept.
    """
    if offices is None and dimension is None:
        combined, params = _kept_sql(indicators, periods)
    else:
        combined, params = _computed_sql(indicators, periods, offices, dimension)
    t = _tables()
    if version is None:
        measured = f"{t['indicator']} i ON i.id = f.indicator_id"
        targets = f"{t['target']} tg ON tg.indicator_id = f.indicator_id AND tg.period_id = f.point_id"
    else:
        measured = f"{VersionIndicator._meta.db_table} i ON i.indicator_id = f.indicator_id AND i.version_id = %s"
        targets = (
            f"{VersionPeriodTarget._meta.db_table} tg ON tg.indicator_id = f.indicator_id "
            "AND tg.period_id = f.point_id AND tg.version_id = %s"
        )
        params = [*params, version.pk, version.pk]
    sql = f"""{combined},
    targeted AS (
        SELECT f.*, i.direction, i.baseline_value AS baseline, {TARGET} AS target, {TARGET_KIND} AS target_kind
        FROM combined f
        JOIN {measured}
        LEFT JOIN {targets}
    )
    SELECT point_id, indicator_id, category, value, n_values, n_offices, n_reported, latest_reported_on, target,
           target_kind, {SHARE} AS share, {REACHED} AS reached
    FROM targeted
    """  # noqa: S608  # nosec B608  # only table names and fixed fragments are formatted in; values are parameters
    return sql, params


def insert_computed_sql(indicators, periods) -> tuple[str, list]:
    """The SQL that inserts the indicators' total figures for the periods, computed from the approved
    values, into ``IndicatorFigure``, with its parameters (for ``actionplan.standings``)."""
    computed, params = _computed_sql(indicators, periods)
    t = _tables()
    sql = f"""{computed}
    INSERT INTO {t["figure"]}
        (period_id, indicator_id, value, value_count, office_count, reported_count, latest_reported_on)
    SELECT point_id, indicator_id, value, n_values, n_offices, n_reported, latest_reported_on FROM combined
    """  # noqa: S608  # nosec B608  # a table name is formatted in; values are parameters
    return sql, params


def _date(value) -> date | None:
    # SQLite answers dates as ISO strings.
    return date.fromisoformat(value) if isinstance(value, str) else value


def _decimal(value) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.01"))


def figures(indicators, periods, *, offices=None, dimension: str | None = None, version=None) -> dict[tuple, Figure]:
    """Compute the figures of the indicators for each period, in one query.

    ``indicators`` is a queryset; ``periods`` the reporting periods to compute a figure
    for (each as it stood at that period); ``offices`` limits the values to those
    offices; ``dimension`` gives one figure per category of that breakdown instead of
    the total (``EVERY_DIMENSION``: of every breakdown, in one query); ``version`` (a ``PlanVersion``)
    assesses them against that version's baselines and targets ("as endorsed at"), for its indicators
    only. Keys are (indicator id, period id, category); no key, no figure.
    """
    periods = list(periods)
    if not periods:
        return {}
    sql, params = _assessed_sql(indicators, periods, offices, dimension, version)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    found = {}
    for (
        point,
        indicator,
        category,
        value,
        n_values,
        n_offices,
        n_reported,
        latest,
        target,
        kind,
        share,
        reached,
    ) in rows:
        found[(indicator, point, category)] = Figure(
            indicator_id=indicator,
            period_id=point,
            category=category,
            value=_decimal(value),
            values=n_values,
            offices=n_offices,
            reported=int(n_reported),
            latest_reported_on=_date(latest),
            target=_decimal(target),
            target_kind=kind,
            share=None if share is None else float(share),
            reached=None if reached is None else bool(reached),
        )
    return found


def targets(indicators, periods) -> dict[tuple[int, int], tuple[Decimal, str]]:
    """Per (indicator id, period id): the target the indicator's figure for the period is measured against
    (``TARGET``, as every figure is) and its kind, "period" or "end", whether or not there is a figure; in one
    query."""
    period_ids = [period.pk for period in periods]
    if not period_ids:
        return {}
    indicator_sql, indicator_params = _indicator_sql(indicators)
    t = _tables()
    sql = f"""
    SELECT i.id, p.id, {TARGET}, {TARGET_KIND}
    FROM {t["indicator"]} i
    CROSS JOIN {t["period"]} p
    LEFT JOIN {t["target"]} tg ON tg.indicator_id = i.id AND tg.period_id = p.id
    WHERE i.id IN ({indicator_sql}) AND p.id IN ({", ".join(["%s"] * len(period_ids))})
    """  # noqa: S608  # nosec B608  # only table names and fixed fragments are formatted in; values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, [*indicator_params, *period_ids])
        return {(indicator, period): (_decimal(target), kind) for indicator, period, target, kind in cursor.fetchall()}


def summary_by_area(indicators, period, version=None) -> dict[str, dict]:
    """Per focus area code: how many of the indicators there are (``all``), how many have a figure
    for the period (``with_actual``), how many reached their target (``on_track``), and the average
    share of the target reached (``average_percent``), aggregated in SQL from the kept figures.

    With a plan ``version``, the figures are measured against the baselines, directions and targets
    that version holds (``VersionIndicator``, ``VersionPeriodTarget``), and only the indicators it
    holds are counted: the plan "as endorsed at that version", against live figures.

    The dashboard and the progress reports both count with this, so they always agree.
    """
    indicator_sql, indicator_params = _indicator_sql(indicators)
    t = _tables()
    point = period.pk if period is not None else None
    if version is None:
        source, live, target_table, target_params, version_params = f"{t['indicator']} i", "i", t["target"], "", []
    else:
        source = (
            f"{t['indicator']} li JOIN {VersionIndicator._meta.db_table} i "
            "ON i.indicator_id = li.id AND i.version_id = %s"
        )
        live, target_table, target_params, version_params = "li", VersionPeriodTarget._meta.db_table, (
            " AND tg.version_id = %s"), [version.pk]  # fmt: skip
    summary = f"""
    WITH counted AS (
        SELECT area.code, f.indicator_id AS figured, f.value, i.direction, i.baseline_value AS baseline,
               {TARGET} AS target
        FROM {source}
        LEFT JOIN {t["figure"]} f ON f.indicator_id = {live}.id AND f.period_id = %s
        LEFT JOIN {target_table} tg ON tg.indicator_id = {live}.id AND tg.period_id = %s{target_params}
        LEFT JOIN {t["activity"]} act ON act.id = {live}.activity_id
        JOIN {t["objective"]} o ON o.id = COALESCE({live}.objective_id, act.objective_id)
        JOIN {t["area"]} area ON area.id = o.focus_area_id
        WHERE {live}.id IN ({indicator_sql})
    )
    SELECT code, COUNT(*), COUNT(figured), SUM(CASE WHEN {REACHED} THEN 1 ELSE 0 END), AVG({SHARE})
    FROM counted GROUP BY code
    """  # noqa: S608  # nosec B608  # only table names and fixed fragments are formatted in; values are parameters
    with connection.cursor() as cursor:
        cursor.execute(summary, [*version_params, point, point, *version_params, *indicator_params])
        return {
            code: {
                "all": count,
                "with_actual": with_actual,
                "on_track": int(reached or 0),
                "average_percent": None if average is None else float(average),
            }
            for code, count, with_actual, reached, average in cursor.fetchall()
        }


def contributions(indicators, period, user) -> dict[int, list[dict]]:
    """Per indicator id: the approved values its figure at the period combines, those the user may
    see (a field reporter, its own offices'), with their office and the period each was reported for."""
    if period is None:
        return {}
    chosen, params = _chosen_sql(indicators, [period])
    with connection.cursor() as cursor:
        cursor.execute(f"{chosen} SELECT indicator_id, update_id, value FROM chosen", params)  # noqa: S608  # nosec B608  # values are parameters
        rows = cursor.fetchall()
    visible = {
        row["pk"]: row
        for row in ProgressUpdate.objects.visible_to(user)
        .filter(pk__in=[update_id for _indicator, update_id, _value in rows])
        .values("pk", office_code=F("office__code"), office_name=F("office__name"), period_code=F("period__code"))
    }
    found = defaultdict(list)
    for indicator_id, update_id, value in rows:
        # The database driver may answer a UUID as text.
        update = visible.get(update_id if not isinstance(update_id, str) else uuid.UUID(update_id))
        if update is not None:
            found[indicator_id].append(
                {**update, "value": _decimal(value), "carried": update["period_code"] != period.code}
            )
    for values in found.values():
        values.sort(key=lambda row: row["office_code"])
    return found


def current_period(periods) -> ReportingPeriod | None:
    """The period figures stand at unless another is asked for: the latest open one, else the last.

    ``periods`` are a plan's periods in order of their start.
    """
    periods = list(periods)
    open_periods = [period for period in periods if period.state == ReportingPeriod.State.OPEN]
    return (open_periods or periods or [None])[-1]


def describe(indicator: Indicator, figure: Figure | None) -> str:
    """Say in words how the figure is combined, e.g. "sum of 3 offices' approved values; cumulative"."""
    rule = {
        Indicator.OfficeRule.SUM: _("sum"),
        Indicator.OfficeRule.MEAN: _("mean"),
        Indicator.OfficeRule.MAX: _("largest"),
        Indicator.OfficeRule.LATEST: _("latest reported"),
    }[indicator.office_rule]
    over = {
        Indicator.PeriodRule.PER_PERIOD: _("per period"),
        Indicator.PeriodRule.CUMULATIVE: _("cumulative, an office's last value counting until it reports again"),
        Indicator.PeriodRule.LATEST: _("the latest reporting round"),
    }[indicator.period_rule]
    if figure is None:
        return _("%(rule)s of the offices' approved values; %(over)s") % {"rule": rule, "over": over}
    values = ngettext("%(values)d approved value", "%(values)d approved values", figure.values) % {
        "values": figure.values
    }
    offices = ngettext("%(offices)d office", "%(offices)d offices", figure.offices) % {"offices": figure.offices}
    return _("%(rule)s of %(values)s from %(offices)s; %(over)s") % {
        "rule": rule,
        "values": values,
        "offices": offices,
        "over": over,
    }


@dataclass
class Series:
    """An indicator's figures over periods, shaped for a chart and its table."""

    indicator: Indicator
    points: list[dict]
    current: Figure | None
    has_period_targets: bool

    def chart(self) -> dict:
        gap = [point["figure"] is None or point["figure"].is_gap for point in self.points]
        return {
            "periods": [point["period"].code for point in self.points],
            # Nothing reported for a period: a gap in the line, never a drop.
            "actuals": [
                None if is_gap else float(point["figure"].value) for point, is_gap in zip(self.points, gap, strict=True)
            ],
            "carried": [
                0 if point["figure"] is None else point["figure"].values - point["figure"].reported
                for point in self.points
            ],
            "targets": [None if point["target"] is None else float(point["target"]) for point in self.points],
            "baseline": float(self.indicator.baseline_value),
            "target": float(self.indicator.target_value),
            "unit": self.indicator.unit,
            "measure": self.indicator.measure,
            "breakdown": {},
        }


def series(indicators: list[Indicator], periods: list[ReportingPeriod], current: ReportingPeriod | None) -> dict:
    """Per indicator code, its figures over the periods (up to ``current``) and its figure at ``current``.

    Two queries: the figures, and the period targets.
    """
    if not indicators:
        return {}
    shown = [period for period in periods if current is None or period.starts_on <= current.starts_on]
    queryset = Indicator.objects.filter(pk__in=[indicator.pk for indicator in indicators])
    found = figures(queryset, shown)
    targets = {
        (row.indicator_id, row.period_id): row.value
        for row in PeriodTarget.objects.filter(indicator__in=queryset, period__in=shown)
    }
    result = {}
    for indicator in indicators:
        points = [
            {
                "period": period,
                "figure": found.get((indicator.pk, period.pk, TOTAL)),
                "target": targets.get((indicator.pk, period.pk)),
            }
            for period in shown
        ]
        # Start the chart at the first period anything was reported for.
        while points and points[0]["figure"] is None:
            points.pop(0)
        result[indicator.code] = Series(
            indicator=indicator,
            points=points,
            current=found.get((indicator.pk, current.pk, TOTAL)) if current else None,
            has_period_targets=any(pk == indicator.pk for pk, _period in targets),
        )
    return result


def _category_labels(dimension: str, categories: set[str]) -> dict[str, str]:
    if dimension == "sex":
        return {code: str(label) for code, label in Measurement.Sex.choices}
    if dimension == "country" and categories:
        rows = Country.objects.filter(iso3__in=categories).values_list("iso3", "iso2", "name")
        return {iso3: countries.country_name(iso2, default=name) for iso3, iso2, name in rows}
    return {}


def breakdowns(indicators: list[Indicator], periods: list[ReportingPeriod], current: ReportingPeriod | None) -> dict:
    """Per indicator code and dimension it is broken down by: each category's figure per period (up to
    ``current``) and at ``current``. One query for every dimension at once (the values that stand are
    chosen once, on the totals), and one for the countries' names when a breakdown is by country."""
    result = defaultdict(dict)
    in_use = {indicator.pk: {dimension.key for dimension in dimensions.of(indicator)} for indicator in indicators}
    if current is None or not any(in_use.values()):
        return result
    shown = [period for period in periods if period.starts_on <= current.starts_on]
    queryset = Indicator.objects.filter(pk__in=[pk for pk, keys in in_use.items() if keys])
    by_dimension = defaultdict(dict)
    for (pk, period_id, tagged), figure in figures(queryset, shown, dimension=EVERY_DIMENSION).items():
        key, category = tagged.split(":", 1)
        by_dimension[key][(pk, period_id, category)] = figure
    for key in sorted(set().union(*in_use.values())):
        found = by_dimension[key]
        labels = _category_labels(key, {category for (_i, _p, category) in found})
        for indicator in indicators:
            if key not in in_use[indicator.pk]:
                continue
            categories = sorted({category for (pk, _p, category) in found if pk == indicator.pk})
            by_period = {
                labels.get(category, category): [
                    None if (figure := found.get((indicator.pk, period.pk, category))) is None else figure.value
                    for period in shown
                ]
                for category in categories
            }
            result[indicator.code][key] = {
                "label": dimensions.DIMENSIONS[key].label,
                "periods": [period.code for period in shown],
                "by_period": by_period,
                "current": [(category, values[-1]) for category, values in by_period.items() if values[-1] is not None],
            }
    return result
