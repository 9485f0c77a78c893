"""Render a meeting's record as PDF with WeasyPrint."""

from django.template.loader import render_to_string
from django.utils import timezone


def meeting_record_pdf(meeting, *, earlier_open) -> bytes:
    """Return the meeting's agenda, reviews, decisions and action items as a PDF."""
    import weasyprint  # loaded on demand: it pulls in pango through cffi

    html = render_to_string(
        "steering/meeting_record_pdf.html",
        {
            "meeting": meeting,
            "attendees": meeting.attendees.order_by("username"),
            "reviews": meeting.reviews.select_related("focus_area").order_by("focus_area__order"),
            "decisions": meeting.decisions.select_related("focus_area").order_by("number"),
            "items": meeting.action_items.select_related("owner_user", "owner_office").order_by("due_on"),
            "earlier_open": earlier_open,
            "printed_at": timezone.now(),
        },
    )
    return weasyprint.HTML(string=html).write_pdf()
