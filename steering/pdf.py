"""Render a meeting's record as PDF with WeasyPrint, in a language (right to left for Arabic)."""

from django.template.loader import render_to_string
from django.utils import timezone, translation

from . import signoff
from .reports import languages


def meeting_record_html(meeting, *, earlier_open, language: str) -> str:
    """Return the HTML of the meeting's record in the language, as handed to WeasyPrint."""
    with translation.override(language):
        direction = languages.direction(language)
        return render_to_string(
            "steering/meeting_record_pdf.html",
            {
                "meeting": meeting,
                # The signatures that approved the minutes (none while they are not approved).
                "signatures": _approving_signatures(meeting),
                "attendees": meeting.attendees.order_by("username"),
                "reviews": meeting.reviews.select_related("focus_area").order_by("focus_area__order"),
                "decisions": meeting.decisions.select_related("focus_area").order_by("number"),
                "items": meeting.action_items.select_related("owner_user", "owner_office").order_by("due_on"),
                "earlier_open": earlier_open,
                "printed_at": timezone.now(),
                "language": language,
                "direction": direction,
                "end_side": "left" if direction == "rtl" else "right",
            },
        )


def _approving_signatures(meeting) -> list:
    if meeting.minutes_approved_at is None:
        return []
    latest = signoff.current_round(meeting)
    return list(latest.signatures.select_related("signer").order_by("signed_at")) if latest else []


def meeting_record_pdf(meeting, *, earlier_open, language: str) -> bytes:
    """Return the meeting's agenda, reviews, decisions and action items as a PDF in the language."""
    import weasyprint  # loaded on demand: it pulls in pango through cffi

    return weasyprint.HTML(
        string=meeting_record_html(meeting, earlier_open=earlier_open, language=language)
    ).write_pdf()
