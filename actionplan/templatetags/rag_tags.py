"""A RAG rating as every page shows it: its coloured label, or "not reported"."""

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext as _

from actionplan.models import RAG

register = template.Library()


@register.simple_tag
def rag(value):
    """``{% rag update.rag %}``: a tag rather than an included template, since the register, the queue and the
    homes show one per row, and an include costs a template render each."""
    if value in RAG.values:
        return format_html('<span class="rag rag-{}">{}</span>', value, RAG(value).label)
    return format_html('<span class="text-body-secondary">{}</span>', _("not reported"))
