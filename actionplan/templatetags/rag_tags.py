"""A RAG rating as every page shows it (its coloured label, or "not reported"), and an update's state."""

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext as _

from actionplan.models import RAG, ProgressUpdate

register = template.Library()


@register.simple_tag
def rag(value):
    """``{% rag update.rag %}``: a tag rather than an included template, since the register, the queue and the
    homes show one per row, and an include costs a template render each."""
    if value in RAG.values:
        return format_html('<span class="rag rag-{}">{}</span>', value, RAG(value).label)
    return format_html('<span class="text-body-secondary">{}</span>', _("not reported"))


STATE_BADGES = {
    ProgressUpdate.State.APPROVED: "text-bg-success",
    ProgressUpdate.State.SUBMITTED: "text-bg-primary",
    ProgressUpdate.State.RETURNED: "text-bg-warning",
}


@register.filter
def state_label(value) -> str:
    """``{{ pair.update_state|state_label }}``: an update's state, read as its stored value (an annotation), in
    the reader's language; nothing for none."""
    return ProgressUpdate.State(value).label if value else ""


@register.simple_tag
def state(update):
    """``{% state update %}``: the update's state as a coloured badge; a tag, as ``rag`` is, since the activity
    page, the home and the lists of updates show one per row."""
    badge = STATE_BADGES.get(update.state, "text-bg-secondary")
    return format_html('<span class="badge state-badge {}">{}</span>', badge, update.get_state_display())
