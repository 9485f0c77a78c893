"""Shape indicator actuals for Chart.js: one series per indicator, one point per period."""

from django.utils.translation import gettext as _

from .models import Measurement, ProgressUpdate


def approved_measurements(**filters):
    """Approved measurements matching the filters, in period order, with their period."""
    return list(
        Measurement.objects.filter(update__state=ProgressUpdate.State.APPROVED, **filters)
        .select_related("update__period")
        .order_by("update__period__starts_on")
    )


def indicator_series(indicators, measurements) -> dict:
    """Per indicator: approved actuals per period with its baseline and target."""
    series = {indicator.pk: {} for indicator in indicators}
    for measurement in measurements:
        if measurement.indicator_id in series:
            series[measurement.indicator_id].setdefault(measurement.update.period.code, []).append(
                float(measurement.value)
            )
    return {
        indicator.code: {
            "periods": list(series[indicator.pk]),
            # Several offices may report on one indicator: the period's figure is their sum.
            "actuals": [sum(values) for values in series[indicator.pk].values()],
            "baseline": float(indicator.baseline_value),
            "target": float(indicator.target_value),
            "unit": indicator.unit,
        }
        for indicator in indicators
    }


def chart_labels() -> dict:
    return {"actual": _("Actual"), "target": _("Target"), "baseline": _("Baseline")}


def attach_latest_actuals(indicators, series):
    for indicator in indicators:
        actuals = series[indicator.code]["actuals"]
        indicator.latest_actual = actuals[-1] if actuals else None
