"""Shape an indicator's figures for the API: the one rule of ``actionplan.figures``, as JSON."""

from actionplan import dimensions, figures


def _figure(figure, period_code: str, period_codes: dict) -> dict:
    if figure is None:
        return {
            "period": period_code, "value": None, "target": None, "target_kind": None, "percent_of_target": None,
            "target_reached": None, "values": 0, "offices": 0, "reported_in_period": 0, "latest_values_of": None,
        }  # fmt: skip
    return {
        "period": period_code,
        "value": figure.value,
        "target": figure.target,
        "target_kind": figure.target_kind,
        "percent_of_target": figure.share,
        "target_reached": figure.reached,
        "values": figure.values,
        "offices": figure.offices,
        "reported_in_period": figure.reported,
        "latest_values_of": period_codes.get(figure.latest_reported_on),
    }


def indicator_figures(indicator, *, periods, period, offices=None) -> dict:
    """The indicator's figure at the period, its figures at each period up to it, and its breakdown at it.

    Three queries, and one per dimension the indicator is broken down by.
    """
    shown = [p for p in periods if period is None or p.starts_on <= period.starts_on]
    queryset = type(indicator).objects.filter(pk=indicator.pk)
    found = figures.figures(queryset, shown, offices=offices)
    period_codes = {p.starts_on: p.code for p in periods}

    def at(point):
        return _figure(found.get((indicator.pk, point.pk, figures.TOTAL)), point.code, period_codes)

    breakdown = {}
    for key in (dimension.key for dimension in dimensions.of(indicator)):
        split = figures.figures(queryset, [period], offices=offices, dimension=key) if period else {}
        breakdown[key] = [
            {"category": category, "value": figure.value} for (_i, _p, category), figure in sorted(split.items())
        ]
    current = found.get((indicator.pk, period.pk, figures.TOTAL)) if period else None
    return {
        "indicator": indicator.code,
        "rule": figures.describe(indicator, current),
        "figure": at(period) if period else _figure(None, None, period_codes),
        "series": [at(point) for point in shown],
        "breakdown": breakdown,
    }
