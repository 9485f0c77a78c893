"""Template filters for rendering report snapshots."""

import datetime

from django import template
from django.utils.html import format_html

from actionplan.templatetags.figure_tags import show_figure
from portal import dates, numbers

register = template.Library()


@register.filter
def get(mapping, key):
    """Look a key up in a dictionary: ``{{ names.rag|get:row.rag }}``."""
    if mapping is None:
        return ""
    return mapping.get(key, "")


@register.filter
def number(value, digits=2):
    """Show a snapshot number as the pages do (the language's signs, no trailing zeros), or a dash."""
    if value is None or value == "":
        return "–"
    if isinstance(value, str):
        return value
    return numbers.show(value, digits=int(digits))


@register.filter
def row_figure(value, row):
    """Show an indicator's figure (or baseline, target) of a snapshot row as its pages show it."""
    return show_figure(value, row.get("measure", "number"), row.get("office_rule", "sum"))


@register.filter
def iso_day(value, width="day"):
    """Show a snapshot's ISO date in the active language (``width``: day, weekday, short), or a dash."""
    if not value:
        return "–"
    return dates.show_date(datetime.date.fromisoformat(value[:10]), width)


@register.filter
def iso_moment(value):
    """Show a snapshot's ISO date and time in the active language, in the portal's time zone, or a dash."""
    if not value:
        return "–"
    return dates.show_datetime(datetime.datetime.fromisoformat(value))


@register.filter
def bidi_isolate(value):
    """Keep a code or number in its own direction inside a sentence of the other, in a PDF.

    WeasyPrint ignores ``unicode-bidi`` (so ``<bdi>`` too), but Pango honours Unicode's own
    isolates: FIRST STRONG ISOLATE … POP DIRECTIONAL ISOLATE, invisible in the text.
    """
    return format_html("\u2068{}\u2069", value)
