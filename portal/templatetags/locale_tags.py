"""Show dates, numbers and the plan's fixed names in the active language.

``{{ update.submitted_at|moment }}`` · ``{{ meeting.date|day }}`` · ``{{ share|percent }}`` ·
``{{ area.name|fixed }}`` · ``{{ activity.code|isolate }}``
"""

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext

from portal import dates, numbers

register = template.Library()


@register.filter
def day(value):
    """A date in the language: 30 November 2026, 30 novembre 2026, 2026年11月30日."""
    return dates.show_date(value)


@register.filter
def weekday(value):
    """A date with its day of the week: Monday 30 November 2026."""
    return dates.show_date(value, "weekday")


@register.filter
def short_day(value):
    """A date in a narrow column: 30 Nov 2026."""
    return dates.show_date(value, "short")


@register.filter
def moment(value):
    """A date and time to the minute, in the portal's time zone."""
    return dates.show_datetime(value)


@register.filter
def month(value):
    """A month and its year: November 2026."""
    return dates.show_month(value)


@register.filter
def percent(value, digits=1):
    """A percentage (45.5 for 45.5 %) with the language's sign and spacing."""
    return numbers.percent(value, digits=int(digits))


@register.filter
def fixed(name):
    """A fixed name of the plan (a focus area, a reference objective) in the language, from the catalogue;
    a name a user typed, which the catalogue does not hold, as it was entered."""
    return gettext(name) if name else name


@register.filter
def isolate(value):
    """Keep a code or number in its own direction inside a sentence of the other (``<bdi>``)."""
    return format_html("<bdi>{}</bdi>", value)


@register.filter
def written(text, language=""):
    """Text a user typed, marked with the language it was written in where known (``lang``) and its own
    direction (``dir="auto"``), so a screen reader voices it rightly and it reads in its order in any page."""
    if language:
        return format_html('<span lang="{}" dir="auto">{}</span>', language, text)
    return format_html('<span dir="auto">{}</span>', text)
