"""Template filters for rendering report snapshots."""

from django import template

register = template.Library()


@register.filter
def get(mapping, key):
    """Look a key up in a dictionary: ``{{ names.rag|get:row.rag }}``."""
    if mapping is None:
        return ""
    return mapping.get(key, "")


@register.filter
def number(value, digits=2):
    """Show a snapshot number without trailing zeros, or a dash when there is none."""
    if value is None or value == "":
        return "–"
    if isinstance(value, float) and value.is_integer():
        return f"{int(value):,}"
    if isinstance(value, float):
        return f"{value:,.{int(digits)}f}".rstrip("0").rstrip(".")
    return f"{value:,}" if isinstance(value, int) else value
