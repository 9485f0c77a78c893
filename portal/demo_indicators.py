"""The demo's indicators: every way a figure can combine, and values that behave as each kind does.

Each kind is a real indicator of the plan's sort, with the rule an officer would give it:
people trained are counted as a running total summed over offices and broken down by sex
and age; seizures are counted per quarter against quarterly targets; the time taken to
answer a request should fall; a national strategy is adopted or not.
"""

import random
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from django.conf import settings

from actionplan.models import Indicator, PeriodTarget

M, OR, P = Indicator.Measure, Indicator.OfficeRule, Indicator.PeriodRule
WHOLE, CENTS = Decimal(1), Decimal("0.01")
# Breakdowns were asked for from the last periods on; earlier reports gave totals only.
PERIODS_WITH_BREAKDOWNS = 4


@dataclass(frozen=True)
class Kind:
    name: str
    unit: str
    measure: str
    office_rule: str
    period_rule: str
    baseline: tuple[int, int]
    # How far the end target lies from the baseline (below it for a decrease).
    span: tuple[int, int]
    direction: str = Indicator.Direction.INCREASE
    dimensions: tuple[str, ...] = ()
    # Per-period indicators get a target for each period (but every fourth, left without).
    period_targets: bool = False

    def fields(self, rng: random.Random) -> dict:
        baseline = Decimal(rng.randrange(*self.baseline))
        span = Decimal(rng.randrange(*self.span))
        target = baseline - span if self.direction == Indicator.Direction.DECREASE else baseline + span
        if self.measure == M.PERCENTAGE:
            target = min(target, Decimal(100))
        if self.measure == M.YES_NO:
            baseline, target = Decimal(0), Decimal(1)
        return {
            "name": self.name,
            "unit": self.unit,
            "measure": self.measure,
            "office_rule": self.office_rule,
            "period_rule": self.period_rule,
            "direction": self.direction,
            "dimensions": list(self.dimensions),
            "baseline_value": baseline,
            "target_value": target,
        }


ACTIVITY_KINDS = [
    Kind("Officers trained", "officers", M.NUMBER, OR.SUM, P.CUMULATIVE, (0, 20), (20, 200), dimensions=("sex", "age")),
    Kind("Seizures reported", "cases", M.NUMBER, OR.SUM, P.PER_PERIOD, (0, 10), (10, 60), period_targets=True),
    Kind(
        "Database queries at the frontline",
        "queries",
        M.NUMBER,
        OR.SUM,
        P.PER_PERIOD,
        (0, 50),
        (100, 900),
        dimensions=("country",),
    ),
    Kind("Cases referred for prosecution", "cases", M.NUMBER, OR.SUM, P.CUMULATIVE, (0, 10), (10, 80)),
    Kind("Countries with procedures adopted", "countries", M.NUMBER, OR.MAX, P.LATEST, (0, 3), (2, 8)),
    Kind(
        "Share of participants rating the training useful",
        "%",
        M.PERCENTAGE,
        OR.MEAN,
        P.PER_PERIOD,
        (50, 70),
        (10, 30),
        dimensions=("sex",),
        period_targets=True,
    ),
    Kind(
        "Days taken to answer a request for assistance",
        "days",
        M.NUMBER,
        OR.MEAN,
        P.LATEST,
        (40, 90),
        (15, 35),
        direction=Indicator.Direction.DECREASE,
    ),
    Kind("Standard operating procedures in force", "yes/no", M.YES_NO, OR.MAX, P.LATEST, (0, 1), (1, 2)),
]
# An objective's own indicators are reported once a period, for the whole objective.
OBJECTIVE_KINDS = [
    Kind("Countries with a national strategy adopted", "countries", M.NUMBER, OR.LATEST, P.LATEST, (0, 10), (10, 40)),
    Kind("Share of border posts connected to I-24/7", "%", M.PERCENTAGE, OR.LATEST, P.LATEST, (20, 50), (20, 45)),
    Kind("Regional cooperation framework adopted", "yes/no", M.YES_NO, OR.LATEST, P.LATEST, (0, 1), (1, 2)),
]
KINDS = {kind.name: kind for kind in [*ACTIVITY_KINDS, *OBJECTIVE_KINDS]}


