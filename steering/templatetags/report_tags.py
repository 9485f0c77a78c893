"""Template filters for rendering report snapshots."""

from django import template

from actionplan.templatetags.figure_tags import show_figure
from portal import numbers

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
