"""Dates and times as each language writes them, from CLDR through Babel.

Times are shown in the portal's time zone (``TIME_ZONE``), as Django's own filters would.
"""

import datetime

from babel.dates import format_date, format_skeleton, format_time
from django.utils import timezone

from .numbers import locale_of

# How much of a date each kind of display shows, as CLDR widths.
WIDTHS = {"day": "long", "weekday": "full", "short": "medium"}


def show_date(value, width: str = "day", language: str | None = None) -> str:
    """A date (or a datetime's day) in the language: 30 November 2026, 30 novembre 2026, 2026年11月30日."""
    if value in (None, ""):
        return ""
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        value = value.date()
    return format_date(value, WIDTHS[width], locale=locale_of(language))


def show_datetime(value, language: str | None = None) -> str:
    """A moment in the language, to the minute, in the portal's time zone: 30 November 2026, 14:05."""
    if value in (None, ""):
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    locale = locale_of(language)
    # The language's own way of joining a long date and a time ("{1}, {0}", "{1} {0}", "{1} г., {0}").
    joined = locale.datetime_formats["medium"]
    day, time = format_date(value, "long", locale=locale), format_time(value, "short", locale=locale)
    return str(joined).replace("{1}", day).replace("{0}", time)


def show_month(value, language: str | None = None) -> str:
    """A month and year in the language: November 2026, novembre 2026."""
    if value in (None, ""):
        return ""
    return format_skeleton("yMMMM", value, locale=locale_of(language))
