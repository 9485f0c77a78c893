"""Shape indicator figures for the pages: the headline figure, its chart, how it was combined.

Every number comes from ``actionplan.figures``; this module only arranges them.
"""

from django.utils.translation import gettext as _

from . import figures
from .models import Indicator, ReportingPeriod


def chart_labels() -> dict:
    return {
        "actual": _("Figure"),
        "target": _("End target"),
        "period_target": _("Period target"),
        "baseline": _("Baseline"),
        "carried": _("values carried forward from earlier periods"),
        "gap": _("nothing reported for this period"),
    }


def period_from_query(query, plan) -> tuple[ReportingPeriod | None, list[ReportingPeriod], str]:
    """The period figures are shown at (``?period=``, else the current one), the plan's periods, and a
    notice when the asked-for period is unknown."""
    periods = list(ReportingPeriod.objects.filter(plan=plan).order_by("starts_on"))
    code = query.get("period")
    chosen = next((period for period in periods if period.code == code), None) if code else None
    notice = _("Unknown period %(code)s: showing the current period.") % {"code": code} if code and not chosen else ""
    return chosen or figures.current_period(periods), periods, notice


def attach_figures(indicators: list[Indicator], *, periods, period, user) -> dict:
    """Give each indicator its figure at the period, how it is combined, the approved values behind
    it the user may see, and its breakdown; return the chart data by indicator code.

    A fixed number of queries: figures, targets, the values behind them (two), and one per
    breakdown dimension in use.
    """
    if not indicators:
        return {}
    found = figures.series(indicators, periods, period)
    queryset = Indicator.objects.filter(pk__in=[indicator.pk for indicator in indicators])
    behind = figures.contributions(queryset, period, user)
    split = figures.breakdowns(indicators, periods, period)
    chart = {}
    for indicator in indicators:
        series = found[indicator.code]
        indicator.figure = series.current
        indicator.how = figures.describe(indicator, series.current)
        indicator.has_period_targets = series.has_period_targets
        indicator.behind = behind.get(indicator.pk, [])
        indicator.reported_by = [row["office_code"] for row in indicator.behind if not row["carried"]]
        indicator.carried_from = [
            f"{row['office_code']} ({row['period_code']})" for row in indicator.behind if row["carried"]
        ]
        indicator.hidden_offices = (series.current.values if series.current else 0) - len(indicator.behind)
        indicator.breakdown = split.get(indicator.code, {})
        chart[indicator.code] = series.chart()
        chart[indicator.code]["breakdown"] = {
            key: {
                "label": str(part["label"]).capitalize(),
                "periods": part["periods"],
                "series": {
                    category: [None if value is None else float(value) for value in values]
                    for category, values in part["by_period"].items()
                },
            }
            for key, part in indicator.breakdown.items()
        }
    return chart
