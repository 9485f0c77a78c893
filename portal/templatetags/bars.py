"""The width of a progress bar as a class of portal.css, since the Content-Security-Policy refuses
inline style="" attributes."""

from django import template

register = template.Library()


@register.filter
def bar_width(percent) -> str:
    """Return the class that draws a bar ``percent`` wide: whole percents from 0 to 100, beyond clamped."""
    try:
        whole = round(float(percent))
    except (TypeError, ValueError):
        whole = 0
    return f"bar-{min(100, max(0, whole))}"
