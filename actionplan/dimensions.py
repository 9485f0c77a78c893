"""The dimensions indicator values can be broken down by: sex, age band, country.

An indicator names the dimensions it uses (``Indicator.dimensions``); a measurement row
is either the total (no dimension) or one category of one dimension. A breakdown by an
exhaustive dimension must add up to the total; one by a dimension that may leave people
out (countries beyond those listed) must not exceed it.
"""

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from portal.models import Country

from .models import Measurement


@dataclass(frozen=True)
class Dimension:
    key: str
    label: str
    # The Measurement field that holds the category.
    field: str
    exhaustive: bool

    def categories(self, countries=()) -> list[tuple[str, str]]:
        """The (code, label) categories of the dimension; for countries, those given (an activity's)."""
        if self.key == "sex":
            return [(code, label) for code, label in Measurement.Sex.choices if code]
        if self.key == "age":
            return [(band, band) for band in settings.AGE_BANDS]
        return [(country.iso3, country.display_name) for country in countries]

    def category_of(self, measurement) -> str:
        """The category code a measurement row stands for ("" for a total)."""
        if self.key == "country":
            return measurement.country.iso3 if measurement.country_id else ""
        return getattr(measurement, self.field)


DIMENSIONS = {
    "sex": Dimension("sex", _("sex"), "sex", exhaustive=True),
    "age": Dimension("age", _("age band"), "age_band", exhaustive=True),
    "country": Dimension("country", _("country"), "country", exhaustive=False),
}


def choices() -> list[tuple[str, str]]:
    return [(dimension.key, dimension.label) for dimension in DIMENSIONS.values()]


def of(indicator) -> list[Dimension]:
    """The dimensions an indicator is broken down by, in a fixed order (keys it does not know, left out)."""
    named = indicator.dimensions if isinstance(indicator.dimensions, list) else []
    return [dimension for key, dimension in DIMENSIONS.items() if key in named]


def row_fields(dimension: Dimension, category: str, countries: dict[str, Country]) -> dict:
    """The Measurement fields of one category of one dimension."""
    if dimension.key == "country":
        return {"country": countries[category]}
    return {dimension.field: category}


def breakdown_of(measurements) -> tuple[dict, dict]:
    """Split an update's measurement rows into totals {indicator_id: row} and breakdowns
    {indicator_id: {dimension key: {category: value}}}."""
    totals, breakdowns = {}, {}
    for row in measurements:
        dimension = next(
            (d for d in DIMENSIONS.values() if d.category_of(row)),
            None,
        )
        if dimension is None:
            totals[row.indicator_id] = row
        else:
            breakdowns.setdefault(row.indicator_id, {}).setdefault(dimension.key, {})[dimension.category_of(row)] = (
                row.value
            )
    return totals, breakdowns