def value(indicator: Indicator, *, progress: Decimal, offices: int, rng: random.Random) -> Decimal:
    """One office's value, ``progress`` of the way from the baseline to the target (more than 1: beyond).

    A count summed over offices is each office's share of it; a count or share per period
    varies around that level; levels, shares and days are the office's own.
    """
    kind = KINDS[indicator.name]
    baseline, target = indicator.baseline_value, indicator.target_value
    if kind.measure == M.YES_NO:
        return Decimal(1) if progress > Decimal("0.6") else Decimal(0)
    level = baseline + (target - baseline) * progress
    if kind.period_rule == P.PER_PERIOD:
        # A period's own count or share varies from one period to the next.
        level *= Decimal(0.8 + rng.random() * 0.4)
    if kind.office_rule == OR.SUM:
        level /= offices
    if kind.measure == M.PERCENTAGE:
        level = min(max(level + Decimal(rng.uniform(-4, 4)), Decimal(0)), Decimal(100))
        return level.quantize(CENTS)
    # Counts are whole; days may have decimals.
    return max(level, Decimal(0)).quantize(WHOLE if kind.unit != "days" else CENTS)


class Part(NamedTuple):
    """One category's value in a breakdown: a measurement row beside the total's."""

    value: Decimal
    sex: str = ""
    age_band: str = ""
    country: int | None = None  # the country's primary key


def breakdown(indicator: Indicator, total: Decimal, rng: random.Random, countries) -> list[Part]:
    """The parts of a total's breakdown: sex and age add up to it, countries to at most it."""
    rows = []
    for key in indicator.dimensions:
        if key == "sex" and indicator.measure == M.NUMBER:
            female = (total * Decimal(rng.uniform(0.25, 0.5))).quantize(WHOLE)
            unknown = (total * Decimal(rng.uniform(0, 0.05))).quantize(WHOLE)
            parts = {"female": female, "unknown": unknown, "male": total - female - unknown}
            rows += [Part(value, sex=sex) for sex, value in parts.items() if value]
        elif key == "sex":
            # A share (rating the training useful) as women and men rated it.
            for sex in ("female", "male"):
                share = min(max(total + Decimal(rng.uniform(-6, 6)), Decimal(0)), Decimal(100)).quantize(CENTS)
                rows.append(Part(share, sex=sex))
        elif key == "age":
            weights = [rng.random() * (0.2 if index == 0 else 1) for index in range(len(settings.AGE_BANDS))]
            left = total
            for index, band in enumerate(settings.AGE_BANDS):
                last = index == len(settings.AGE_BANDS) - 1
                part = left if last else min(left, (total * Decimal(weights[index] / sum(weights))).quantize(WHOLE))
                left -= part
                if part:
                    rows.append(Part(part, age_band=band))
        elif key == "country" and countries:
            left = total
            for country in countries:
                part = min(left, (total * Decimal(rng.uniform(0.2, 0.6))).quantize(WHOLE))
                left -= part
                if part:
                    rows.append(Part(part, country=country.pk))
    return rows


def period_targets(indicator: Indicator, periods) -> list[PeriodTarget]:
    """Targets for each period of a per-period indicator, rising to its end target; every fourth left out."""
    if not KINDS[indicator.name].period_targets:
        return []
    start, end = indicator.baseline_value, indicator.target_value
    return [
        PeriodTarget(
            indicator=indicator,
            period=period,
            value=(start + (end - start) * Decimal(index + 1) / len(periods)).quantize(WHOLE),
        )
        for index, period in enumerate(periods)
        if index % 4 != 3
    ]
