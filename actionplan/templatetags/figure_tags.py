"""Show indicator figures the one way: numbers in the language's form, percentages, yes or no."""

from django import template
from django.utils.translation import gettext as _

from portal import numbers

register = template.Library()


def show_figure(value, measure: str, office_rule: str) -> str:
    """Write a figure as its indicator measures it: 1,234.5 · 45 % · yes (a share of yes for a mean)."""
    if value is None or value == "":
        return "–"
    if measure == "yes_no" and office_rule in ("max", "latest"):
        return _("yes") if value >= 1 else _("no")
    if measure == "percentage" or (measure == "yes_no" and office_rule == "mean"):
        return numbers.percent(value * (100 if measure == "yes_no" else 1), digits=2)
    return numbers.show(value)


@register.filter
def figure(value, indicator):
    """``{{ indicator.figure.value|figure:indicator }}``"""
    return show_figure(value, indicator.measure, indicator.office_rule)


@register.filter
def number(value, digits=2):
    """A number in the active language's form, or a dash."""
    return numbers.show(value, digits=int(digits))


@register.simple_tag
def number_example():
    """How the active language writes 1234.5."""
    return numbers.example()
